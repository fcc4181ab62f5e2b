-- Intents, the stages each ran and the capsule each produced.

CREATE TABLE intents (
    id            TEXT PRIMARY KEY NOT NULL,
    description   TEXT NOT NULL,
    requirements  TEXT NOT NULL, -- JSON array of strings
    constraints   TEXT NOT NULL, -- JSON array of [key, value]
    tier          TEXT NOT NULL,
    -- queued | running | completed | gate_failed | failed
    status        TEXT NOT NULL,
    error_code    TEXT,
    error_message TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE INDEX intents_status ON intents (status);

CREATE TABLE stage_runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    intent_id     TEXT NOT NULL REFERENCES intents (id),
    seq           INTEGER NOT NULL,
    stage         TEXT NOT NULL,
    plugin        TEXT,
    -- running | succeeded | failed | skipped
    status        TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    duration_ms   INTEGER,
    error_code    TEXT,
    error_message TEXT,
    detail        TEXT -- JSON
);

CREATE INDEX stage_runs_intent ON stage_runs (intent_id, seq);

CREATE TABLE capsules (
    intent_id       TEXT PRIMARY KEY NOT NULL REFERENCES intents (id),
    tier            TEXT NOT NULL,
    quality_score   INTEGER NOT NULL,
    gate_passed     INTEGER NOT NULL,
    gate_reasons    TEXT NOT NULL, -- JSON array of strings
    files           TEXT NOT NULL, -- JSON array of {path, size, blake3}
    analyses        TEXT NOT NULL, -- JSON
    analysis_errors TEXT NOT NULL, -- JSON
    validations     TEXT NOT NULL, -- JSON
    manifest        TEXT NOT NULL, -- the .qlcapsule-manifest.json text
    artifact_name   TEXT,
    artifact_type   TEXT,
    receipt         TEXT, -- JSON
    created_at      TEXT NOT NULL
);
