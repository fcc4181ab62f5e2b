-- Webhooks an operator registered, and every delivery of every event to
-- them with its attempts. A delivery is written in the same transaction as
-- the intent outcome it reports, so no event is lost to a crash.

CREATE TABLE webhooks (
    id         TEXT PRIMARY KEY NOT NULL,
    url        TEXT NOT NULL,
    events     TEXT NOT NULL, -- JSON array of event names
    secret     TEXT NOT NULL, -- HMAC-SHA256 key
    created_at TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY NOT NULL,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event           TEXT NOT NULL,
    intent_id       TEXT NOT NULL,
    payload         TEXT NOT NULL, -- the JSON body sent
    -- pending | delivered | failed
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL, -- unix milliseconds
    attempt_log     TEXT NOT NULL DEFAULT '[]', -- JSON: [{at, status_code?, error?}]
    created_at      TEXT NOT NULL
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_ms);
