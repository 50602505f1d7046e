// The page's words for purchases and crowds, without a browser: node --test static/test/
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  DUPLICATES_WHY,
  REFUSALS,
  failure,
  knobsOf,
  restockedSentence,
  summary,
  toneOf,
  undersoldOf,
  verdictOf,
} from "../words.js";

describe("failure", () => {
  test("says a refusal the service names in the page's words", () => {
    assert.equal(failure({ status: 409, data: { error: "sold_out", message: "…" } }), "Sold out · nothing sold");
    assert.equal(failure({ status: 409, data: { error: "lock_lost" } }), REFUSALS.lock_lost);
  });

  test("passes on the service's message for anything else it names", () => {
    const answer = { status: 400, data: { error: "invalid_work_ms", message: "work_ms must be from 0 to 2000" } };
    assert.equal(failure(answer), "work_ms must be from 0 to 2000");
  });

  test("falls back on the status when the body says nothing", () => {
    assert.equal(failure({ status: 429, data: {} }), REFUSALS.lock_timeout);
    assert.equal(failure({ status: 503, data: {} }), REFUSALS.service_unavailable);
    assert.equal(failure({ status: 502, data: {} }), "The service answered HTTP 502");
  });
});

// A flash crowd's report as POST …/flash-crowd answers it.
function report(fields = {}) {
  return {
    lock: "none",
    buyers: 500,
    work_ms: 20,
    pause_ms: 0,
    ttl_ms: null,
    deadline_ms: null,
    stock_before: 100,
    sold: 500,
    oversold: 400,
    sold_out: 0,
    busy: 0,
    lock_lost: 0,
    restocked: 0,
    unavailable: 0,
    failed: 0,
    elapsed_ms: 1234,
    ...fields,
  };
}

describe("verdictOf", () => {
  test("says what sold of the stock, and by how much it oversold", () => {
    assert.equal(verdictOf(report()), "sold 500 / 100 · oversold by 400");
    assert.equal(verdictOf(report({ sold: 100, oversold: 0 })), "sold 100 / 100 · no oversell");
  });
});

describe("a crowd of the stream designs", () => {
  test("lost orders are bad, as the server's page says, and the drain is told", () => {
    const lost = report({ lock: "broken-ack-first", sold: 100, oversold: 0, queued: 100, written: 70, lost_orders: 30, drain_ms: 1500 });
    assert.equal(verdictOf(lost), "sold 100 / 100 · no oversell · 30 orders lost");
    assert.equal(toneOf(lost), "bad");
    assert.match(summary(lost, "Phone").detail, /100 queued, 70 written after a 1\.5 s drain/);
  });
});

describe("a crowd that left stock while it refused buyers", () => {
  test("sold nothing: says so first, names why, in amber (as the server's page)", () => {
    const broken = report({ lock: "broken-lua-nil", sold: 0, oversold: 0, busy: 498, unavailable: 2 });
    assert.equal(verdictOf(broken), "nothing sold of 100 · UNDERSOLD: 498 busy, 2 unavailable");
    assert.equal(toneOf(broken), "warn");
    const run = summary(broken, "Phone");
    assert.equal(run.tone, "warn");
    assert.equal(run.sold, "nothing sold of 100");
    assert.equal(run.over, "UNDERSOLD: 498 busy, 2 unavailable");
  });

  test("sold some: UNDERSOLD by the units refused buyers could have bought", () => {
    const failfast = report({ sold: 40, oversold: 0, busy: 460 });
    assert.equal(undersoldOf(failfast), 60);
    assert.equal(verdictOf(failfast), "sold 40 / 100 · UNDERSOLD by 60: 460 busy");
    assert.equal(toneOf(failfast), "warn");
    assert.equal(undersoldOf(report({ buyers: 60, sold: 40, oversold: 0, busy: 20 })), 20);
  });

  test("fewer buyers than stock, or sold out: no undersell", () => {
    assert.equal(toneOf(report({ buyers: 40, sold: 40, oversold: 0 })), "good");
    assert.equal(toneOf(report({ sold: 100, oversold: 0, sold_out: 300, busy: 100 })), "good");
    // A timeline kept without the counts: nothing to say about refusals.
    assert.equal(verdictOf({ sold: 2, stock_before: 2, oversold: 0 }), "sold 2 / 2 · no oversell");
  });
});

describe("knobsOf", () => {
  test("names the business step always, the other knobs when set", () => {
    assert.deepEqual(knobsOf(report()), ["20 ms business step"]);
    assert.deepEqual(knobsOf(report({ pause_ms: 5, ttl_ms: 300, deadline_ms: 0 })), [
      "20 ms business step",
      "5 ms pause",
      "TTL 300 ms",
      "deadline 0 ms",
    ]);
  });
});

describe("summary", () => {
  test("an oversold crowd is bad news, with every number in the detail", () => {
    const run = summary(report(), "Flash-sale phone");
    assert.deepEqual(run, {
      tone: "bad",
      headline: "sold 500 / 100 · oversold by 400",
      detail: "lock none · 500 buyers · 20 ms business step · 0 sold out · 0 busy · 1.2 s",
      lock: "none",
      sold: "sold 500 / 100",
      over: "oversold by 400",
      meta: "Flash-sale phone · 500 buyers · 20 ms · 1.2 s",
    });
  });

  test("a locked crowd that sold the stock exactly is good news, and names what else happened", () => {
    const run = summary(
      report({ lock: "redis", sold: 100, oversold: 0, sold_out: 390, busy: 7, lock_lost: 2, failed: 1, ttl_ms: 3000, elapsed_ms: 2960 }),
      "Phone",
    );
    assert.equal(run.tone, "good");
    assert.equal(run.over, "no oversell");
    assert.equal(
      run.detail,
      "lock redis · 500 buyers · 20 ms business step · TTL 3000 ms · 390 sold out · 7 busy · 2 lost their lock · 1 failed · 3.0 s",
    );
    assert.equal(run.meta, "Phone · 500 buyers · 20 ms · TTL 3000 ms · 2 lost their lock · 1 failed · 3.0 s");
  });
});

describe("restockedSentence", () => {
  test("is null for a crowd no restock overtook", () => {
    assert.equal(restockedSentence({ sold: 20, sold_after_restock: 0, stock_before: 20 }), null);
  });

  test("splits the sales between the stock the crowd ran on and the new one", () => {
    const r = { restocked_during: true, sold: 120, sold_after_restock: 100, stock_before: 20 };
    assert.equal(
      restockedSentence(r),
      "Restocked during the crowd: 100 of these sales came from the new stock, 20 from the 20 units it started with.",
    );
  });
});

describe("duplicates", () => {
  test("make a crowd bad, are named in the headline and explained", () => {
    const run = summary(report({ sold: 30, oversold: 0, limit_reached: 20, duplicates: 20 }), "Phone");
    assert.equal(run.tone, "bad");
    assert.equal(run.headline, "sold 30 / 100 · no oversell · 20 duplicates");
    assert.ok(run.detail.includes("20 refused at the limit per buyer"), run.detail);
    assert.ok(run.detail.endsWith(DUPLICATES_WHY), run.detail);
  });

  test("are not mentioned when there are none", () => {
    assert.equal(verdictOf(report({ duplicates: 0 })), "sold 500 / 100 · oversold by 400");
  });
});
