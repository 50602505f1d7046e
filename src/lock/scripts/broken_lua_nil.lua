-- BROKEN ON PURPOSE (seed 04's tryLockWithLua). A missing key reads as
-- `false` in Lua, never `nil`, so the test below never holds: nobody ever gets
-- the lock, and every buyer waits out the deadline. (The fix: `not v`, or
-- simply SET ... NX.)
if redis.call('GET', KEYS[1]) == nil then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
return 0
