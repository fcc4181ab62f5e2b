-- A tenant's policy (JSON, see `policy::TenantPolicy`): its tiers, its
-- compliance floors and its quotas. NULL: no policy.
ALTER TABLE tenants ADD COLUMN policy TEXT;

-- Per-tenant counts of queued and running intents, for the quotas and for
-- the claim that skips a tenant at its running limit.
CREATE INDEX intents_tenant_status ON intents (tenant_id, status);
