// Lanes as the API's trace gives them (every time in ms since the crowd
// began), shared by the timeline's tests.

export function lane(buyer, fields = {}) {
  return {
    buyer,
    arrived: 0,
    lock_acquired: null,
    read_at: null,
    read_stock: null,
    wrote_at: null,
    wrote_stock: null,
    done: 1,
    outcome: "busy",
    ...fields,
  };
}

// A buyer that read `read` at `at` and wrote one less 20 ms later.
export const seller = (buyer, at, read) =>
  lane(buyer, { read_at: at, read_stock: read, wrote_at: at + 20, wrote_stock: read - 1, done: at + 21, outcome: "sold" });

// A redis lock with ttl_ms 100 under work_ms 200: the holder's lock expires
// halfway through its work, the next buyer takes it and reads the same stock.
export const staleHolder = (buyer, at, read) =>
  lane(buyer, {
    lock_acquired: at,
    lock_ttl_ms: 100,
    lock_expires_at: at + 100,
    read_at: at + 1,
    read_stock: read,
    wrote_at: at + 201,
    wrote_stock: read - 1,
    done: at + 202,
    outcome: "sold",
  });
