-- Identity and tenancy: every intent, idempotency key and webhook belongs
-- to a tenant; API keys authenticate callers as an identity of a tenant
-- with a set of roles. Rows stored before tenancy belong to `default`,
-- the tenant the first start creates.

CREATE TABLE tenants (
    id         TEXT PRIMARY KEY NOT NULL, -- a slug: [a-z0-9-], 1 to 63 characters
    created_at TEXT NOT NULL
);

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY NOT NULL, -- the short id, in the key and in logs
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    name        TEXT NOT NULL,
    secret_hash TEXT NOT NULL, -- blake3 of the whole key, hex; the key itself is never stored
    roles       TEXT NOT NULL, -- JSON array of role names
    created_at  TEXT NOT NULL,
    expires_ms  INTEGER,       -- unix milliseconds; NULL: never
    revoked_at  TEXT
);

CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

ALTER TABLE intents ADD COLUMN tenant_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE intents ADD COLUMN submitted_by TEXT;
CREATE INDEX intents_tenant ON intents (tenant_id, created_at);

ALTER TABLE webhooks ADD COLUMN tenant_id TEXT NOT NULL DEFAULT 'default';

-- An idempotency key is its submitter's: two clients may use the same one
-- without meeting each other's intents.
CREATE TABLE idempotency_keys_scoped (
    tenant_id   TEXT NOT NULL,
    owner       TEXT NOT NULL, -- the submitter's identity; '' before identities
    key         TEXT NOT NULL,
    body_digest TEXT NOT NULL,
    intent_id   TEXT NOT NULL REFERENCES intents (id),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, owner, key)
);
INSERT INTO idempotency_keys_scoped (tenant_id, owner, key, body_digest, intent_id, created_at)
    SELECT 'default', '', key, body_digest, intent_id, created_at FROM idempotency_keys;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_scoped RENAME TO idempotency_keys;
