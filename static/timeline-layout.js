// Where a traced crowd's timeline goes: the order of the lanes, their
// height, the time axis and its ticks, the colour of each stock value, and
// every mark of every lane, as numbers. Pure functions, no DOM: timeline.js
// turns what `layout` returns into SVG, and static/test/ checks it here.

export const READ_COLOURS = 8; // .tl-v0 … .tl-v7 in app.css; 0 read is .tl-vzero

// The drawing's fixed sizes, in SVG units (its viewBox is WIDTH wide).
export const WIDTH = 620;
const NAME_W = 96; // "Buyer 12", left of the time axis
const OUTCOME_W = 100; // "sold out", right of it
const TOP = 8;
const AXIS_H = 50; // tick labels and the axis title, under the lanes

// Lanes in the order the buyers read the stock (or their order was queued;
// those who did neither, by when they gave up): with a lock, a staircase.
export function laneOrder(lanes) {
  const key = (l) => l.read_at ?? l.queued_at ?? l.lock_acquired ?? l.done;
  return [...lanes].sort((a, b) => key(a) - key(b) || a.buyer - b.buyer);
}

// The class that colours a stock value: the stock before the crowd is
// always the first colour, one less the second, …; 0 is grey.
export function valueClass(stockBefore, value) {
  if (value == null) return "tl-vnone";
  if (value <= 0) return "tl-vzero";
  const step = (((stockBefore - value) % READ_COLOURS) + READ_COLOURS) % READ_COLOURS;
  return `tl-v${step}`;
}

