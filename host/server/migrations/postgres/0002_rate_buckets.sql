-- Each tenant's submission rate (`submissions_per_minute`): a token
-- bucket, kept here so replicas sharing the database share it and a
-- restart does not refill it.
CREATE TABLE rate_buckets (
    tenant_id TEXT PRIMARY KEY NOT NULL,
    tokens    DOUBLE PRECISION NOT NULL,
    at_ms     BIGINT NOT NULL
);
