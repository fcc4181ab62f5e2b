-- The PostgreSQL schema: the same tables and columns as the SQLite
-- migrations (`../sqlite`) reach at their last version, so one set of
-- statements serves both. Text stays text (JSON documents, RFC 3339
-- times), flags and counts are BIGINT (the store reads every integer as
-- i64), and unix-millisecond times are BIGINT.

CREATE TABLE tenants (
    id         TEXT PRIMARY KEY NOT NULL,
    created_at TEXT NOT NULL,
    policy     TEXT -- JSON, see `policy::TenantPolicy`; NULL: no policy
);

CREATE TABLE intents (
    id               TEXT PRIMARY KEY NOT NULL,
    description      TEXT NOT NULL,
    requirements     TEXT NOT NULL, -- JSON array of strings
    constraints      TEXT NOT NULL, -- JSON array of [key, value]
    tier             TEXT NOT NULL,
    status           TEXT NOT NULL,
    error_code       TEXT,
    error_message    TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    lease_owner      TEXT,
    lease_expires    BIGINT, -- unix milliseconds
    cancel_requested BIGINT NOT NULL DEFAULT 0,
    approval         TEXT, -- JSON {decision, by, comment, at}
    tenant_id        TEXT NOT NULL DEFAULT 'default',
    submitted_by     TEXT,
    kind             TEXT NOT NULL DEFAULT 'generate'
);

CREATE INDEX intents_status ON intents (status);
CREATE INDEX intents_tenant ON intents (tenant_id, created_at);
CREATE INDEX intents_tenant_status ON intents (tenant_id, status);
-- The claim's scan: the oldest queued (or expired) intent first.
CREATE INDEX intents_queue ON intents (created_at, id) WHERE status IN ('queued', 'running');

CREATE TABLE stage_runs (
    id            BIGSERIAL PRIMARY KEY,
    intent_id     TEXT NOT NULL REFERENCES intents (id),
    seq           BIGINT NOT NULL,
    stage         TEXT NOT NULL,
    plugin        TEXT,
    status        TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    duration_ms   BIGINT,
    error_code    TEXT,
    error_message TEXT,
    detail        TEXT, -- JSON
    iteration     BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX stage_runs_intent ON stage_runs (intent_id, seq);

CREATE TABLE capsules (
    intent_id       TEXT PRIMARY KEY NOT NULL REFERENCES intents (id),
    tier            TEXT NOT NULL,
    quality_score   BIGINT NOT NULL,
    gate_passed     BIGINT NOT NULL,
    gate_reasons    TEXT NOT NULL,
    files           TEXT NOT NULL,
    analyses        TEXT NOT NULL,
    analysis_errors TEXT NOT NULL,
    validations     TEXT NOT NULL,
    manifest        TEXT NOT NULL,
    artifact_name   TEXT,
    artifact_type   TEXT,
    receipt         TEXT,
    created_at      TEXT NOT NULL,
    artifacts       TEXT NOT NULL DEFAULT '[]',
    receipts        TEXT NOT NULL DEFAULT '[]'
);

CREATE TABLE stage_outputs (
    intent_id  TEXT NOT NULL REFERENCES intents (id),
    key        TEXT NOT NULL,
    output     TEXT NOT NULL, -- JSON
    created_at TEXT NOT NULL,
    PRIMARY KEY (intent_id, key)
);

CREATE TABLE idempotency_keys (
    tenant_id   TEXT NOT NULL,
    owner       TEXT NOT NULL,
    key         TEXT NOT NULL,
    body_digest TEXT NOT NULL,
    intent_id   TEXT NOT NULL REFERENCES intents (id),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, owner, key)
);

CREATE TABLE webhooks (
    id         TEXT PRIMARY KEY NOT NULL,
    url        TEXT NOT NULL,
    events     TEXT NOT NULL, -- JSON array of event names
    secret     TEXT NOT NULL, -- HMAC-SHA256 key
    created_at TEXT NOT NULL,
    tenant_id  TEXT NOT NULL DEFAULT 'default'
);

CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY NOT NULL,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event           TEXT NOT NULL,
    intent_id       TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT NOT NULL,
    attempt_log     TEXT NOT NULL DEFAULT '[]',
    created_at      TEXT NOT NULL
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_ms);

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY NOT NULL,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    name        TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    roles       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_ms  BIGINT,
    revoked_at  TEXT
);

CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE audit_log (
    seq        BIGINT PRIMARY KEY NOT NULL,
    at         TEXT NOT NULL,
    identity   TEXT NOT NULL,
    tenant_id  TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    request_id TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);

CREATE INDEX audit_log_tenant ON audit_log (tenant_id, seq);
