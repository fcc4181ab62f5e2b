-- The audit trail: every state-changing call, hash-chained (each hash
-- covers the entry's fields and the previous entry's hash), appended in
-- the transaction of the change it records.

CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY NOT NULL,
    at         TEXT NOT NULL,
    identity   TEXT NOT NULL,
    tenant_id  TEXT NOT NULL, -- '' for server-wide changes (the registry)
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    request_id TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);

CREATE INDEX audit_log_tenant ON audit_log (tenant_id, seq);
