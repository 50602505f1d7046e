-- Extend a lock only while it is still ours: compare the token, then PEXPIRE,
-- in one atomic step (redis-watchdog's renewal). 0: it is no longer ours.
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
