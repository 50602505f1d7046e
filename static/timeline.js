// Draws one watched crowd: a figure with a caption, the timeline as SVG and
// the same facts as a table. Where everything goes is timeline-layout.js's,
// what it says timeline-words.js's; this module only makes the elements,
// with classes and SVG attributes only (the page's CSP allows no inline
// style).

import { laneOrder, layout } from "./timeline-layout.js";
import { laneCells, laneSentence, ms, outcomeWord, outcomesOf, readsOf } from "./timeline-words.js";
import { knobsOf, verdictOf } from "./words.js";

const SVG_NS = "http://www.w3.org/2000/svg";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// The figure of entry `e`, the index-th shown; `latest` marks the newer of
// two; `end` (ms) is the time axis's end shared with the figure beside it.
export function timelineFigure(e, index, latest, end) {
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
  scroll.append(timelineSvg(e, `tl-${index}-${String(e.id).slice(0, 8)}`, reads, end));
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

// A badge with the stock read (a pill) or written (a square) in it.
function badge(parent, cx, cy, w, h, value, kind) {
  svg(
    "rect",
    { x: cx - w / 2, y: cy - h / 2, width: w, height: h, rx: kind === "read" ? h / 2 : 4, class: `tl-${kind}` },
    parent,
  );
  svgText(parent, cx, cy, `tl-${kind}-text`, String(value));
}

// A write after the lock expired: a red disc with "!" on the badge's corner.
function staleMark(parent, cx, cy, r) {
  svg("circle", { cx, cy, r, class: "tl-stale-mark" }, parent);
  svgText(parent, cx, cy, "tl-stale-text", "!");
}

// Refused for a lost lock: a cross where the buyer gave up.
function cross(parent, cx, cy, r) {
  svg("path", { d: `M ${cx - r} ${cy - r} L ${cx + r} ${cy + r} M ${cx - r} ${cy + r} L ${cx + r} ${cy - r}`, class: "tl-lost" }, parent);
}

function timelineSvg(e, id, reads, end) {
  const at = layout(e, end);
  const root = svg("svg", {
    class: `tl-svg${at.dense ? " tl-dense" : ""}`,
    viewBox: `0 0 ${at.width} ${at.height}`,
    role: "img",
    "aria-labelledby": `${id}-title ${id}-desc`,
  });
  const title = svg("title", { id: `${id}-title` }, root);
  title.textContent = `Timeline of ${e.buyers} buyers, lock ${e.lock} (${e.label}): ${verdictOf(e)}`;
  const desc = svg("desc", { id: `${id}-desc` }, root);
  desc.textContent =
    `One lane per buyer, in the order they read the stock. ${reads.sequence}. ${reads.sentence} ` +
    `Outcomes: ${outcomesOf(at.lanes.map((m) => m.lane))}.`;

  // The time axis: a faint line per tick behind the lanes, labels below.
  const axis = svg("g", { class: "tl-axis" }, root);
  for (const tick of at.axis.ticks) {
    svg("line", { x1: tick.x, y1: at.axis.gridTop, x2: tick.x, y2: at.axis.gridBottom, class: "tl-grid" }, axis);
    svgText(axis, tick.x, at.axis.labelY, "tl-tick", tick.label);
  }
  svgText(axis, at.axis.title.x, at.axis.title.y, "tl-axis-title", "ms since the crowd began");

  for (const m of at.lanes) {
    const { lane, y } = m;
    const g = svg(
      "g",
      {
        class: `tl-lane ${m.colour} tl-o-${lane.outcome}`,
        "data-buyer": lane.buyer,
        "data-read": lane.read_stock ?? "",
        "data-wrote": lane.wrote_stock ?? "",
        "data-outcome": lane.outcome,
        "data-expired": m.expiry ? "true" : "false",
        "data-stale-write": m.wrote?.stale ? "true" : "false",
      },
      root,
    );
    if (m.stripe) svg("rect", { ...m.stripe, class: "tl-stripe" }, g);
    const tip = svg("title", {}, g);
    tip.textContent = laneSentence(lane);
    svgText(g, at.nameX, y, "tl-name", `Buyer ${lane.buyer}`);
    svg("line", { x1: m.life.from, y1: y, x2: m.life.to, y2: y, class: "tl-life" }, g);
    if (m.wait) svg("line", { x1: m.wait.from, y1: y, x2: m.wait.to, y2: y, class: "tl-wait" }, g);
    if (m.hold) svg("rect", { ...m.hold, rx: 6, class: "tl-hold" }, g);
    if (m.expiry) svg("rect", { ...m.expiry.stale, class: "tl-stale" }, g);
    if (m.read) svg("rect", { ...m.work, rx: 2, class: "tl-work" }, g);
    if (m.expiry) {
      const { x, y1, y2 } = m.expiry;
      svg("line", { x1: x, y1, x2: x, y2, class: "tl-expiry" }, g);
    }
    if (m.read) {
      badge(g, m.read.x, y, m.read.w, at.badgeH, m.read.value, "read");
      if (m.wrote) {
        const wrote = svg("g", { class: m.wrote.colour }, g);
        badge(wrote, m.wrote.x, y, m.wrote.w, at.badgeH, m.wrote.value, "wrote");
        if (m.wrote.stale) staleMark(wrote, m.wrote.x + m.wrote.w / 2, y - at.badgeH / 2, at.badgeH / 3);
      }
    }
    if (m.lost) cross(g, m.lost.x, y, at.badgeH / 3);
    if (m.written) {
      // redis-stream: the order in the queue, from the gate to the writer's commit.
      svg("line", { x1: m.written.from, y1: y, x2: m.written.x, y2: y, class: "tl-queue" }, g);
      svg("circle", { cx: m.written.x, cy: y, r: at.badgeH / 4, class: "tl-written" }, g);
    }
    if (m.queued) {
      const r = at.badgeH / 4;
      const { x } = m.queued;
      svg("path", { d: `M ${x} ${y - r} L ${x + r} ${y} L ${x} ${y + r} L ${x - r} ${y} Z`, class: "tl-queued" }, g);
    }
    svgText(g, at.outcomeX, y, "tl-outcome", outcomeWord(lane.outcome));
  }
  // pg-batch: the buyers of one transaction, bracketed and labelled.
  for (const b of at.batches) {
    const g = svg("g", { class: "tl-batch", "data-batch": b.ordinal, "data-size": b.size }, root);
    const { x, y1, y2 } = b.bracket;
    svg("path", { d: `M ${x + 5} ${y1} H ${x} V ${y2} H ${x + 5}`, class: "tl-batch-bracket" }, g);
    svgText(g, b.label.x, b.label.y, `tl-batch-text tl-batch-${b.label.anchor}`, b.label.text);
  }
  return root;
}

function timelineTable(e) {
  const wrap = el("div", "tl-table-scroll");
  wrap.tabIndex = 0;
  wrap.setAttribute("role", "group");
  wrap.setAttribute("aria-label", `Table, lock ${e.lock}`);
  const table = el("table", "tl-table");
  table.append(
    el("caption", "", `Every buyer, lock ${e.lock}, in the order they read the stock; times in ms since the crowd began.`),
  );
  const head = el("tr");
  for (const name of [
    "Buyer",
    "Arrived",
    "Took the lock",
    "Lock expired",
    "Read at",
    "Read",
    "Wrote at",
    "Wrote",
    "Done",
    "Outcome",
  ]) {
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
    for (const cell of laneCells(lane)) row.append(el("td", "", cell));
    tbody.append(row);
  }
  table.append(thead, tbody);
  wrap.append(table);
  return wrap;
}
