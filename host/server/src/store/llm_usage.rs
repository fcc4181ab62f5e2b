//! Tenants' daily model tokens (`max_llm_tokens_per_day`): a running
//! intent holds back the tokens it may spend, in a write transaction, so
//! that every replica and every running intent of a tenant draw on one
//! quota and together never pass it. When the run ends it keeps only what
//! it spent; a run that never settles (a crash) holds its share until the
//! day ends.

use super::{Result, Store};

impl Store {
    /// Holds back up to `want` tokens of `tenant`'s `quota` on `day` (UTC
    /// `YYYY-MM-DD`) for intent `id`: what its own earlier runs that day
    /// spent and what the tenant's other intents hold count against the
    /// quota. Returns the tokens held for this run, 0 when the quota is
    /// spent.
    pub async fn hold_llm_tokens(
        &self,
        id: &str,
        tenant: &str,
        day: &str,
        want: u64,
        quota: u64,
    ) -> Result<u64> {
        let mut tx = self.write().await?;
        let (others,): (Option<i64>,) = sqlx::query_as(
            "SELECT CAST(SUM(held) AS BIGINT) FROM llm_usage \
             WHERE tenant_id = $1 AND day = $2 AND intent_id <> $3",
        )
        .bind(tenant)
        .bind(day)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let mine: Option<(i64,)> =
            sqlx::query_as("SELECT spent FROM llm_usage WHERE intent_id = $1 AND day = $2")
                .bind(id)
                .bind(day)
                .fetch_optional(&mut *tx)
                .await?;
        let spent = mine.map_or(0, |(s,)| s.max(0) as u64);
        let used = (others.unwrap_or(0).max(0) as u64).saturating_add(spent);
        let held = want.min(quota.saturating_sub(used));
        sqlx::query(
            "INSERT INTO llm_usage (intent_id, tenant_id, day, spent, held) VALUES ($1, $2, $3, 0, $4) \
             ON CONFLICT (intent_id, day) DO UPDATE SET held = llm_usage.spent + $4",
        )
        .bind(id)
        .bind(tenant)
        .bind(day)
        .bind(i64::try_from(held).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(held)
    }

    /// Ends intent `id`'s hold on `day`: it spent `spent` of what it held,
    /// and holds nothing more.
    pub async fn settle_llm_tokens(&self, id: &str, day: &str, spent: u64) -> Result<()> {
        let spent = i64::try_from(spent).unwrap_or(i64::MAX);
        sqlx::query(
            "UPDATE llm_usage SET spent = spent + $1, held = spent + $1 \
             WHERE intent_id = $2 AND day = $3",
        )
        .bind(spent)
        .bind(id)
        .bind(day)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The tokens `tenant` spent or holds on `day`.
    pub async fn llm_tokens_used(&self, tenant: &str, day: &str) -> Result<u64> {
        let (used,): (Option<i64>,) = sqlx::query_as(
            "SELECT CAST(SUM(held) AS BIGINT) FROM llm_usage WHERE tenant_id = $1 AND day = $2",
        )
        .bind(tenant)
        .bind(day)
        .fetch_one(self.pool())
        .await?;
        Ok(used.unwrap_or(0).max(0) as u64)
    }
}
