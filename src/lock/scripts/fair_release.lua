-- redis-fair, release by handing over: if the lock is still ours, give it
-- straight to the oldest waiter that is still alive and tell the instances on
-- ARGV[2]; with nobody alive waiting, delete it. KEYS as in fair_acquire.lua
-- (1 lock, 2 queue, 3 liveness, 5 TTLs; 4 unused).
-- ARGV: 1 our token, 2 the wake-up channel.
-- Answers false (nil) when the lock was no longer ours, '' when released to
-- nobody, or the token it was handed to.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
    return false
end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)

-- The oldest waiter whose liveness has not run out; the others (crashed, or
-- gave up silently) leave the line on the way.
while true do
    local next = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
    if next == nil then
        redis.call('DEL', KEYS[1])
        return ''
    end
    local alive_until = tonumber(redis.call('ZSCORE', KEYS[3], next))
    local ttl = tonumber(redis.call('HGET', KEYS[5], next) or '5000')
    redis.call('ZREM', KEYS[2], next)
    redis.call('ZREM', KEYS[3], next)
    redis.call('HDEL', KEYS[5], next)
    if alive_until and alive_until > now then
        -- Handed for no longer than the waiter's own liveness: a live waiter
        -- claims it (extends it to its TTL) at once; one that died meanwhile
        -- blocks the line no longer than its lease, never for a whole TTL.
        redis.call('SET', KEYS[1], next, 'PX', math.floor(math.min(ttl, alive_until - now)))
        redis.call('PUBLISH', ARGV[2], next)
        return next
    end
end
