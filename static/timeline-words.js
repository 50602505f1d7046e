// What a traced crowd's timeline says in words: the reads in order and what
// they show, each lane as a sentence, the outcomes counted. Pure functions,
// no DOM: the drawing's title, description, tooltips and table use them.

import { expiredWhileHeld, laneOrder, wroteAfterExpiry } from "./timeline-layout.js";

export const OUTCOME_WORDS = {
  sold: "sold",
  sold_out: "sold out",
  busy: "busy",
  unavailable: "unavailable",
  lock_lost: "lock lost",
  restocked: "restocked",
  failed: "failed",
};

export function outcomeWord(outcome) {
  return OUTCOME_WORDS[outcome] || outcome;
}

// A time in ms as the timeline shows it: a decimal below 10, "—" when none.
export function ms(t) {
  if (t == null) return "—";
  return t < 10 ? t.toFixed(1) : t.toFixed(0);
}

// What the reads say, in order, and in one sentence.
export function readsOf(e) {
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
  const stale = lanes.filter(wroteAfterExpiry).length;
  if (stale > 0) {
    sentences.push(
      stale === 1
        ? "1 wrote after its lock had expired."
        : `${stale} wrote after their lock had expired.`,
    );
  }
  const lost = lanes.filter((l) => l.outcome === "lock_lost").length;
  if (lost > 0) sentences.push(`${lost} lost their lock before writing and sold nothing.`);
  return {
    sequence: sequence ? `Reads, in order: ${sequence}` : "Nobody read the stock",
    sentence: sentences.join(" "),
  };
}

// How many lanes ended each way, in the order the outcomes first appear.
export function outcomesOf(lanes) {
  const counts = new Map();
  for (const lane of lanes) counts.set(lane.outcome, (counts.get(lane.outcome) || 0) + 1);
  return [...counts].map(([outcome, n]) => `${n} ${outcomeWord(outcome)}`).join(" · ");
}

// One lane in a sentence (its tooltip).
export function laneSentence(lane) {
  const parts = [`Buyer ${lane.buyer}: arrived at ${ms(lane.arrived)} ms`];
  if (lane.lock_acquired != null) parts.push(`took the lock at ${ms(lane.lock_acquired)} ms`);
  if (expiredWhileHeld(lane)) {
    parts.push(`its lock expired at ${ms(lane.lock_expires_at)} ms (TTL ${lane.lock_ttl_ms} ms)`);
  }
  if (lane.read_at != null) parts.push(`read ${lane.read_stock} at ${ms(lane.read_at)} ms`);
  if (lane.wrote_at != null) {
    const stale = wroteAfterExpiry(lane) ? ", after its lock had expired" : "";
    parts.push(`wrote ${lane.wrote_stock} at ${ms(lane.wrote_at)} ms${stale}`);
  }
  if (lane.batch != null) parts.push(`in batch ${lane.batch} of ${lane.batch_size} buyers`);
  if (lane.queued_at != null) parts.push(`order queued at ${ms(lane.queued_at)} ms`);
  parts.push(`done at ${ms(lane.done)} ms: ${outcomeWord(lane.outcome)}`);
  if (lane.written_at != null) parts.push(`order written at ${ms(lane.written_at)} ms`);
  else if (lane.queued_at != null) parts.push("order not written yet");
  return parts.join(", ");
}

// One row of the table: every time and value of a lane, as text (the
// lock's expiry only when it fell while the buyer held it).
export function laneCells(lane) {
  return [
    ms(lane.arrived),
    ms(lane.lock_acquired),
    ms(expiredWhileHeld(lane) ? lane.lock_expires_at : null),
    ms(lane.read_at),
    lane.read_stock ?? "—",
    ms(lane.wrote_at),
    lane.wrote_stock ?? "—",
    ms(lane.done),
    outcomeWord(lane.outcome),
  ].map(String);
}
