-- Put a product's stock into Redis for one generation: at a restock, or
-- when Redis has none (restarted, flushed). The caller computed it from
-- Postgres minus the orders still queued; this only refuses to go back:
-- when Redis already has this generation or a newer one, it is left alone
-- (another instance seeded it first, and sales may have started since).
--
-- KEYS[1] the product's stock hash, KEYS[2] its units-per-buyer hash
-- ARGV[1] generation, ARGV[2] stock, ARGV[3] orders still queued,
-- ARGV[4] units per buyer ('' for no limit), then pairs: buyer, units
-- Returns 1 when seeded, 0 when left alone.
local current = redis.call('HGET', KEYS[1], 'generation')
if current and tonumber(current) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], 'generation', ARGV[1], 'stock', ARGV[2], 'queued', ARGV[3])
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[1], 'per_buyer', ARGV[4])
end
for i = 5, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
return 1
