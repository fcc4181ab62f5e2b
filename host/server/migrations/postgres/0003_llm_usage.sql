-- Tokens each intent spent on the model endpoint per day, and what a
-- running intent holds back (`held`, at least `spent`): a tenant's daily
-- quota (`max_llm_tokens_per_day`) is shared by every replica and every
-- running intent through these rows.
CREATE TABLE llm_usage (
    intent_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    day       TEXT NOT NULL,
    spent     BIGINT NOT NULL,
    held      BIGINT NOT NULL,
    PRIMARY KEY (intent_id, day)
);
CREATE INDEX llm_usage_tenant_day ON llm_usage (tenant_id, day);
