// The header's badge, without a browser: node --test static/test/
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { liveState } from "../live.js";

describe("liveState", () => {
  test("live while the numbers come and /readyz is ready (or not asked yet)", () => {
    assert.deepEqual(liveState(true, null), { state: "live", text: "live" });
    const ready = { status: 200, body: { status: "ready", postgres: "up", redis: "up" } };
    assert.deepEqual(liveState(true, ready), { state: "live", text: "live" });
  });

  test("degraded, naming what is down, when /readyz answers 503", () => {
    const redis = { status: 503, body: { status: "unavailable", postgres: "up", redis: "down" } };
    assert.deepEqual(liveState(true, redis), { state: "degraded", text: "degraded · Redis down" });
    const both = { status: 503, body: { status: "unavailable", postgres: "down", redis: "down" } };
    assert.equal(liveState(false, both).text, "degraded · Postgres and Redis down");
  });

  test("reconnecting when the numbers do not come and nothing says why", () => {
    assert.deepEqual(liveState(false, null), { state: "stale", text: "reconnecting…" });
  });
});
