-- What each flash crowd did, as its report, so that a page can show a
-- verdict by the crowd's id instead of trusting numbers in its address.
-- Only the newest few hundred are kept (see crowd::save_report).
CREATE TABLE crowd_runs (
    id         UUID PRIMARY KEY,
    product_id BIGINT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    report     JSONB  NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX crowd_runs_created_at_idx ON crowd_runs (created_at);
