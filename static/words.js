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

// A crowd's headline: what it sold of the stock it had, and the oversell.
export function verdictOf(r) {
  const dups = r.duplicates > 0 ? ` · ${r.duplicates} duplicates` : "";
  return `sold ${r.sold} / ${r.stock_before} · ${oversell(r)}${dups}`;
}

// Why a count(*) check lets duplicates through (as src/routes/pages/verdict.rs says it).
export const DUPLICATES_WHY =
  "count(*) then insert: clicks at once all counted zero before any order was written, so all bought";

function oversell(r) {
  return r.oversold > 0 ? `oversold by ${r.oversold}` : "no oversell";
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
  const over = oversell(r);
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
  const why = r.duplicates > 0 ? [DUPLICATES_WHY] : [];
  return {
    tone: r.oversold > 0 || r.duplicates > 0 ? "bad" : "good",
    headline: verdictOf(r),
    detail: [...parts, ...extra, seconds, ...why].join(" · "),
    lock: r.lock,
    sold: `sold ${r.sold} / ${r.stock_before}`,
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
