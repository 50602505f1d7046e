// The timeline's layout, without a browser: node --test static/test/
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  READ_COLOURS,
  WIDTH,
  badgeHeight,
  badgeWidth,
  batchLabel,
  expiredWhileHeld,
  laneHeight,
  laneOrder,
  layout,
  niceStep,
  sharedEnd,
  timeAxis,
  timelineEnd,
  valueClass,
  wroteAfterExpiry,
} from "../timeline-layout.js";

import { lane, seller, staleHolder } from "./lanes.js";

describe("laneOrder", () => {
  test("puts lanes in the order the buyers read the stock", () => {
    const lanes = [seller(1, 30, 1), seller(2, 5, 2), seller(3, 10, 2)];
    assert.deepEqual(
      laneOrder(lanes).map((l) => l.buyer),
      [2, 3, 1],
    );
  });

  test("places a buyer who never read by when it took the lock, else by when it gave up", () => {
    const lanes = [
      lane(1, { done: 50 }),
      lane(2, { lock_acquired: 20, done: 21, outcome: "lock_lost" }),
      seller(3, 10, 2),
    ];
    assert.deepEqual(
      laneOrder(lanes).map((l) => l.buyer),
      [3, 2, 1],
    );
  });

  test("breaks ties by buyer and leaves its argument as it was", () => {
    const lanes = [seller(3, 5, 2), seller(1, 5, 2), seller(2, 5, 2)];
    assert.deepEqual(
      laneOrder(lanes).map((l) => l.buyer),
      [1, 2, 3],
    );
    assert.deepEqual(
      lanes.map((l) => l.buyer),
      [3, 1, 2],
    );
  });
});

describe("valueClass", () => {
  test("gives the stock before the crowd the first colour, one less the second, and so on", () => {
    assert.equal(valueClass(5, 5), "tl-v0");
    assert.equal(valueClass(5, 4), "tl-v1");
    assert.equal(valueClass(5, 1), "tl-v4");
  });

  test("cycles through READ_COLOURS colours, the same stock always the same colour", () => {
    assert.equal(READ_COLOURS, 8);
    assert.equal(valueClass(20, 20 - READ_COLOURS), "tl-v0");
    assert.equal(valueClass(20, 11), "tl-v1");
    assert.equal(valueClass(2, 2), valueClass(2, 2));
  });

  test("colours a stock above the one before (a restock) within the cycle", () => {
    assert.equal(valueClass(2, 3), "tl-v7");
  });

  test("greys 0 and below, and marks a lane that read nothing", () => {
    assert.equal(valueClass(5, 0), "tl-vzero");
    assert.equal(valueClass(5, -2), "tl-vzero");
    assert.equal(valueClass(5, null), "tl-vnone");
    assert.equal(valueClass(5, undefined), "tl-vnone");
  });
});

describe("niceStep", () => {
  test("takes a round step of 1, 2, 2.5 or 5 times a power of ten, for about six ticks", () => {
    assert.equal(niceStep(6), 1);
    assert.equal(niceStep(7), 2);
    assert.equal(niceStep(15), 2.5);
    assert.equal(niceStep(25), 5);
    assert.equal(niceStep(60), 10);
    assert.equal(niceStep(61), 20);
    assert.equal(niceStep(1200), 200);
  });

  test("never gives fewer than about six ticks, nor many more", () => {
    for (const span of [1, 3.7, 9, 42, 180, 999, 12345]) {
      const ticks = span / niceStep(span);
      assert.ok(ticks > 2.3 && ticks <= 6, `${span}: ${ticks} ticks`);
    }
  });
});

