-- The fence counter fell behind the fence stored in Postgres (Redis lost it:
-- a restart without persistence, a failover). While the lock is still ours,
-- move the counter past the stored fence and mint a new token from there, so
-- a reset counter can never block a product for good. Not ours: nil.
-- KEYS[1] the lock, KEYS[2] the counter; ARGV[1] our token, ARGV[2] the fence.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
    return false
end
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
local floor = tonumber(ARGV[2])
if current < floor then
    redis.call('SET', KEYS[2], floor)
end
return redis.call('INCR', KEYS[2])
