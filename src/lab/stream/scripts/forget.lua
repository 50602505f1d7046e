-- Forget a product's stock in Redis when it belongs to a generation older
-- than Postgres's (a restock whose write to Redis failed): the gate then
-- sells nothing until the stock is seeded again from Postgres.
--
-- KEYS[1] the product's stock hash; ARGV[1] the generation in Postgres
-- Returns 1 when forgotten.
local current = redis.call('HGET', KEYS[1], 'generation')
if current and tonumber(current) < tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
