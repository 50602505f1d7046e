-- The answers of purchases sent with an `Idempotency-Key` header, kept 24 h
-- so that a retry (on any instance, after a restart) gets the first answer
-- instead of buying again. `status` is NULL while the first request runs.
CREATE TABLE idempotency_keys (
    key         TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status      SMALLINT,
    body        JSONB,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
