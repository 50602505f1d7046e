-- Take the lock and mint its fencing token in one atomic step (redis-fenced).
-- KEYS[1] the lock, KEYS[2] the product's fence counter; ARGV[1] our token,
-- ARGV[2] the TTL in ms. Minting the token in a second command would let a
-- holder that paused between the two get a higher token than the next one.
-- SET ... NX answers false (nil) when the key exists.
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    return redis.call('INCR', KEYS[2])
end
return false
