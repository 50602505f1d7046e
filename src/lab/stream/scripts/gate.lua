-- The gate of `redis-stream`: check the stock, take a unit and queue the
-- order, in one script, so two buyers can never take the last unit twice
-- and a unit is never taken without its order queued.
--
-- KEYS[1] the product's stock (hash: generation, stock, queued, per_buyer)
-- KEYS[2] units per buyer of that generation (hash: buyer -> units)
-- KEYS[3] the stream of queued orders
-- KEYS[4] the queued orders' ids (hash: order id -> product id)
-- ARGV[1] order id, ARGV[2] product id, ARGV[3] buyer ('' for none)
--
-- Returns {code, stock left, generation}: 1 queued, 0 sold out,
-- -1 no stock in Redis (restarted or flushed: seed it from Postgres first),
-- -2 the buyer's limit reached, -3 a limited product and no buyer.
local generation = redis.call('HGET', KEYS[1], 'generation')
-- A missing field is `false` in Lua, never `nil` (the documents' lock tests
-- `== nil` and never sees it): `not` catches both.
if not generation then
  return {-1, 0, 0}
end
generation = tonumber(generation)
local stock = tonumber(redis.call('HGET', KEYS[1], 'stock'))
if stock <= 0 then
  return {0, 0, generation}
end
local cap = redis.call('HGET', KEYS[1], 'per_buyer')
if cap then
  if ARGV[3] == '' then
    return {-3, stock, generation}
  end
  local bought = tonumber(redis.call('HGET', KEYS[2], ARGV[3]) or '0')
  if bought >= tonumber(cap) then
    return {-2, stock, generation}
  end
  redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
end
redis.call('HINCRBY', KEYS[1], 'stock', -1)
redis.call('HINCRBY', KEYS[1], 'queued', 1)
redis.call('XADD', KEYS[3], '*',
  'order', ARGV[1], 'product', ARGV[2], 'buyer', ARGV[3], 'generation', generation)
redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
return {1, stock - 1, generation}
