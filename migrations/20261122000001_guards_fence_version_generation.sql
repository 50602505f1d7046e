-- Columns the lock lab's guards need on the product row:
--   fence      the highest fencing token that has claimed the row (redis-fenced);
--              a holder writes only while the fence is still its own token.
--   version    bumped by every write of the stock (pg-optimistic writes only
--              when the version is still the one it read).
--   generation bumped by every restock; a sale writes back only within the
--              generation it read, so a restock can never be overwritten by a
--              sale that was in flight (for every strategy, locked or not).
ALTER TABLE products
    ADD COLUMN fence      BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN version    BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
