-- redis-fair, a waiter's turn. KEYS: 1 the lock, 2 the queue (ZSET token ->
-- ticket), 3 liveness (ZSET token -> expiry ms), 4 the ticket counter, 5 each
-- waiter's TTL (HASH token -> ms). ARGV: 1 our token, 2 our TTL ms, 3 our
-- liveness lease ms.
-- Answers {1, 0} when the lock is ours, {0, pttl} when we wait (pttl: the
-- holder's remaining TTL, -2 if none).
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)

-- Forget waiters that stopped coming back (crashed, or gave up silently).
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)) do
    redis.call('ZREM', KEYS[2], gone)
    redis.call('HDEL', KEYS[5], gone)
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)

local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
    -- Handed to us by the last holder's release, for as long as our liveness
    -- lasted: claim it, for our whole TTL from now.
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {1, 0}
end
if not holder then
    local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
    if head == nil or head == ARGV[1] then
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        redis.call('ZREM', KEYS[2], ARGV[1])
        redis.call('ZREM', KEYS[3], ARGV[1])
        redis.call('HDEL', KEYS[5], ARGV[1])
        return {1, 0}
    end
end

-- Wait in line: a ticket on first arrival, then keep our place alive.
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
    redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[4]), ARGV[1])
    redis.call('HSET', KEYS[5], ARGV[1], ARGV[2])
end
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[1])
return {0, redis.call('PTTL', KEYS[1])}
