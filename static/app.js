// flashsale's page: live numbers, the Buy button, restock and the flash crowd
// through the JSON API, in place; the lesson of the chosen lock strategy,
// from the texts the page carries. Without this script every button is a
// plain form POST that comes back to the page with its outcome.
"use strict";

(() => {
  const POLL_MS = 500;
  const RUNS_KEY = "flashsale.runs";
  const MAX_RUNS = 12;

  const form = document.getElementById("demo");
  if (!form || !window.fetch) return;

  const live = document.getElementById("live");
  const result = document.getElementById("crowd-result");
  const runsBox = document.getElementById("runs");
  const history = document.getElementById("history");
  const clearRuns = document.getElementById("clear-runs");
  const cards = new Map();
  for (const card of document.querySelectorAll("[data-product]")) {
    if (card.tagName === "ARTICLE") cards.set(card.dataset.product, card);
  }

  // ------------------------------------------------------- live numbers --

  function show(product) {
    const card = cards.get(String(product.id));
    if (!card) return;
    for (const field of ["stock", "initial_stock", "orders", "oversold", "lost_updates"]) {
      for (const cell of card.querySelectorAll(`[data-field="${field}"]`)) {
        const text = String(product[field]);
        if (cell.textContent !== text) cell.textContent = text;
      }
    }
    card.classList.toggle("is-oversold", product.oversold > 0);
    const meter = card.querySelector("[data-meter]");
    if (meter) {
      // Units sold against the stock there was: dark up to the stock, red beyond.
      const scale = Math.max(product.initial_stock, product.orders, 1);
      const within = Math.min(product.orders, product.initial_stock);
      meter.querySelector("[data-meter-sold]").style.width = `${(100 * within) / scale}%`;
      meter.querySelector("[data-meter-over]").style.width = `${(100 * product.oversold) / scale}%`;
      meter.title = `${product.orders} sold of ${product.initial_stock}`;
      meter.hidden = false;
    }
  }

  function setLive(ok) {
    live.hidden = false;
    live.classList.toggle("is-stale", !ok);
    live.querySelector(".live-text").textContent = ok ? "live" : "reconnecting…";
  }

  async function poll() {
    try {
      const response = await fetch("/api/products", { cache: "no-store" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      for (const product of await response.json()) show(product);
      setLive(true);
    } catch (_) {
      setLive(false);
    } finally {
      setTimeout(poll, document.hidden ? POLL_MS * 4 : POLL_MS);
    }
  }

  // ------------------------------------------------------- lock switch --

  // The lesson box shows the chosen strategy's texts, which each radio
  // button carries (data-lesson, data-breaks, …): no round trip.
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
    // A strategy without a TTL ignores ttl_ms: grey it out, send nothing.
    if (ttl) ttl.disabled = d.usesTtl === "false";
  }

  form.addEventListener("change", (event) => {
    if (event.target.name === "lock") showStrategy(event.target);
  });

  // ----------------------------------------------------------- settings --

  // A knob's text as typed ("" when unset, or when its field is disabled);
  // the service checks it and says what is wrong.
  function knob(name) {
    const field = form.elements[name];
    return field && !field.disabled ? field.value.trim() : "";
  }

  function settings() {
    const lock = form.querySelector('input[name="lock"]:checked');
    return {
      lock: lock ? lock.value : null,
      knobs: {
        work_ms: knob("work_ms"),
        pause_ms: knob("pause_ms"),
        ttl_ms: knob("ttl_ms"),
        deadline_ms: knob("deadline_ms"),
      },
      buyers: Number(form.elements.buyers.value),
      stock: Number(form.elements.stock.value),
      restockFirst: form.elements.restock_first.checked,
    };
  }

  async function call(method, url, body) {
    const init = { method, headers: {} };
    if (body !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(url, init);
    const data = await response.json().catch(() => ({}));
    return { status: response.status, ok: response.ok, data };
  }

  function say(card, tone, text) {
    const outcome = card.querySelector("[data-outcome]");
    outcome.className = `outcome ${tone}`;
    outcome.textContent = text;
  }

  // The same words as the server's page (src/routes/pages/verdict.rs).
  const REFUSALS = {
    sold_out: "Sold out · nothing sold",
    lock_timeout: "Busy · the lock stayed taken, try again",
    lock_lost: "Lock lost · it expired before the write, nothing sold",
    restocked: "Restocked during the sale · nothing sold",
    service_unavailable: "Unavailable · nothing sold, try again",
  };

  function failure(answer) {
    const code = answer.data.error;
    if (code && REFUSALS[code]) return REFUSALS[code];
    // strategy_unavailable names the strategy and why; a 400 names the field.
    if (answer.data.message) return answer.data.message;
    if (answer.status === 429) return REFUSALS.lock_timeout;
    if (answer.status === 503) return REFUSALS.service_unavailable;
    return `The service answered HTTP ${answer.status}`;
  }

  // ------------------------------------------------------------ actions --

  async function buy(id, card, s) {
    const query = new URLSearchParams({ user: "browser" });
    if (s.lock) query.set("lock", s.lock);
    for (const [name, value] of Object.entries(s.knobs)) {
      if (value !== "") query.set(name, value);
    }
    const answer = await call("POST", `/api/products/${id}/purchase?${query}`);
    if (answer.ok) {
      const order = answer.data;
      const short = order.order_id.replaceAll("-", "").slice(0, 8);
      say(card, "good", `Order ${short} placed · ${order.remaining_stock} left`);
    } else {
      say(card, "bad", failure(answer));
    }
  }

  async function restock(id, card, s) {
    const answer = await call("POST", `/api/products/${id}/reset`, { stock: s.stock });
    if (answer.ok) {
      show(answer.data);
      say(card, "info", `Restocked to ${answer.data.stock} · orders cleared`);
    } else {
      say(card, "bad", failure(answer));
    }
  }

  async function flashCrowd(id, card, s) {
    const body = { buyers: s.buyers };
    if (s.lock) body.lock = s.lock;
    for (const [name, value] of Object.entries(s.knobs)) {
      if (value !== "") body[name] = Number(value);
    }
    if (s.restockFirst) body.restock = s.stock;
    const name = card.querySelector(".product-name").textContent;
    verdict("running", `${s.buyers} buyers rush “${name}” · lock ${s.lock}…`, "", null);
    say(card, "info", "Flash crowd running…");
    const answer = await call("POST", `/api/products/${id}/flash-crowd`, body);
    if (!answer.ok) {
      verdict("bad", failure(answer), "", null);
      say(card, "bad", failure(answer));
      return;
    }
    const report = answer.data;
    show(report.product);
    const run = summary(report, name);
    verdict(run.tone, run.headline, run.detail, report.oversold);
    say(card, run.tone, `Last crowd: ${run.headline}`);
    remember(run);
  }

  // The same words as the server's page (src/routes/pages/verdict.rs).
  function summary(r, name) {
    const over = r.oversold > 0 ? `oversold by ${r.oversold}` : "no oversell";
    const knobs = [`${r.work_ms} ms business step`];
    if (r.pause_ms > 0) knobs.push(`${r.pause_ms} ms pause`);
    if (r.ttl_ms != null) knobs.push(`TTL ${r.ttl_ms} ms`);
    if (r.deadline_ms != null) knobs.push(`deadline ${r.deadline_ms} ms`);
    const parts = [`lock ${r.lock}`, `${r.buyers} buyers`, ...knobs, `${r.sold_out} sold out`, `${r.busy} busy`];
    const extra = [];
    for (const [count, words] of [
      [r.lock_lost, "lost their lock"],
      [r.restocked, "stopped by a restock"],
      [r.unavailable, "unavailable"],
      [r.failed, "failed"],
    ]) {
      if (count > 0) extra.push(`${count} ${words}`);
    }
    const seconds = `${(r.elapsed_ms / 1000).toFixed(1)} s`;
    return {
      tone: r.oversold > 0 ? "bad" : "good",
      headline: `sold ${r.sold} / ${r.stock_before} · ${over}`,
      detail: [...parts, ...extra, seconds].join(" · "),
      lock: r.lock,
      sold: `sold ${r.sold} / ${r.stock_before}`,
      over,
      meta: [name, `${r.buyers} buyers`, ...knobs.map((k) => k.replace(" business step", "")), ...extra, seconds].join(" · "),
    };
  }

  function verdict(tone, headline, detail, oversold) {
    const line = document.createElement("p");
    line.className = `verdict ${tone}`;
    line.textContent = headline;
    if (oversold !== null) line.dataset.oversold = String(oversold);
    const more = document.createElement("p");
    more.className = "verdict-detail";
    more.textContent = detail;
    result.replaceChildren(line, more);
  }

  // ------------------------------------------- runs, side by side (tab) --

  function loadRuns() {
    try {
      const runs = JSON.parse(sessionStorage.getItem(RUNS_KEY) || "[]");
      return Array.isArray(runs) ? runs : [];
    } catch (_) {
      return [];
    }
  }

  function remember(run) {
    const runs = [run, ...loadRuns()].slice(0, MAX_RUNS);
    try {
      sessionStorage.setItem(RUNS_KEY, JSON.stringify(runs));
    } catch (_) {
      // Storage refused (private mode): the runs still show until a reload.
    }
    drawRuns(runs);
  }

  function drawRuns(runs) {
    const items = runs.map((run) => {
      const item = document.createElement("li");
      item.className = `run ${run.tone === "bad" ? "bad" : "good"}`;
      for (const [part, text] of [
        ["run-lock", `lock ${run.lock}`],
        ["run-sold", run.sold],
        ["run-over", run.over],
        ["run-meta", run.meta],
      ]) {
        const span = document.createElement("span");
        span.className = part;
        span.textContent = text;
        item.append(span);
      }
      return item;
    });
    history.replaceChildren(...items);
    runsBox.hidden = runs.length === 0;
  }

  clearRuns.addEventListener("click", () => {
    sessionStorage.removeItem(RUNS_KEY);
    drawRuns([]);
  });

  // ------------------------------------------------------------- wiring --

  const actions = { buy, restock, crowd: flashCrowd };
  let running = 0;

  form.addEventListener("submit", async (event) => {
    const button = event.submitter;
    const action = button && actions[button.dataset.action];
    if (!action) return; // Enter in a field: let the plain form do its job.
    event.preventDefault();
    const id = button.dataset.product;
    const card = cards.get(id);
    const isCrowd = button.dataset.action === "crowd";
    const crowdButtons = form.querySelectorAll('[data-action="crowd"]');
    button.disabled = true;
    if (isCrowd) crowdButtons.forEach((b) => (b.disabled = true));
    running += 1;
    form.setAttribute("aria-busy", "true");
    try {
      await action(id, card, settings());
    } catch (error) {
      say(card, "bad", `Could not reach the service (${error.message})`);
      if (isCrowd) verdict("bad", "The flash crowd could not reach the service", "", null);
    } finally {
      button.disabled = false;
      if (isCrowd) crowdButtons.forEach((b) => (b.disabled = false));
      running -= 1;
      if (running === 0) form.removeAttribute("aria-busy");
    }
  });

  const chosen = form.querySelector('input[name="lock"]:checked');
  if (chosen) showStrategy(chosen);
  drawRuns(loadRuns());
  poll();
})();