describe("timeAxis", () => {
  test("rounds the end up to a whole step and maps 0 … domain onto x0 … x1", () => {
    const axis = timeAxis(53, 100, 500);
    assert.equal(axis.step, 10);
    assert.equal(axis.domain, 60);
    assert.equal(axis.x(0), 100);
    assert.equal(axis.x(30), 300);
    assert.equal(axis.x(60), 500);
  });

  test("puts a time before the crowd began at 0", () => {
    assert.equal(timeAxis(53, 100, 500).x(-4), 100);
  });

  test("labels a tick per step from 0 to the domain, with a decimal only when needed", () => {
    const axis = timeAxis(14, 0, 120);
    assert.equal(axis.step, 2.5);
    assert.deepEqual(
      axis.ticks.map((t) => t.label),
      ["0", "2.5", "5", "7.5", "10", "12.5", "15"],
    );
    assert.deepEqual(
      axis.ticks.map((t) => t.x),
      [0, 20, 40, 60, 80, 100, 120],
    );
  });

  test("labels steps below 1 ms with one decimal, without the sums' rounding errors", () => {
    assert.deepEqual(
      timeAxis(1, 0, 100).ticks.map((t) => t.label),
      ["0", "0.2", "0.4", "0.6", "0.8", "1"],
    );
  });
});

describe("lane and badge sizes", () => {
  test("lanes get thinner as the crowd grows", () => {
    assert.deepEqual(
      [1, 12, 13, 25, 26, 200].map(laneHeight),
      [40, 40, 32, 32, 26, 26],
    );
  });

  test("dense lanes get smaller badges", () => {
    assert.deepEqual(
      [40, 32, 26].map(badgeHeight),
      [24, 24, 20],
    );
  });

  test("a badge is as wide as its number needs, never narrower than it is high", () => {
    assert.equal(badgeWidth(7, 24), 24);
    assert.ok(badgeWidth(100, 24) > badgeWidth(10, 24));
    assert.ok(badgeWidth(1000, 24) > 24);
  });
});

