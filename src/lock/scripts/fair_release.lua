-- redis-fair, release by handing over: if the lock is still ours, give it
-- straight to the oldest live waiter (with that waiter's TTL) and tell the
-- instances on ARGV[2]; with nobody waiting, delete it. KEYS as in
-- fair_acquire.lua (1 lock, 2 queue, 3 liveness, 5 TTLs; 4 unused).
-- ARGV: 1 our token, 2 the wake-up channel.
-- Answers false (nil) when the lock was no longer ours, '' when released to
-- nobody, or the token it was handed to.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
    return false
end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)) do
    redis.call('ZREM', KEYS[2], gone)
    redis.call('HDEL', KEYS[5], gone)
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)

local next = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
if next == nil then
    redis.call('DEL', KEYS[1])
    return ''
end
local ttl = redis.call('HGET', KEYS[5], next) or '5000'
redis.call('SET', KEYS[1], next, 'PX', ttl)
redis.call('ZREM', KEYS[2], next)
redis.call('ZREM', KEYS[3], next)
redis.call('HDEL', KEYS[5], next)
redis.call('PUBLISH', ARGV[2], next)
return next
