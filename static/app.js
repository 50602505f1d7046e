// flashsale's page: live numbers, the Buy button, restock and the flash crowd
// through the JSON API, in place. Without this script every button is a plain
// form POST that comes back to the page with its outcome.
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

  // ----------------------------------------------------------- settings --

  function settings() {
    const number = (name) => Number(form.elements[name].value);
    const lock = form.querySelector('input[name="lock"]:checked');
    return {
      lock: lock ? lock.value : null,
      workMs: number("work_ms"),
      buyers: number("buyers"),
      stock: number("stock"),
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

  function failure(answer) {
    if (answer.status === 409) return "Sold out · nothing sold";
    if (answer.status === 429) return "Busy · the lock stayed taken, try again";
    if (answer.status === 503) return "Unavailable · nothing sold, try again";
    return answer.data.message || `The service answered HTTP ${answer.status}`;
  }

  // ------------------------------------------------------------ actions --

  async function buy(id, card, s) {
    const query = new URLSearchParams({ work_ms: s.workMs, user: "browser" });
    if (s.lock) query.set("lock", s.lock);
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
    const body = { buyers: s.buyers, work_ms: s.workMs };
    if (s.lock) body.lock = s.lock;
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

  // The same words as the server's page (src/routes/pages.rs).
  function summary(r, name) {
    const over = r.oversold > 0 ? `oversold by ${r.oversold}` : "no oversell";
    let detail =
      `lock ${r.lock} · ${r.buyers} buyers · ${r.work_ms} ms business step` +
      ` · ${r.sold_out} sold out · ${r.busy} busy`;
    if (r.unavailable > 0) detail += ` · ${r.unavailable} unavailable`;
    if (r.failed > 0) detail += ` · ${r.failed} failed`;
    detail += ` · ${(r.elapsed_ms / 1000).toFixed(1)} s`;
    return {
      tone: r.oversold > 0 ? "bad" : "good",
      headline: `sold ${r.sold} / ${r.stock_before} · ${over}`,
      detail,
      lock: r.lock,
      sold: `sold ${r.sold} / ${r.stock_before}`,
      over,
      meta: `${name} · ${r.buyers} buyers · ${r.work_ms} ms · ${(r.elapsed_ms / 1000).toFixed(1)} s`,
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

  drawRuns(loadRuns());
  poll();
})();
