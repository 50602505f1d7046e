-- Acknowledge a batch of queued orders: each entry leaves the group's
-- pending list and the stream, its id leaves the queued ids, and its
-- product counts one order fewer queued (within the generation it was sold
-- from). XACK answers 1 only the first time, so an entry acknowledged twice
-- (a writer that died after acknowledging, its batch claimed again) is
-- counted once.
--
-- KEYS[1] the stream, KEYS[2] the queued orders' ids, KEYS[3..] the stock
-- hashes of the batch's products
-- ARGV[1] the consumer group, then per entry: entry id, order id,
-- index of its product's stock hash in KEYS, generation
-- Returns how many entries were acknowledged now.
local acked = 0
for i = 2, #ARGV, 4 do
  if redis.call('XACK', KEYS[1], ARGV[1], ARGV[i]) == 1 then
    redis.call('XDEL', KEYS[1], ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i + 1])
    local stock = KEYS[tonumber(ARGV[i + 2])]
    if redis.call('HGET', stock, 'generation') == ARGV[i + 3] then
      redis.call('HINCRBY', stock, 'queued', -1)
    end
    acked = acked + 1
  end
end
return acked
