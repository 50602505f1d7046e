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
    restockedDuring(report);
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

  // A restock overtook the crowd: the same sentence as the server's page
  // (src/routes/pages/verdict.rs), under the verdict.
  function restockedDuring(r) {
    if (!r.restocked_during) return;
    const line = document.createElement("p");
    line.className = "verdict-detail";
    line.dataset.restockedDuring = "";
    const ranOn = r.sold - r.sold_after_restock;
    line.textContent =
      `Restocked during the crowd: ${r.sold_after_restock} of these sales came from the new stock, ` +
      `${ranOn} from the ${r.stock_before} units it started with.`;
    result.append(line);
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

  // ------------------------------------ timeline: watch the buyers (SVG) --

  // "Watch N buyers" runs a small traced crowd (POST …/flash-crowd with
  // "trace": true) and draws every buyer as a lane on a time axis: waiting
  // for the lock, holding it, the stock it read and the stock it wrote, and
  // how it ended. Lanes whose reads saw the same stock share a colour. The
  // SVG is built here with classes and SVG attributes only (the page's CSP
  // allows no inline style); the same facts are in a table under it. The
  // last two timelines stay side by side for the session.
  const TIMELINES_KEY = "flashsale.timelines";
  const SVG_NS = "http://www.w3.org/2000/svg";
  const READ_COLOURS = 8; // .tl-v0 … .tl-v7 in app.css; 0 read is .tl-vzero
  const OUTCOME_WORDS = {
    sold: "sold",
    sold_out: "sold out",
    busy: "busy",
    unavailable: "unavailable",
    lock_lost: "lock lost",
    restocked: "restocked",
    failed: "failed",
  };
  const watch = {
    section: document.getElementById("timeline"),
    buyers: document.getElementById("watch-buyers"),
    product: document.getElementById("watch-product"),
    button: document.getElementById("watch"),
    count: document.getElementById("watch-count"),
    stock: document.getElementById("watch-stock"),
    status: document.getElementById("watch-status"),
    head: document.getElementById("timelines-head"),
    list: document.getElementById("timelines"),
    clear: document.getElementById("clear-timelines"),
  };

  // A small stock, so that the race shows: a quarter of the buyers, at least one.
  function watchStock(buyers) {
    return Math.max(1, Math.floor(buyers / 4));
  }

  function watchedBuyers() {
    const text = watch.buyers.value.trim();
    const n = Number(text);
    const ok = /^\d+$/.test(text) && n >= Number(watch.buyers.min) && n <= Number(watch.buyers.max);
    return ok ? n : null;
  }

  function updateWatchLabel() {
    const n = watchedBuyers();
    if (n === null) return;
    watch.count.textContent = String(n);
    watch.stock.textContent = String(watchStock(n));
  }

  function sayWatch(tone, text) {
    watch.status.className = `tl-status ${tone}`;
    watch.status.textContent = text;
  }

  function ms(t) {
    if (t == null) return "—";
    return t < 10 ? t.toFixed(1) : t.toFixed(0);
  }

  function lockLabel(lock) {
    for (const input of form.querySelectorAll('input[name="lock"]')) {
      if (input.value === lock) return input.dataset.label;
    }
    return lock;
  }

  async function watchBuyers() {
    const n = watchedBuyers();
    if (n === null) {
      sayWatch("bad", `Buyers to watch: a whole number from ${watch.buyers.min} to ${watch.buyers.max}`);
      return;
    }
    const s = settings();
    const body = { buyers: n, restock: watchStock(n), trace: true };
    if (s.lock) body.lock = s.lock;
    for (const [name, value] of Object.entries(s.knobs)) {
      if (value !== "") body[name] = Number(value);
    }
    const id = watch.product.value;
    if (!id) {
      sayWatch("bad", "There is no product to watch");
      return;
    }
    const name = watch.product.selectedOptions[0].textContent;
    sayWatch("running", `${n} buyers rush “${name}” · lock ${s.lock}…`);
    const answer = await call("POST", `/api/products/${id}/flash-crowd`, body);
    if (!answer.ok) {
      sayWatch("bad", failure(answer));
      return;
    }
    const report = answer.data;
    show(report.product);
    const entry = {
      id: report.crowd_id,
      lock: report.lock,
      label: lockLabel(report.lock),
      product: name,
      buyers: report.buyers,
      work_ms: report.work_ms,
      pause_ms: report.pause_ms,
      ttl_ms: report.ttl_ms,
      deadline_ms: report.deadline_ms,
      stock_before: report.stock_before,
      sold: report.sold,
      oversold: report.oversold,
      elapsed_ms: report.elapsed_ms,
      lanes: report.timeline || [],
    };
    const entries = [...loadTimelines(), entry].slice(-2);
    try {
      sessionStorage.setItem(TIMELINES_KEY, JSON.stringify(entries));
    } catch (_) {
      // Storage refused (private mode): the timelines still show until a reload.
    }
    drawTimelines(entries);
    sayWatch(
      entry.oversold > 0 ? "bad" : "good",
      `Watched ${entry.buyers} buyers with lock ${entry.lock}: ${verdictOf(entry)}. ${readsOf(entry).sentence}`,
    );
  }

  function loadTimelines() {
    try {
      const entries = JSON.parse(sessionStorage.getItem(TIMELINES_KEY) || "[]");
      return Array.isArray(entries) ? entries.filter((e) => e && Array.isArray(e.lanes)).slice(-2) : [];
    } catch (_) {
      return [];
    }
  }

  function drawTimelines(entries) {
    const figures = entries.map((entry, i) => timelineFigure(entry, i, i === entries.length - 1 && entries.length > 1));
    if (entries.length === 1) {
      const next = document.createElement("p");
      next.className = "tl-next";
      next.textContent =
        "Now pick another lock strategy and watch again: its timeline appears here, beside this one.";
      figures.push(next);
    }
    watch.list.replaceChildren(...figures);
    watch.head.hidden = entries.length === 0;
  }

  // Lanes in the order the buyers read the stock (those who never read, by
  // when they gave up): with a lock, a staircase.
  function laneOrder(lanes) {
    const key = (l) => l.read_at ?? l.lock_acquired ?? l.done;
    return [...lanes].sort((a, b) => key(a) - key(b) || a.buyer - b.buyer);
  }

  function verdictOf(e) {
    const over = e.oversold > 0 ? `oversold by ${e.oversold}` : "no oversell";
    return `sold ${e.sold} / ${e.stock_before} · ${over}`;
  }

  // What the reads say, in order, and in one sentence.
  function readsOf(e) {
    const lanes = laneOrder(e.lanes);
    const runs = [];
    for (const lane of lanes) {
      if (lane.read_stock == null) continue;
      const last = runs[runs.length - 1];
      if (last && last.value === lane.read_stock) last.count += 1;
      else runs.push({ value: lane.read_stock, count: 1 });
    }
    const sequence = runs.map((r) => (r.count > 1 ? `${r.value} ×${r.count}` : `${r.value}`)).join(" → ");
    const sellers = lanes.filter((l) => l.outcome === "sold" && l.read_stock != null);
    const byValue = new Map();
    for (const lane of sellers) byValue.set(lane.read_stock, (byValue.get(lane.read_stock) || 0) + 1);
    let same = null;
    for (const [value, count] of byValue) {
      if (count >= 2 && (!same || count > same.count)) same = { value, count };
    }
    const sentences = [];
    if (same) {
      sentences.push(`${same.count} buyers read the same stock, ${same.value}, and each sold a unit of it.`);
    } else if (
      sellers.length > 1 &&
      sellers.every((l, i) => i === 0 || l.read_stock === sellers[i - 1].wrote_stock)
    ) {
      sentences.push("Each seller read what the one before it wrote.");
    }
    const lost = lanes.filter((l) => l.outcome === "lock_lost").length;
    if (lost > 0) sentences.push(`${lost} lost their lock before writing and sold nothing.`);
    return {
      sequence: sequence ? `Reads, in order: ${sequence}` : "Nobody read the stock",
      sentence: sentences.join(" "),
    };
  }

  function knobsOf(e) {
    const knobs = [`${e.work_ms} ms business step`];
    if (e.pause_ms > 0) knobs.push(`${e.pause_ms} ms pause`);
    if (e.ttl_ms != null) knobs.push(`TTL ${e.ttl_ms} ms`);
    if (e.deadline_ms != null) knobs.push(`deadline ${e.deadline_ms} ms`);
    return knobs;
  }

  function outcomesOf(lanes) {
    const counts = new Map();
    for (const lane of lanes) counts.set(lane.outcome, (counts.get(lane.outcome) || 0) + 1);
    return [...counts].map(([outcome, n]) => `${n} ${OUTCOME_WORDS[outcome] || outcome}`).join(" · ");
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function timelineFigure(e, index, latest) {
    const figure = el("figure", `tl ${e.oversold > 0 ? "bad" : "good"}`);
    figure.dataset.lock = e.lock;
    figure.dataset.buyers = String(e.buyers);
    const reads = readsOf(e);
    const caption = el("figcaption", "tl-caption");
    const head = el("p", "tl-title");
    head.append(el("code", "tl-lock", `lock=${e.lock}`), " ", el("span", "tl-label", e.label));
    if (latest) head.append(" ", el("span", "tl-latest", "latest"));
    caption.append(
      head,
      el("p", "tl-verdict", verdictOf(e)),
      el("p", "tl-reads", `${reads.sequence}. ${reads.sentence}`.trim()),
      el(
        "p",
        "tl-meta",
        [e.product, `${e.buyers} buyers`, `restocked to ${e.stock_before}`, ...knobsOf(e), `${ms(e.elapsed_ms)} ms`].join(
          " · ",
        ),
      ),
    );
    const scroll = el("div", "tl-scroll");
    scroll.tabIndex = 0;
    scroll.setAttribute("role", "group");
    scroll.setAttribute("aria-label", `Timeline, lock ${e.lock}`);
    scroll.append(timelineSvg(e, `tl-${index}-${String(e.id).slice(0, 8)}`, reads));
    const details = el("details", "tl-details");
    details.append(el("summary", "", "The same, as a table"), timelineTable(e));
    figure.append(caption, scroll, details);
    return figure;
  }

  function svg(tag, attributes, parent) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
    if (parent) parent.append(node);
    return node;
  }

  function svgText(parent, x, y, className, text) {
    const node = svg("text", { x, y, class: className }, parent);
    node.textContent = text;
    return node;
  }

  // The class that colours a stock value: the stock before the crowd is
  // always the first colour, one less the second, …; 0 is grey.
  function valueClass(e, value) {
    if (value == null) return "tl-vnone";
    if (value <= 0) return "tl-vzero";
    const step = (((e.stock_before - value) % READ_COLOURS) + READ_COLOURS) % READ_COLOURS;
    return `tl-v${step}`;
  }

  // A round step for about six ticks across `span` ms.
  function niceStep(span) {
    const raw = span / 6;
    const power = 10 ** Math.floor(Math.log10(raw));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= raw) return m * power;
    return 10 * power;
  }

  function badgeWidth(value, h) {
    return Math.max(h, String(value).length * h * 0.42 + h * 0.5);
  }

  // A badge with the stock read (a pill) or written (a square) in it.
  function badge(parent, cx, cy, h, value, kind) {
    const text = String(value);
    const w = badgeWidth(value, h);
    svg(
      "rect",
      { x: cx - w / 2, y: cy - h / 2, width: w, height: h, rx: kind === "read" ? h / 2 : 4, class: `tl-${kind}` },
      parent,
    );
    svgText(parent, cx, cy, `tl-${kind}-text`, text);
  }

  function timelineSvg(e, id, reads) {
    const lanes = laneOrder(e.lanes);
    const W = 620;
    const nameW = 96;
    const outcomeW = 100;
    const laneH = lanes.length <= 12 ? 40 : lanes.length <= 25 ? 32 : 26;
    const badgeH = laneH <= 26 ? 20 : 24;
    const top = 8;
    const axisH = 50;
    const H = top + lanes.length * laneH + axisH;
    const x0 = nameW + 14;
    const x1 = W - outcomeW - 18;
    const end = Math.max(1, ...lanes.map((l) => Math.max(l.done, l.wrote_at ?? 0)));
    const step = niceStep(end);
    const domain = Math.ceil(end / step) * step;
    const x = (t) => x0 + ((x1 - x0) * Math.max(0, t)) / domain;

    const root = svg("svg", {
      class: `tl-svg${laneH <= 26 ? " tl-dense" : ""}`,
      viewBox: `0 0 ${W} ${H}`,
      role: "img",
      "aria-labelledby": `${id}-title ${id}-desc`,
    });
    const title = svg("title", { id: `${id}-title` }, root);
    title.textContent = `Timeline of ${e.buyers} buyers, lock ${e.lock} (${e.label}): ${verdictOf(e)}`;
    const desc = svg("desc", { id: `${id}-desc` }, root);
    desc.textContent =
      `One lane per buyer, in the order they read the stock. ${reads.sequence}. ${reads.sentence} ` +
      `Outcomes: ${outcomesOf(lanes)}.`;

    // The time axis: a faint line per tick behind the lanes, labels below.
    const axis = svg("g", { class: "tl-axis" }, root);
    const bottom = top + lanes.length * laneH;
    for (let t = 0; t <= domain + step / 2; t += step) {
      svg("line", { x1: x(t), y1: top, x2: x(t), y2: bottom + 6, class: "tl-grid" }, axis);
      svgText(axis, x(t), bottom + 22, "tl-tick", Number.isInteger(t) ? String(t) : t.toFixed(1));
    }
    svgText(axis, (x0 + x1) / 2, bottom + 43, "tl-axis-title", "ms since the crowd began");

    lanes.forEach((lane, i) => {
      const y = top + i * laneH + laneH / 2;
      const g = svg(
        "g",
        {
          class: `tl-lane ${valueClass(e, lane.read_stock)} tl-o-${lane.outcome}`,
          "data-buyer": lane.buyer,
          "data-read": lane.read_stock ?? "",
          "data-wrote": lane.wrote_stock ?? "",
          "data-outcome": lane.outcome,
        },
        root,
      );
      if (i % 2 === 1) svg("rect", { x: 0, y: y - laneH / 2, width: W, height: laneH, class: "tl-stripe" }, g);
      const tip = svg("title", {}, g);
      tip.textContent = laneSentence(lane);
      svgText(g, 8, y, "tl-name", `Buyer ${lane.buyer}`);
      svg("line", { x1: x(lane.arrived), y1: y, x2: x(lane.done), y2: y, class: "tl-life" }, g);
      const waitEnd = lane.lock_acquired ?? (lane.read_at == null ? lane.done : null);
      if (waitEnd != null && waitEnd > lane.arrived) {
        svg("line", { x1: x(lane.arrived), y1: y, x2: x(waitEnd), y2: y, class: "tl-wait" }, g);
      }
      // The badges' places first: the box of the lock's holding is drawn
      // around them even when the holding was too short to see.
      const read = lane.read_at == null ? null : { x: x(lane.read_at), w: badgeWidth(lane.read_stock, badgeH) };
      const wrote =
        read && lane.wrote_at != null ? { x: x(lane.wrote_at), w: badgeWidth(lane.wrote_stock, badgeH) } : null;
      if (wrote) wrote.x = Math.max(wrote.x, read.x + read.w / 2 + wrote.w / 2 + 3);
      if (lane.lock_acquired != null) {
        let from = x(lane.lock_acquired);
        let to = Math.max(x(lane.done), from + 4);
        if (read) from = Math.min(from, read.x - read.w / 2 - 4);
        const last = wrote || read;
        if (last) to = Math.max(to, last.x + last.w / 2 + 4);
        const h = badgeH + 10;
        svg("rect", { x: from, y: y - h / 2, width: to - from, height: h, rx: 6, class: "tl-hold" }, g);
      }
      if (read) {
        const to = x(lane.wrote_at ?? lane.done);
        const h = badgeH * 0.55;
        svg("rect", { x: read.x, y: y - h / 2, width: Math.max(2, to - read.x), height: h, rx: 2, class: "tl-work" }, g);
        badge(g, read.x, y, badgeH, lane.read_stock, "read");
        if (wrote) badge(svg("g", { class: valueClass(e, lane.wrote_stock) }, g), wrote.x, y, badgeH, lane.wrote_stock, "wrote");
      }
      svgText(g, W - outcomeW + 6, y, "tl-outcome", OUTCOME_WORDS[lane.outcome] || lane.outcome);
    });
    return root;
  }

  function laneSentence(lane) {
    const parts = [`Buyer ${lane.buyer}: arrived at ${ms(lane.arrived)} ms`];
    if (lane.lock_acquired != null) parts.push(`took the lock at ${ms(lane.lock_acquired)} ms`);
    if (lane.read_at != null) parts.push(`read ${lane.read_stock} at ${ms(lane.read_at)} ms`);
    if (lane.wrote_at != null) parts.push(`wrote ${lane.wrote_stock} at ${ms(lane.wrote_at)} ms`);
    parts.push(`done at ${ms(lane.done)} ms: ${OUTCOME_WORDS[lane.outcome] || lane.outcome}`);
    return parts.join(", ");
  }

  function timelineTable(e) {
    const wrap = el("div", "tl-table-scroll");
    wrap.tabIndex = 0;
    wrap.setAttribute("role", "group");
    wrap.setAttribute("aria-label", `Table, lock ${e.lock}`);
    const table = el("table", "tl-table");
    table.append(
      el(
        "caption",
        "",
        `Every buyer, lock ${e.lock}, in the order they read the stock; times in ms since the crowd began.`,
      ),
    );
    const head = el("tr");
    for (const name of ["Buyer", "Arrived", "Took the lock", "Read at", "Read", "Wrote at", "Wrote", "Done", "Outcome"]) {
      const th = el("th", "", name);
      th.scope = "col";
      head.append(th);
    }
    const thead = el("thead");
    thead.append(head);
    const tbody = el("tbody");
    for (const lane of laneOrder(e.lanes)) {
      const row = el("tr");
      const buyer = el("th", "", `Buyer ${lane.buyer}`);
      buyer.scope = "row";
      row.append(buyer);
      for (const cell of [
        ms(lane.arrived),
        ms(lane.lock_acquired),
        ms(lane.read_at),
        lane.read_stock ?? "—",
        ms(lane.wrote_at),
        lane.wrote_stock ?? "—",
        ms(lane.done),
        OUTCOME_WORDS[lane.outcome] || lane.outcome,
      ]) {
        row.append(el("td", "", String(cell)));
      }
      tbody.append(row);
    }
    table.append(thead, tbody);
    wrap.append(table);
    return wrap;
  }

  if (watch.section && watch.button) {
    watch.section.hidden = false;
    watch.buyers.addEventListener("input", updateWatchLabel);
    watch.buyers.addEventListener("keydown", (event) => {
      if (event.key === "Enter") watch.button.click();
    });
    watch.button.addEventListener("click", async () => {
      watch.button.disabled = true;
      watch.section.setAttribute("aria-busy", "true");
      try {
        await watchBuyers();
      } catch (error) {
        sayWatch("bad", `Could not reach the service (${error.message})`);
      } finally {
        watch.button.disabled = false;
        watch.section.removeAttribute("aria-busy");
      }
    });
    watch.clear.addEventListener("click", () => {
      sessionStorage.removeItem(TIMELINES_KEY);
      drawTimelines([]);
      sayWatch("", "");
    });
    updateWatchLabel();
    drawTimelines(loadTimelines());
  }

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
