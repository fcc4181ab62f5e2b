//! Tenants' submission rates: one token bucket per tenant
//! ([`crate::policy::Bucket`]) in the `rate_buckets` table, taken from in a
//! write transaction, so submissions through every replica sharing the
//! database draw on one bucket.

use std::time::Duration;

use super::{Result, Store};
use crate::policy::Bucket;

impl Store {
    /// Takes one submission of `tenant`, allowed `per_minute`, at `now_ms`;
    /// `Err(wait)` when the tenant must wait that long for the next one.
    pub async fn take_submission(
        &self,
        tenant: &str,
        per_minute: u32,
        now_ms: i64,
    ) -> Result<std::result::Result<(), Duration>> {
        let mut tx = self.write().await?;
        let row: Option<(f64, i64)> =
            sqlx::query_as("SELECT tokens, at_ms FROM rate_buckets WHERE tenant_id = $1")
                .bind(tenant)
                .fetch_optional(&mut *tx)
                .await?;
        let before = row.map(|(tokens, at_ms)| Bucket { tokens, at_ms });
        let (after, taken) = Bucket::take(before, per_minute, now_ms);
        sqlx::query(
            "INSERT INTO rate_buckets (tenant_id, tokens, at_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id) DO UPDATE SET tokens = excluded.tokens, at_ms = excluded.at_ms",
        )
        .bind(tenant)
        .bind(after.tokens)
        .bind(after.at_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(taken)
    }
}
