//! Retention: what the store forgets, and when. A background task of
//! `qlp serve` prunes on the operator's schedule (`--prune-every`):
//!
//! - the stage outputs of finished intents (every file of every stage, kept
//!   only so that an interrupted run resumes; a finished one never does),
//!   some time after the intent ended;
//! - idempotency keys past their lifetime (a retry that late is a new
//!   request);
//! - webhook delivery records that ended (delivered or given up);
//! - where the operator sets a capsule retention, finished intents with
//!   their capsules, stage records and files.
//!
//! Each kind of row goes in one statement per pass; a pass that meets a
//! busy or full database stops and the next one tries again.

use std::time::{Duration, SystemTime};

use super::{Result, Store};

/// How long each kind of record is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Stage outputs, after their intent finished.
    pub stage_outputs: Duration,
    /// Idempotency keys, after they were first used.
    pub idempotency_keys: Duration,
    /// Webhook deliveries that ended, after they were queued.
    pub webhook_deliveries: Duration,
    /// Finished intents and their capsules; `None` keeps them for ever.
    pub capsules: Option<Duration>,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            stage_outputs: Duration::from_secs(24 * 3600),
            idempotency_keys: Duration::from_secs(24 * 3600),
            webhook_deliveries: Duration::from_secs(7 * 24 * 3600),
            capsules: None,
        }
    }
}

/// What one pass removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pruned {
    pub stage_outputs: u64,
    pub idempotency_keys: u64,
    pub webhook_deliveries: u64,
    /// The intents removed with their capsules: their directories on disk
    /// are the caller's to remove (after the rows, so no row ever names a
    /// missing directory).
    pub intents: Vec<String>,
}

/// RFC 3339 of `now - age`, comparable as text with the stored times
/// (all UTC, one format).
fn cutoff(now: SystemTime, age: Duration) -> String {
    humantime::format_rfc3339_millis(now.checked_sub(age).unwrap_or(SystemTime::UNIX_EPOCH))
        .to_string()
}

impl Store {
    /// Removes what `retention` no longer keeps, as of `now`.
    pub async fn prune(&self, retention: &Retention, now: SystemTime) -> Result<Pruned> {
        let mut pruned = Pruned::default();
        let outputs = cutoff(now, retention.stage_outputs);
        // The statuses are those of intents that will not run again.
        pruned.stage_outputs = sqlx::query(
            "DELETE FROM stage_outputs WHERE intent_id IN
               (SELECT id FROM intents
                WHERE status IN ('completed', 'gate_failed', 'failed', 'rejected', 'cancelled')
                  AND updated_at < $1)",
        )
        .bind(&outputs)
        .execute(self.pool())
        .await?
        .rows_affected();
        pruned.idempotency_keys = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(cutoff(now, retention.idempotency_keys))
            .execute(self.pool())
            .await?
            .rows_affected();
        pruned.webhook_deliveries = sqlx::query(
            "DELETE FROM webhook_deliveries WHERE status IN ('delivered', 'failed') AND created_at < $1",
        )
        .bind(cutoff(now, retention.webhook_deliveries))
        .execute(self.pool())
        .await?
        .rows_affected();
        if let Some(age) = retention.capsules {
            pruned.intents = self.remove_finished_before(&cutoff(now, age)).await?;
        }
        Ok(pruned)
    }

