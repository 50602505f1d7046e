// What the timeline says in words, without a browser: node --test static/test/
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { laneCells, laneSentence, ms, outcomeWord, outcomesOf, readsOf } from "../timeline-words.js";

import { lane, seller as sold, staleHolder as stale } from "./lanes.js";

describe("ms", () => {
  test("shows a decimal below 10 ms, whole ms from 10, and a dash for what did not happen", () => {
    assert.equal(ms(0), "0.0");
    assert.equal(ms(3.14159), "3.1");
    assert.equal(ms(9.94), "9.9");
    assert.equal(ms(10), "10");
    assert.equal(ms(123.6), "124");
    assert.equal(ms(null), "—");
    assert.equal(ms(undefined), "—");
  });
});

describe("outcomeWord", () => {
  test("says each outcome in words, and an unknown one as it came", () => {
    assert.equal(outcomeWord("sold_out"), "sold out");
    assert.equal(outcomeWord("lock_lost"), "lock lost");
    assert.equal(outcomeWord("sold"), "sold");
    assert.equal(outcomeWord("mystery"), "mystery");
  });
});

describe("readsOf", () => {
  test("with the lock off: the reads in order, and the buyers who sold the same unit", () => {
    const e = { lanes: [sold(3, 2, 2), sold(1, 1, 2), sold(2, 1.5, 2), lane(4, { read_at: 40, read_stock: 0, outcome: "sold_out" })] };
    assert.deepEqual(readsOf(e), {
      sequence: "Reads, in order: 2 ×3 → 0",
      sentence: "3 buyers read the same stock, 2, and each sold a unit of it.",
    });
  });

  test("with the lock on: each seller read what the one before it wrote", () => {
    const e = { lanes: [sold(2, 30, 1), sold(1, 5, 2), lane(3, { read_at: 60, read_stock: 0, outcome: "sold_out" })] };
    assert.deepEqual(readsOf(e), {
      sequence: "Reads, in order: 2 → 1 → 0",
      sentence: "Each seller read what the one before it wrote.",
    });
  });

  test("names the largest group of sellers who read the same stock", () => {
    const e = { lanes: [sold(1, 1, 5), sold(2, 2, 5), sold(3, 3, 4), sold(4, 4, 4), sold(5, 5, 4)] };
    assert.equal(readsOf(e).sentence, "3 buyers read the same stock, 4, and each sold a unit of it.");
  });

  test("counts the buyers who lost their lock", () => {
    const e = {
      lanes: [
        sold(1, 1, 2),
        lane(2, { lock_acquired: 30, read_at: 30, read_stock: 1, done: 90, outcome: "lock_lost" }),
        lane(3, { lock_acquired: 31, read_at: 31, read_stock: 1, done: 91, outcome: "lock_lost" }),
      ],
    };
    assert.deepEqual(readsOf(e), {
      sequence: "Reads, in order: 2 → 1 ×2",
      sentence: "2 lost their lock before writing and sold nothing.",
    });
  });

  test("says when nobody read the stock, and nothing more", () => {
    assert.deepEqual(readsOf({ lanes: [lane(1), lane(2)] }), { sequence: "Nobody read the stock", sentence: "" });
    assert.deepEqual(readsOf({ lanes: [] }), { sequence: "Nobody read the stock", sentence: "" });
  });

  test("a single seller shows no pattern", () => {
    assert.equal(readsOf({ lanes: [sold(1, 1, 1)] }).sentence, "");
  });
});

describe("outcomesOf", () => {
  test("counts each outcome in the order it first appears", () => {
    const lanes = [sold(1, 1, 2), lane(2, { outcome: "busy" }), sold(3, 2, 1), lane(4, { outcome: "sold_out" })];
    assert.equal(outcomesOf(lanes), "2 sold · 1 busy · 1 sold out");
    assert.equal(outcomesOf([]), "");
  });
});