describe("layout", () => {
  // The lock off: two buyers read 2 at once and both sell; one finds 0.
  const off = {
    stock_before: 2,
    lanes: [seller(2, 1.5, 2), seller(1, 1, 2), lane(3, { read_at: 40, read_stock: 0, done: 40.5, outcome: "sold_out" })],
  };

  test("is WIDTH wide and as high as its lanes and the axis under them", () => {
    const at = layout(off);
    assert.equal(at.width, WIDTH);
    assert.equal(at.laneH, 40);
    assert.equal(at.height, 8 + 3 * 40 + 50);
    assert.equal(at.dense, false);
    assert.equal(at.axis.gridBottom, 8 + 3 * 40 + 6);
  });

  test("has a lane each, in the order of the reads, top to bottom, coloured by the stock read", () => {
    const at = layout(off);
    assert.deepEqual(
      at.lanes.map((m) => [m.lane.buyer, m.y, m.colour]),
      [
        [1, 28, "tl-v0"],
        [2, 68, "tl-v0"],
        [3, 108, "tl-vzero"],
      ],
    );
  });

  test("stripes every other lane across the whole width", () => {
    const at = layout(off);
    assert.deepEqual(
      at.lanes.map((m) => m.stripe),
      [null, { x: 0, y: 48, width: WIDTH, height: 40 }, null],
    );
  });

  test("ends the axis at a round time after the last write", () => {
    const at = layout(off);
    // The last mark is buyer 3 done at 40.5 ms: ticks of 10 ms up to 50.
    assert.deepEqual(
      at.axis.ticks.map((t) => t.label),
      ["0", "10", "20", "30", "40", "50"],
    );
    const last = at.axis.ticks[at.axis.ticks.length - 1];
    assert.equal(last.x, WIDTH - 100 - 18);
    assert.equal(at.axis.ticks[0].x, 96 + 14);
  });

  test("keeps a written badge clear of the read badge, however soon the write", () => {
    const quick = { stock_before: 9, lanes: [lane(1, { read_at: 10, read_stock: 9, wrote_at: 10.01, wrote_stock: 8, done: 11, outcome: "sold" })] };
    const [m] = layout(quick).lanes;
    assert.ok(m.wrote.x - m.wrote.w / 2 >= m.read.x + m.read.w / 2 + 3, JSON.stringify(m));
    assert.equal(m.wrote.colour, "tl-v1");
    assert.equal(m.read.value, 9);
    assert.equal(m.wrote.value, 8);
  });

  test("draws the lock's holding around both badges, however short it was", () => {
    const locked = {
      stock_before: 2,
      lanes: [
        lane(1, { arrived: 0, lock_acquired: 30, read_at: 30.01, read_stock: 2, wrote_at: 30.02, wrote_stock: 1, done: 30.03, outcome: "sold" }),
        lane(2, { arrived: 0, done: 50, outcome: "busy" }),
      ],
    };
    const [m] = layout(locked).lanes;
    assert.ok(m.hold.x <= m.read.x - m.read.w / 2 - 4);
    assert.ok(m.hold.x + m.hold.width >= m.wrote.x + m.wrote.w / 2 + 4);
    assert.equal(m.hold.height, layout(locked).badgeH + 10);
    assert.equal(m.hold.y + m.hold.height / 2, m.y);
  });

  test("draws the wait up to the lock, and a buyer who never got it waiting all its life", () => {
    const lanes = [
      lane(1, { arrived: 2, lock_acquired: 12, read_at: 12.1, read_stock: 1, wrote_at: 30, wrote_stock: 0, done: 30.1, outcome: "sold" }),
      lane(2, { arrived: 3, done: 40, outcome: "busy" }),
    ];
    const at = layout({ stock_before: 1, lanes });
    const [first, busy] = at.lanes;
    const axis = timeAxis(40, 110, 502);
    assert.deepEqual(first.wait, { from: axis.x(2), to: axis.x(12) });
    assert.deepEqual(busy.wait, { from: axis.x(3), to: axis.x(40) });
    assert.deepEqual(busy.life, busy.wait);
    assert.equal(busy.hold, null);
    assert.equal(busy.read, null);
    assert.equal(busy.work, null);
    assert.equal(busy.colour, "tl-vnone");
  });

  test("without a lock: no wait, no holding, the work from the read to the write", () => {
    const [m] = layout({ stock_before: 2, lanes: [seller(1, 1, 2)] }).lanes;
    assert.equal(m.wait, null);
    assert.equal(m.hold, null);
    assert.equal(m.work.x, m.read.x);
    assert.ok(m.work.width > 0);
  });

  test("a buyer who read but never wrote works until done, and has no written badge", () => {
    const [m] = layout({
      stock_before: 3,
      lanes: [lane(1, { lock_acquired: 1, read_at: 1.1, read_stock: 3, done: 60, outcome: "lock_lost" })],
    }).lanes;
    assert.equal(m.wrote, null);
    assert.ok(m.work.width > 100, JSON.stringify(m.work));
  });

  test("a crowd of 30 is dense: thinner lanes, smaller badges", () => {
    const lanes = Array.from({ length: 30 }, (_, i) => seller(i + 1, i, 30 - i));
    const at = layout({ stock_before: 30, lanes });
    assert.equal(at.dense, true);
    assert.equal(at.laneH, 26);
    assert.equal(at.badgeH, 20);
    assert.equal(at.lanes.length, 30);
    assert.deepEqual(
      at.lanes.slice(0, 9).map((m) => m.colour),
      ["tl-v0", "tl-v1", "tl-v2", "tl-v3", "tl-v4", "tl-v5", "tl-v6", "tl-v7", "tl-v0"],
    );
  });

  test("an empty crowd still has an axis", () => {
    const at = layout({ stock_before: 1, lanes: [] });
    assert.equal(at.lanes.length, 0);
    assert.equal(at.height, 8 + 50);
    assert.ok(at.axis.ticks.length >= 2);
  });
});

