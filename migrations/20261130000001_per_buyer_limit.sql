-- A limit per buyer, set with the stock (NULL: no limit).
ALTER TABLE products
    ADD COLUMN per_buyer INTEGER CHECK (per_buyer IS NULL OR per_buyer > 0);

-- How many units each buyer got in one generation of a product: the key that
-- cannot hold a duplicate. The sale's write-back upserts this row in the same
-- statement (or transaction) as the decrement; a buyer past `cap` violates
-- the CHECK, so the whole write — decrement and order — is rolled back. The
-- primary key's NOT NULL on `user_name` is what refuses a limited purchase
-- without a buyer.
CREATE TABLE buyer_counts (
    product_id BIGINT  NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    generation BIGINT  NOT NULL,
    user_name  TEXT    NOT NULL,
    cap        INTEGER NOT NULL,
    bought     INTEGER NOT NULL,
    PRIMARY KEY (product_id, generation, user_name),
    CONSTRAINT buyer_counts_within_limit CHECK (bought <= cap)
);

-- Orders per buyer, for `duplicates` and for `duplicate_check=count`.
CREATE INDEX orders_product_user_idx ON orders (product_id, user_name);