describe("laneSentence", () => {
  test("tells a seller's lane step by step", () => {
    const l = lane(4, { arrived: 0.5, lock_acquired: 12.25, read_at: 12.4, read_stock: 2, wrote_at: 62.4, wrote_stock: 1, done: 62.9, outcome: "sold" });
    assert.equal(
      laneSentence(l),
      "Buyer 4: arrived at 0.5 ms, took the lock at 12 ms, read 2 at 12 ms, wrote 1 at 62 ms, done at 63 ms: sold",
    );
  });

  test("leaves out what never happened", () => {
    assert.equal(laneSentence(lane(7, { arrived: 1, done: 5.55, outcome: "busy" })), "Buyer 7: arrived at 1.0 ms, done at 5.5 ms: busy");
  });
});

describe("laneCells", () => {
  test("gives the table's row as text, a dash for what never happened", () => {
    const l = lane(1, { arrived: 1, read_at: 2, read_stock: 0, done: 3, outcome: "sold_out" });
    assert.deepEqual(laneCells(l), ["1.0", "—", "—", "2.0", "0", "—", "—", "3.0", "sold out"]);
  });

  test("gives when the lock expired only when it expired under its holder", () => {
    const expired = lane(1, { lock_acquired: 1, lock_ttl_ms: 100, lock_expires_at: 101, read_at: 2, read_stock: 2, wrote_at: 202, wrote_stock: 1, done: 203, outcome: "sold" });
    assert.equal(laneCells(expired)[2], "101");
    const kept = { ...expired, lock_ttl_ms: 5000, lock_expires_at: 5001 };
    assert.equal(laneCells(kept)[2], "—");
  });
});

describe("a lock that expired under its holder, in words", () => {
  test("the lane's sentence says where the lock expired and that the write came after", () => {
    assert.equal(
      laneSentence(stale(3, 0, 2)),
      "Buyer 3: arrived at 0.0 ms, took the lock at 0.0 ms, its lock expired at 100 ms (TTL 100 ms), " +
        "read 2 at 1.0 ms, wrote 1 at 201 ms, after its lock had expired, done at 202 ms: sold",
    );
  });

  test("the reads' sentence counts the stale writes", () => {
    const e = { stock_before: 2, lanes: [stale(1, 0, 2), stale(2, 100, 2), sold(3, 400, 1)] };
    assert.equal(
      readsOf(e).sentence,
      "2 buyers read the same stock, 2, and each sold a unit of it. 2 wrote after their lock had expired.",
    );
    assert.match(readsOf({ stock_before: 2, lanes: [stale(1, 0, 2)] }).sentence, /^1 wrote after its lock had expired\.$/);
  });

  test("a lock whose TTL outlived the hold is not mentioned", () => {
    const kept = { ...stale(3, 0, 2), lock_ttl_ms: 5000, lock_expires_at: 5000 };
    assert.doesNotMatch(laneSentence(kept), /expired/);
  });
});

describe("laneSentence of the fast strategies", () => {
  test("names a pg-batch buyer's batch", () => {
    const l = lane(2, { arrived: 0, lock_acquired: 10, read_at: 10, read_stock: 5, wrote_at: 14, wrote_stock: 3, done: 15, outcome: "sold", batch: 41, batch_size: 17 });
    assert.equal(
      laneSentence(l),
      "Buyer 2: arrived at 0.0 ms, took the lock at 10 ms, read 5 at 10 ms, wrote 3 at 14 ms, in batch 41 of 17 buyers, done at 15 ms: sold",
    );
  });

  test("tells when a redis-stream order was queued and when it was written, or that it is not yet", () => {
    const written = lane(1, { arrived: 0, queued_at: 2, done: 3, written_at: 130, outcome: "sold" });
    assert.equal(
      laneSentence(written),
      "Buyer 1: arrived at 0.0 ms, order queued at 2.0 ms, done at 3.0 ms: sold, order written at 130 ms",
    );
    const waiting = lane(1, { arrived: 0, queued_at: 2, done: 3, outcome: "sold" });
    assert.match(laneSentence(waiting), /order not written yet$/);
  });
});