describe("pg-batch and redis-stream marks", () => {
  // Two batches: the first (server's batch 41) sold buyers 1 and 2 at 10 ms,
  // the second (42) found buyer 3 sold out at 20 ms.
  const inBatch = (buyer, batch, size, at, read, outcome) =>
    lane(buyer, {
      arrived: 0,
      lock_acquired: at,
      read_at: at,
      read_stock: read,
      wrote_at: outcome === "sold" ? at + 5 : null,
      wrote_stock: outcome === "sold" ? read - buyer : null,
      done: at + 6,
      outcome,
      batch,
      batch_size: size,
    });
  const batched = {
    stock_before: 2,
    lanes: [inBatch(3, 42, 1, 20, 0, "sold_out"), inBatch(2, 41, 2, 10, 2, "sold"), inBatch(1, 41, 2, 10, 2, "sold")],
  };

  test("brackets each batch's lanes, numbered in the crowd's order, with its size", () => {
    const at = layout(batched);
    assert.deepEqual(
      at.batches.map((b) => [b.ordinal, b.batch, b.size, b.buyers, b.label.text]),
      [
        [1, 41, 2, [1, 2], "batch 1 · 2 buyers"],
        [2, 42, 1, [3], "batch 2 · 1 buyer"],
      ],
    );
    const [first, second] = at.batches;
    assert.equal(first.bracket.y1, at.lanes[0].y - at.laneH / 2 + 3);
    assert.equal(first.bracket.y2, at.lanes[1].y + at.laneH / 2 - 3);
    assert.ok(second.bracket.y1 > first.bracket.y2, "batches do not overlap");
  });

  test("puts the bracket left of the batch's first marks and the label where it fits", () => {
    const at = layout(batched);
    const [first] = at.batches;
    for (const m of at.lanes.slice(0, 2)) assert.ok(first.bracket.x < m.hold.x, JSON.stringify([first, m.hold]));
    assert.equal(first.label.anchor, "start");
    assert.ok(first.label.x > at.lanes[0].hold.x + at.lanes[0].hold.width);
    // The last batch ends at the axis' end: no room on its right.
    const late = { stock_before: 1, lanes: [inBatch(1, 7, 1, 95, 1, "sold")] };
    const [only] = layout(late).batches;
    assert.equal(only.label.anchor, "end");
    assert.ok(only.label.x < only.bracket.x);
  });

  test("a crowd without batches has none, and lanes without the new fields draw as before", () => {
    const at = layout({ stock_before: 2, lanes: [seller(1, 1, 2)] });
    assert.deepEqual(at.batches, []);
    assert.equal(at.lanes[0].queued, null);
    assert.equal(at.lanes[0].written, null);
  });

  test("batchLabel counts buyers", () => {
    assert.equal(batchLabel(3, 17), "batch 3 · 17 buyers");
    assert.equal(batchLabel(1, 1), "batch 1 · 1 buyer");
  });

  test("marks a queued order, and its write after the answer, extending the axis", () => {
    const queued = lane(1, { arrived: 0, queued_at: 2, done: 3, written_at: 130, outcome: "sold" });
    const waiting = lane(2, { arrived: 0, queued_at: 4, done: 5, outcome: "sold" });
    const at = layout({ stock_before: 5, lanes: [waiting, queued] });
    assert.deepEqual(
      at.lanes.map((m) => m.lane.buyer),
      [1, 2],
      "ordered by when they were queued",
    );
    const last = at.axis.ticks[at.axis.ticks.length - 1];
    assert.ok(Number(last.label) >= 130, "the axis reaches the write");
    const axis = timeAxis(130, 110, 502);
    const [m, w] = at.lanes;
    assert.deepEqual(m.queued, { x: axis.x(2) });
    assert.deepEqual(m.written, { x: axis.x(130), from: axis.x(2) });
    assert.ok(m.written.x > m.life.to, "written after done");
    assert.deepEqual(w.written, null, "not written yet");
    assert.deepEqual(w.queued, { x: axis.x(4) });
  });
});

