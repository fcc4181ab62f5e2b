-- Idempotency-Key on POST /v1/intents: the first accepted request under a
-- key is remembered with a digest of its body, so a retry replays the same
-- response and a different body under the same key is refused.
CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY,
    body_digest TEXT NOT NULL,
    intent_id TEXT NOT NULL REFERENCES intents (id),
    created_at TEXT NOT NULL
);
