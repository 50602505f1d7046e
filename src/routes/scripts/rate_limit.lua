-- The purchase rate limit, shared by every instance: GCRA (the generic cell
-- rate algorithm, as the in-process `governor` crate runs it), with the
-- state in Redis so that N instances allow the rate once, not N times.
-- One key per client holds the theoretical arrival time (TAT) of its next
-- request, in microseconds of Redis's own clock (one clock for all).
--
-- KEYS[1]  the client's key
-- ARGV[1]  the emission interval T in µs (1 s / rate)
-- ARGV[2]  the burst tolerance τ in µs ((burst - 1) × T)
-- Returns 0 when allowed, else the µs to wait before the next one is.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])

-- A missing key is Lua `false`, never `nil`.
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then
  tat = now
end
if tat - now > tolerance then
  return math.ceil(tat - now - tolerance)
end
local next_tat = tat + interval
-- %.0f: a Lua number turned into a string as is would be '1.7e+15'.
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX',
  math.ceil((next_tat - now) / 1000) + 1)
return 0
