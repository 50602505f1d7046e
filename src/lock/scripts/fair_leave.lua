-- redis-fair, a waiter gives up at its deadline: leave the line at once. If
-- the lock was handed to us meanwhile, say so (1): the caller then releases
-- it, handing it on. KEYS as in fair_acquire.lua; ARGV[1] our token.
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return 1
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[5], ARGV[1])
return 0
