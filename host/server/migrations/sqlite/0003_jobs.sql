-- Intents become durable jobs: a worker holds a lease on the intent it runs
-- and renews it with a heartbeat; an expired lease lets another worker (or
-- the same node after a restart) take the intent over. Every completed
-- stage's output is kept, so a resumed intent continues at its first
-- unfinished stage. Cancellation and approval decisions are recorded here.

ALTER TABLE intents ADD COLUMN lease_owner TEXT;
ALTER TABLE intents ADD COLUMN lease_expires INTEGER; -- unix milliseconds
ALTER TABLE intents ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
ALTER TABLE intents ADD COLUMN approval TEXT; -- JSON {decision, by, comment, at}

ALTER TABLE stage_runs ADD COLUMN iteration INTEGER NOT NULL DEFAULT 0;

CREATE TABLE stage_outputs (
    intent_id  TEXT NOT NULL REFERENCES intents (id),
    key        TEXT NOT NULL, -- e.g. `0/generate/1`, `export`, `deliver`
    output     TEXT NOT NULL, -- JSON
    created_at TEXT NOT NULL,
    PRIMARY KEY (intent_id, key)
);
