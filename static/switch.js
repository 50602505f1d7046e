// The lock switch and the knobs: the lesson box shows the chosen strategy's
// texts, which each radio button carries (data-lesson, data-breaks, …), with
// no round trip; a knob the strategy ignores is disabled; a strategy that
// stops (or starts) being available is greyed out (or back) as the service
// says; `settings` reads the switch and the knobs for a request.

// Shows the chosen strategy, and on every change the new one. Returns
// `{ showAvailability(entries) }`, which takes GET /api/strategies' answer.
export function startSwitch(form) {
  const lesson = {
    box: document.getElementById("lesson"),
    badge: document.getElementById("lesson-badge"),
    name: document.getElementById("lesson-name"),
    title: document.getElementById("lesson-title"),
    text: document.getElementById("lesson-text"),
    breaks: document.getElementById("lesson-breaks"),
    unavailable: document.getElementById("lesson-unavailable"),
  };
  const ttl = form.elements.ttl_ms;
  const deadline = form.elements.deadline_ms;

  function showStrategy(input) {
    const d = input.dataset;
    if (lesson.box) {
      lesson.box.className = `lesson ${d.safety}`;
      lesson.badge.textContent = d.badge;
      lesson.name.textContent = `lock=${input.value}`;
      lesson.title.textContent = d.label;
      lesson.text.textContent = d.lesson;
      lesson.breaks.textContent = d.breaks;
      lesson.unavailable.textContent = d.unavailable ? `Unavailable: ${d.unavailable}` : "";
      lesson.unavailable.hidden = !d.unavailable;
    }
    // A strategy without a TTL ignores ttl_ms, one that never waits for a
    // lock ignores deadline_ms: grey them out, send nothing.
    if (ttl) ttl.disabled = d.usesTtl === "false";
    if (deadline) deadline.disabled = d.usesDeadline === "false";
  }

  // Only the chosen strategy stays selectable while unavailable (the
  // service then says why it cannot sell), as the server renders it.
  function lockUnavailable() {
    for (const input of form.querySelectorAll('input[name="lock"]')) {
      input.disabled = Boolean(input.dataset.unavailable) && !input.checked;
    }
  }

  function showAvailability(entries) {
    if (!Array.isArray(entries)) return;
    for (const entry of entries) {
      const input = [...form.querySelectorAll('input[name="lock"]')].find((i) => i.value === entry.name);
      if (!input) continue;
      const reason = entry.available ? "" : entry.unavailable_reason || "not available right now";
      if ((input.dataset.unavailable || "") === reason) continue;
      if (reason) input.dataset.unavailable = reason;
      else delete input.dataset.unavailable;
      const option = input.closest(".lock-option");
      if (option) {
        option.classList.toggle("is-unavailable", Boolean(reason));
        let note = option.querySelector(".lock-reason");
        if (reason && !note) {
          note = document.createElement("span");
          note.className = "lock-reason";
          option.append(note);
        }
        if (reason) note.textContent = `Unavailable: ${reason}`;
        else if (note) note.remove();
      }
      if (input.checked) showStrategy(input);
    }
    lockUnavailable();
  }

  form.addEventListener("change", (event) => {
    if (event.target.name === "lock") {
      showStrategy(event.target);
      lockUnavailable();
    }
  });
  const chosen = form.querySelector('input[name="lock"]:checked');
  if (chosen) showStrategy(chosen);
  return { showAvailability };
}

// A knob's text as typed ("" when unset, or when its field is disabled);
// the service checks it and says what is wrong.
function knob(form, name) {
  const field = form.elements[name];
  return field && !field.disabled ? field.value.trim() : "";
}

// The lock chosen, the knobs as typed, and the crowd's size and stock.
export function settings(form) {
  const lock = form.querySelector('input[name="lock"]:checked');
  return {
    lock: lock ? lock.value : null,
    knobs: {
      work_ms: knob(form, "work_ms"),
      pause_ms: knob(form, "pause_ms"),
      ttl_ms: knob(form, "ttl_ms"),
      deadline_ms: knob(form, "deadline_ms"),
    },
    buyers: Number(form.elements.buyers.value),
    stock: Number(form.elements.stock.value),
    restockFirst: form.elements.restock_first.checked,
  };
}

// A strategy's name in words, as its radio button carries it.
export function lockLabel(form, lock) {
  for (const input of form.querySelectorAll('input[name="lock"]')) {
    if (input.value === lock) return input.dataset.label;
  }
  return lock;
}