    /// Removes the finished intents last changed before `cutoff` with
    /// everything recorded of them, in one transaction; returns their ids.
    async fn remove_finished_before(&self, cutoff: &str) -> Result<Vec<String>> {
        let mut tx = self.write().await?;
        let ids: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM intents
             WHERE status IN ('completed', 'gate_failed', 'failed', 'rejected', 'cancelled')
               AND updated_at < $1",
        )
        .bind(cutoff)
        .fetch_all(&mut *tx)
        .await?;
        for (id,) in &ids {
            for table in [
                "DELETE FROM stage_outputs WHERE intent_id = $1",
                "DELETE FROM stage_runs WHERE intent_id = $1",
                "DELETE FROM idempotency_keys WHERE intent_id = $1",
                "DELETE FROM capsules WHERE intent_id = $1",
                "DELETE FROM intents WHERE id = $1",
            ] {
                sqlx::query(table).bind(id).execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        Ok(ids.into_iter().map(|(id,)| id).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::{on_both, open_on};
    use crate::store::{Actor, Backend, IntentStatus};
    use qlp_contract::model::Intent;

    fn intent(id: &str) -> Intent {
        Intent {
            id: id.into(),
            description: "a service".into(),
            requirements: vec![],
            constraints: vec![],
            tier: "standard".into(),
            kind: Default::default(),
        }
    }

    /// A store with one finished intent (`done`) and one still waiting
    /// for approval (`waiting`), each with a stage output and a key.
    async fn store_with_two_intents(backend: Backend) -> (Option<tempfile::TempDir>, Store) {
        let (dir, store) = open_on(backend).await;
        for (id, status) in [
            ("done", IntentStatus::Completed),
            ("waiting", IntentStatus::AwaitingApproval),
        ] {
            store
                .insert_intent_idempotent(
                    &intent(id),
                    &Actor::for_tests(),
                    &format!("key-{id}"),
                    "digest",
                )
                .await
                .unwrap();
            store
                .put_output(id, "0/generate/1", &serde_json::json!({ "files": [] }))
                .await
                .unwrap();
            sqlx::query("UPDATE intents SET status = $1 WHERE id = $2")
                .bind(status.as_str())
                .bind(id)
                .execute(store.pool())
                .await
                .unwrap();
        }
        (dir, store)
    }

    async fn nothing_younger_than_its_retention_is_pruned(backend: Backend) {
        let (_dir, store) = store_with_two_intents(backend).await;
        let pruned = store
            .prune(&Retention::default(), SystemTime::now())
            .await
            .unwrap();
        assert_eq!(pruned, Pruned::default());
        assert_eq!(store.outputs("done").await.unwrap().len(), 1);
        assert!(
            store
                .idempotent_intent(&Actor::for_tests(), "key-done")
                .await
                .unwrap()
                .is_some()
        );
    }

    async fn outputs_of_finished_intents_and_old_keys_go_and_the_rest_stays(backend: Backend) {
        let (_dir, store) = store_with_two_intents(backend).await;
        let later = SystemTime::now() + Duration::from_secs(2 * 24 * 3600);
        let pruned = store.prune(&Retention::default(), later).await.unwrap();
        assert_eq!(pruned.stage_outputs, 1);
        assert_eq!(pruned.idempotency_keys, 2);
        assert!(pruned.intents.is_empty(), "capsules are kept by default");
        assert!(store.outputs("done").await.unwrap().is_empty());
        // An intent awaiting approval resumes from its outputs later.
        assert_eq!(store.outputs("waiting").await.unwrap().len(), 1);
        assert!(store.get_intent("done").await.unwrap().is_some());
    }

    async fn a_capsule_retention_removes_finished_intents_whole(backend: Backend) {
        let (_dir, store) = store_with_two_intents(backend).await;
        let later = SystemTime::now() + Duration::from_secs(3600);
        let retention = Retention {
            capsules: Some(Duration::from_secs(60)),
            ..Retention::default()
        };
        let pruned = store.prune(&retention, later).await.unwrap();
        assert_eq!(pruned.intents, ["done"]);
        assert!(store.get_intent("done").await.unwrap().is_none());
        assert!(store.get_intent("waiting").await.unwrap().is_some());
    }

    on_both!(
        nothing_younger_than_its_retention_is_pruned,
        outputs_of_finished_intents_and_old_keys_go_and_the_rest_stays,
        a_capsule_retention_removes_finished_intents_whole,
    );
}