// A round step for about six ticks across `span` ms.
export function niceStep(span) {
  const raw = span / 6;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

// Fewer pixels per lane as the crowd grows; dense lanes get smaller badges.
export function laneHeight(lanes) {
  return lanes <= 12 ? 40 : lanes <= 25 ? 32 : 26;
}

export function badgeHeight(laneH) {
  return laneH <= 26 ? 20 : 24;
}

// A badge wide enough for the number in it, never narrower than it is high.
export function badgeWidth(value, h) {
  return Math.max(h, String(value).length * h * 0.42 + h * 0.5);
}

// The time axis from 0 to the end of the last lane, rounded up to a whole
// step, onto the pixels from x0 to x1: `x(t)` for a time in ms (before 0 is
// 0), and a labelled tick per step.
export function timeAxis(end, x0, x1) {
  const step = niceStep(end);
  const domain = Math.ceil(end / step) * step;
  const x = (t) => x0 + ((x1 - x0) * Math.max(0, t)) / domain;
  const ticks = [];
  for (let t = 0; t <= domain + step / 2; t += step) {
    ticks.push({ x: x(t), label: Number.isInteger(t) ? String(t) : t.toFixed(1) });
  }
  return { step, domain, x, ticks };
}

// When the last mark of entry `e` falls, in ms: an order written after its
// buyer's answer (redis-stream) counts. A lock's expiry after its holder was
// done does not: a 5 s TTL would squeeze a 50 ms crowd into a corner.
export function timelineEnd(e) {
  return Math.max(1, ...e.lanes.map((l) => Math.max(l.done, l.wrote_at ?? 0, l.written_at ?? 0)));
}

// One time scale for drawings shown side by side: the end of the longest,
// so that a box twice as wide lasted twice as long in either.
export function sharedEnd(entries) {
  return Math.max(1, ...entries.map(timelineEnd));
}

// Whether a lane's lock expired while its buyer still held it: the TTL
// ran out before the buyer was done.
export function expiredWhileHeld(lane) {
  return lane.lock_expires_at != null && lane.lock_acquired != null && lane.lock_expires_at < lane.done;
}

// Whether a lane wrote the stock after its lock had expired: a stale
// holder's write, which another holder may have overwritten or will.
export function wroteAfterExpiry(lane) {
  return lane.wrote_at != null && lane.lock_expires_at != null && lane.wrote_at > lane.lock_expires_at;
}

// The whole drawing of entry `e` (a traced crowd: stock_before and lanes):
// its size, its axis, and one lane each in laneOrder, top to bottom. With
// `end` (ms; see sharedEnd) the axis runs to it instead of to e's own end.
export function layout(e, end = timelineEnd(e)) {
  const lanes = laneOrder(e.lanes);
  const laneH = laneHeight(lanes.length);
  const badgeH = badgeHeight(laneH);
  const bottom = TOP + lanes.length * laneH;
  const x0 = NAME_W + 14;
  const x1 = WIDTH - OUTCOME_W - 18;
  const axis = timeAxis(Math.max(end, timelineEnd(e)), x0, x1);
  const marks = lanes.map((lane, i) =>
    laneMarks(e.stock_before, lane, TOP + i * laneH + laneH / 2, i, laneH, badgeH, axis.x),
  );
  return {
    width: WIDTH,
    height: bottom + AXIS_H,
    dense: laneH <= 26,
    laneH,
    badgeH,
    axis: {
      ticks: axis.ticks,
      gridTop: TOP,
      gridBottom: bottom + 6,
      labelY: bottom + 22,
      title: { x: (x0 + x1) / 2, y: bottom + 43 },
    },
    nameX: 8,
    outcomeX: WIDTH - OUTCOME_W + 6,
    lanes: marks,
    batches: batchGroups(marks, laneH),
  };
}

// A batch's label, e.g. "batch 3 · 17 buyers".
export function batchLabel(ordinal, size) {
  return `batch ${ordinal} · ${size} ${size === 1 ? "buyer" : "buyers"}`;
}

const LABEL_CHAR_W = 7; // about one character of .tl-batch-text

// pg-batch: the buyers one transaction served or refused together. Its
// lanes are neighbours (they read the stock at the same moment), so each
// batch is a bracket left of their first marks, spanning their lanes, with
// a label beside its first lane: right of the lanes' last mark if that
// fits before the outcome column, else left of the bracket. Batches are
// numbered in the order this crowd saw them (the server numbers them per
// instance since it started); the size is the whole batch's, traced or not.
export function batchGroups(marks, laneH) {
  const runs = [];
  marks.forEach((m, i) => {
    const batch = m.lane.batch;
    if (batch == null) return;
    const last = runs[runs.length - 1];
    if (last && last.batch === batch && last.end === i - 1) {
      last.lanes.push(m);
      last.end = i;
    } else {
      runs.push({ batch, lanes: [m], end: i });
    }
  });
  const ordinals = new Map();
  return runs.map((run) => {
    if (!ordinals.has(run.batch)) ordinals.set(run.batch, ordinals.size + 1);
    const ordinal = ordinals.get(run.batch);
    const first = run.lanes[0];
    const size = first.lane.batch_size ?? run.lanes.length;
    const left = Math.min(...run.lanes.map(markStart));
    const right = Math.max(...run.lanes.map(markEnd));
    const x = Math.max(NAME_W + 4, left - 6);
    const text = batchLabel(ordinal, size);
    const textW = text.length * LABEL_CHAR_W;
    const fitsRight = right + 8 + textW <= WIDTH - OUTCOME_W;
    return {
      batch: run.batch,
      ordinal,
      size,
      buyers: run.lanes.map((m) => m.lane.buyer),
      bracket: { x, y1: first.y - laneH / 2 + 3, y2: run.lanes[run.lanes.length - 1].y + laneH / 2 - 3 },
      label: fitsRight
        ? { x: right + 8, y: first.y, anchor: "start", text }
        : { x: x - 6, y: first.y, anchor: "end", text },
    };
  });
}

// Where a lane's marks begin and end on x (the holding box, the badges).
function markStart(m) {
  const from = [m.hold?.x, m.read ? m.read.x - m.read.w / 2 : null, m.queued?.x, m.life.to];
  return Math.min(...from.filter((v) => v != null));
}

function markEnd(m) {
  const to = [
    m.hold ? m.hold.x + m.hold.width : null,
    m.wrote ? m.wrote.x + m.wrote.w / 2 : null,
    m.written?.x,
    m.life.to,
  ];
  return Math.max(...to.filter((v) => v != null));
}

// One lane's marks at height y: its life from arrival to done, the wait for
// the lock, the box of the lock's holding (and where in it the lock
// expired), the work from read to write,
// where the badges of the stock read and written go, and (redis-stream) when
// the order was queued and when it was written — the queue from one to the
// other, often past done — and a write after the lock expired (stale) or a
// refusal for a lost lock. A mark that did not happen is null.
function laneMarks(stockBefore, lane, y, i, laneH, badgeH, x) {
  const waitEnd = lane.lock_acquired ?? (lane.read_at == null ? lane.done : null);
  // The badges' places first: the box of the lock's holding is drawn
  // around them even when the holding was too short to see.
  const read = lane.read_at == null ? null : { x: x(lane.read_at), w: badgeWidth(lane.read_stock, badgeH) };
  const wrote =
    read && lane.wrote_at != null ? { x: x(lane.wrote_at), w: badgeWidth(lane.wrote_stock, badgeH) } : null;
  if (wrote) wrote.x = Math.max(wrote.x, read.x + read.w / 2 + wrote.w / 2 + 3);
  let hold = null;
  let expiry = null;
  if (lane.lock_acquired != null) {
    let from = x(lane.lock_acquired);
    let to = Math.max(x(lane.done), from + 4);
    if (read) from = Math.min(from, read.x - read.w / 2 - 4);
    const last = wrote || read;
    if (last) to = Math.max(to, last.x + last.w / 2 + 4);
    const h = badgeH + 10;
    hold = { x: from, y: y - h / 2, width: to - from, height: h };
    if (expiredWhileHeld(lane)) {
      // The TTL ran out inside the box: a line across it where it did, and
      // the rest of the box, held by nobody as far as Redis knows, shaded.
      const at = Math.min(Math.max(x(lane.lock_expires_at), from), to);
      expiry = { x: at, y1: hold.y - 3, y2: hold.y + h + 3, stale: { x: at, y: hold.y, width: to - at, height: h } };
    }
  }
  let work = null;
  if (read) {
    const to = x(lane.wrote_at ?? lane.done);
    const h = badgeH * 0.55;
    work = { x: read.x, y: y - h / 2, width: Math.max(2, to - read.x), height: h };
  }
  const queued = lane.queued_at == null ? null : { x: x(lane.queued_at) };
  const written =
    lane.written_at == null ? null : { x: x(lane.written_at), from: queued ? queued.x : x(lane.done) };
  return {
    lane,
    y,
    colour: valueClass(stockBefore, lane.read_stock),
    stripe: i % 2 === 1 ? { x: 0, y: y - laneH / 2, width: WIDTH, height: laneH } : null,
    life: { from: x(lane.arrived), to: x(lane.done) },
    wait: waitEnd != null && waitEnd > lane.arrived ? { from: x(lane.arrived), to: x(waitEnd) } : null,
    hold,
    work,
    expiry,
    read: read && { ...read, value: lane.read_stock },
    wrote: wrote && {
      ...wrote,
      value: lane.wrote_stock,
      colour: valueClass(stockBefore, lane.wrote_stock),
      stale: wroteAfterExpiry(lane),
    },
    // Refused at the write: the lock was found gone (a renewal failed, a
    // validity ran out, a newer fencing token): a cross where it gave up.
    lost: lane.outcome === "lock_lost" ? { x: x(lane.done) } : null,
    queued,
    written,
  };
}
