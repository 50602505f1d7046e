-- Release a lock only if we still own it: compare the token, then delete, in
-- one atomic step. (GET then DEL from the client could delete a lock that
-- expired and was taken by someone else in between.)
-- A missing key reads as `false` in Lua, never `nil`, and never equals a token.
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
else
    return 0
end
