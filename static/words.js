// What the page says about a purchase and a crowd: the same words as the
// server's page (src/routes/pages/verdict.rs). Pure functions, no DOM.

export const REFUSALS = {
  sold_out: "Sold out · nothing sold",
  lock_timeout: "Busy · the lock stayed taken, try again",
  lock_lost: "Lock lost · it expired before the write, nothing sold",
  restocked: "Restocked during the sale · nothing sold",
  limit_reached: "Limit reached · one per buyer, nothing sold",
  service_unavailable: "Unavailable · nothing sold, try again",
};

// Why a call failed, from the service's answer ({ status, data }).
export function failure(answer) {
  const code = answer.data.error;
  if (code && REFUSALS[code]) return REFUSALS[code];
  // strategy_unavailable names the strategy and why; a 400 names the field.
  if (answer.data.message) return answer.data.message;
  if (answer.status === 429) return REFUSALS.lock_timeout;
  if (answer.status === 503) return REFUSALS.service_unavailable;
  return `The service answered HTTP ${answer.status}`;
}

// Why a count(*) check lets duplicates through (as src/routes/pages/verdict.rs says it).
export const DUPLICATES_WHY =
  "count(*) then insert: clicks at once all counted zero before any order was written, so all bought";

// Buyers turned away while there may have been stock for them, by why.
const REFUSED = [
  ["busy", "busy"],
  ["lock_lost", "lost their lock"],
  ["unavailable", "unavailable"],
  ["failed", "failed"],
];

// Sales a crowd missed: units of the stock it ran on left unsold while buyers
// were refused (busy, lock lost, unavailable, failed), at most that many
// buyers — as src/crowd/mod.rs counts them. A report without the counts (a
// timeline kept from before) counts them as zero.
export function undersoldOf(r) {
  const ranOn = r.sold - (r.sold_after_restock || 0);
  const left = Math.max(0, r.stock_before - ranOn);
  const refused = REFUSED.reduce((sum, [field]) => sum + (r[field] || 0), 0);
  return Math.min(left, refused);
}

// "460 busy, 2 unavailable": why buyers were refused, from the crowd's counts.
function whyRefused(r) {
  return REFUSED.filter(([field]) => (r[field] || 0) > 0)
    .map(([field, words]) => `${r[field]} ${words}`)
    .join(", ");
}

// Where a crowd stands, in its two parts: what it sold, and how that went.
// Never praises a failure: stock left while buyers were refused is
// UNDERSOLD (amber), and a crowd that sold nothing says so first.
function standing(r) {
  const undersold = undersoldOf(r);
  if (r.oversold > 0) {
    return { tone: "bad", sold: `sold ${r.sold} / ${r.stock_before}`, over: `oversold by ${r.oversold}` };
  }
  if (undersold > 0 && r.sold === 0) {
    return { tone: "warn", sold: `nothing sold of ${r.stock_before}`, over: `UNDERSOLD: ${whyRefused(r)}` };
  }
  if (undersold > 0) {
    return {
      tone: "warn",
      sold: `sold ${r.sold} / ${r.stock_before}`,
      over: `UNDERSOLD by ${undersold}: ${whyRefused(r)}`,
    };
  }
  return { tone: "good", sold: `sold ${r.sold} / ${r.stock_before}`, over: "no oversell" };
}

// A crowd's headline: what it sold of the stock it had, and the oversell
// (or the undersell, and why).
export function verdictOf(r) {
  const dups = r.duplicates > 0 ? ` · ${r.duplicates} duplicates` : "";
  // An order accepted and never written fails the sale like an oversell.
  const lost = r.lost_orders > 0 ? ` · ${r.lost_orders} orders lost` : "";
  const { sold, over } = standing(r);
  return `${sold} · ${over}${dups}${lost}`;
}

// The verdict's colour: "bad" (oversold, duplicates), "warn" (undersold), "good".
export function toneOf(r) {
  if (r.duplicates > 0 || r.lost_orders > 0) return "bad";
  return standing(r).tone;
}

// The knobs a crowd ran with, those that were set.
export function knobsOf(r) {
  const knobs = [`${r.work_ms} ms business step`];
  if (r.pause_ms > 0) knobs.push(`${r.pause_ms} ms pause`);
  if (r.ttl_ms != null) knobs.push(`TTL ${r.ttl_ms} ms`);
  if (r.deadline_ms != null) knobs.push(`deadline ${r.deadline_ms} ms`);
  return knobs;
}

// A flash crowd's report in words: the verdict's tone, headline and detail,
// and the parts of the run kept side by side (lock, sold, over, meta).
export function summary(r, name) {
  const { sold, over } = standing(r);
  const knobs = knobsOf(r);
  const parts = [`lock ${r.lock}`, `${r.buyers} buyers`, ...knobs, `${r.sold_out} sold out`, `${r.busy} busy`];
  const extra = [];
  for (const [count, words] of [
    [r.lock_lost, "lost their lock"],
    [r.restocked, "stopped by a restock"],
    [r.limit_reached, "refused at the limit per buyer"],
    [r.unavailable, "unavailable"],
    [r.failed, "failed"],
  ]) {
    if (count > 0) extra.push(`${count} ${words}`);
  }
  const seconds = `${(r.elapsed_ms / 1000).toFixed(1)} s`;
  if (r.queued > 0) {
    extra.push(`${r.queued} queued, ${r.written} written after a ${((r.drain_ms || 0) / 1000).toFixed(1)} s drain`);
  }
  const why = r.duplicates > 0 ? [DUPLICATES_WHY] : [];
  return {
    tone: toneOf(r),
    headline: verdictOf(r),
    detail: [...parts, ...extra, seconds, ...why].join(" · "),
    lock: r.lock,
    sold,
    over,
    meta: [name, `${r.buyers} buyers`, ...knobs.map((k) => k.replace(" business step", "")), ...extra, seconds].join(" · "),
  };
}

// A restock overtook the crowd: the same sentence as the server's page
// (src/routes/pages/verdict.rs); null when it did not.
export function restockedSentence(r) {
  if (!r.restocked_during) return null;
  const ranOn = r.sold - r.sold_after_restock;
  return (
    `Restocked during the crowd: ${r.sold_after_restock} of these sales came from the new stock, ` +
    `${ranOn} from the ${r.stock_before} units it started with.`
  );
}