describe("a lock that expires under its holder", () => {
  test("is marked where the TTL ran out, inside the holding box, with the rest of the box shaded", () => {
    const at = layout({ stock_before: 2, lanes: [staleHolder(1, 0, 2), staleHolder(2, 100, 2)] });
    const [first, second] = at.lanes;
    // The axis runs 0–400 ms (steps of 100) on x from 110 to 502.
    const x = (t) => 110 + (392 * t) / 400;
    assert.equal(first.expiry.x, x(100));
    assert.equal(second.expiry.x, x(200));
    for (const m of [first, second]) {
      assert.ok(m.expiry.x > m.hold.x && m.expiry.x < m.hold.x + m.hold.width, "inside the box");
      assert.equal(m.expiry.stale.x + m.expiry.stale.width, m.hold.x + m.hold.width, "shaded to the box's end");
      assert.ok(m.expiry.y1 < m.hold.y && m.expiry.y2 > m.hold.y + m.hold.height, "across the box");
    }
  });

  test("marks its write as stale, and a write before the expiry as not", () => {
    const at = layout({ stock_before: 2, lanes: [staleHolder(1, 0, 2)] });
    assert.equal(at.lanes[0].wrote.stale, true);
    const intime = { ...staleHolder(1, 0, 2), lock_ttl_ms: 5000, lock_expires_at: 5000 };
    const kept = layout({ stock_before: 2, lanes: [intime] }).lanes[0];
    assert.equal(kept.wrote.stale, false);
    assert.equal(kept.expiry, null, "a TTL that outlived the hold draws nothing");
  });

  test("does not stretch the axis to an expiry after the crowd", () => {
    const intime = { ...staleHolder(1, 0, 2), lock_ttl_ms: 5000, lock_expires_at: 5000 };
    assert.equal(layout({ stock_before: 2, lanes: [intime] }).axis.ticks.at(-1).label, "250");
  });

  test("a buyer refused for a lost lock gets a cross where it gave up", () => {
    const lost = lane(1, { lock_acquired: 0, lock_ttl_ms: 100, lock_expires_at: 100, read_at: 1, read_stock: 2, done: 150, outcome: "lock_lost" });
    const at = layout({ stock_before: 2, lanes: [lost, staleHolder(2, 100, 2)] });
    const m = at.lanes.find((l) => l.lane.buyer === 1);
    assert.deepEqual(m.lost, { x: m.life.to });
    assert.equal(m.wrote, null);
    assert.equal(at.lanes.find((l) => l.lane.buyer === 2).lost, null);
  });

  test("without the new fields (a timeline kept from before) draws no expiry", () => {
    const m = layout({ stock_before: 2, lanes: [seller(1, 5, 2)] }).lanes[0];
    assert.equal(m.expiry, null);
    assert.equal(m.lost, null);
  });

  test("the predicates read the lane's times", () => {
    assert.equal(expiredWhileHeld(staleHolder(1, 0, 2)), true);
    assert.equal(wroteAfterExpiry(staleHolder(1, 0, 2)), true);
    assert.equal(expiredWhileHeld({ ...staleHolder(1, 0, 2), lock_acquired: null }), false, "no lock, no expiry");
    assert.equal(wroteAfterExpiry({ ...staleHolder(1, 0, 2), lock_expires_at: 250 }), false);
  });
});

describe("two drawings side by side", () => {
  const short = { stock_before: 2, lanes: [seller(1, 5, 2), seller(2, 6, 2)] }; // ends at 27 ms
  const long = { stock_before: 2, lanes: [staleHolder(1, 0, 2), staleHolder(2, 100, 2)] }; // ends at 302 ms

  test("share the end of the longer", () => {
    assert.equal(timelineEnd(short), 27);
    assert.equal(timelineEnd(long), 302);
    assert.equal(sharedEnd([short, long]), 302);
    assert.equal(sharedEnd([]), 1);
  });

  test("draw on one time scale: the same ticks, the same x for the same ms", () => {
    const end = sharedEnd([short, long]);
    const left = layout(short, end);
    const right = layout(long, end);
    assert.deepEqual(left.axis.ticks, right.axis.ticks);
    assert.equal(left.axis.ticks.at(-1).label, "400");
    const x = (t) => 110 + (392 * t) / 400;
    assert.equal(left.lanes[0].life.to, x(26));
    assert.equal(right.lanes[0].life.to, x(202));
  });

  test("never cut a drawing short of its own end", () => {
    assert.equal(layout(long, 10).axis.ticks.at(-1).label, "400");
  });
});
