//! The audit trail: one entry per state-changing call, appended in the
//! transaction of the change it records, and chained: each entry's hash
//! covers its fields and the hash of the entry before it, so an entry
//! edited or removed in the database breaks the chain from there on
//! ([`Store::verify_audit`], `qlp audit verify`).
//!
//! The chain proves the order and content of what it holds; it cannot by
//! itself tell that its newest entries were cut off. Operators who need
//! that ship the newest hash elsewhere (it is in every page of
//! `GET /v1/audit`).

use super::Conn;
use serde::Serialize;

use super::{Result, Store, now};

/// The hash the first entry chains to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who did what, as a change records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The tenant acted in (or on).
    pub tenant: String,
    /// [`crate::auth::Caller::identity`], or what acted without a request
    /// (`qlp` for the server itself).
    pub identity: String,
    /// The request's id (`X-Request-Id`), empty without a request.
    pub request_id: String,
}

impl Actor {
    pub fn of(caller: &crate::auth::Caller) -> Self {
        Self {
            tenant: caller.tenant.clone(),
            identity: caller.identity.clone(),
            request_id: caller.request_id.clone(),
        }
    }

    /// The default tenant's `tests`.
    #[cfg(test)]
    pub fn for_tests() -> Self {
        Self {
            tenant: crate::auth::DEFAULT_TENANT.into(),
            identity: "tests".into(),
            request_id: String::new(),
        }
    }

    /// The server itself, acting for `tenant`.
    pub fn server(tenant: &str) -> Self {
        Self {
            tenant: tenant.to_owned(),
            identity: "qlp".into(),
            request_id: String::new(),
        }
    }

    /// The same actor, recorded against another tenant (an admin acting
    /// on a tenant's keys).
    pub fn on(&self, tenant: &str) -> Self {
        Self {
            tenant: tenant.to_owned(),
            ..self.clone()
        }
    }
}

/// One entry of the trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = AuditEntry)]
pub struct Entry {
    pub seq: i64,
    pub at: String,
    pub identity: String,
    pub tenant: String,
    /// e.g. `intent.submit`, `key.revoke`.
    pub action: String,
    /// What was acted on: an intent, key, tenant, webhook or package.
    pub target: String,
    /// What came of it: `ok`, or the resulting state.
    pub outcome: String,
    pub request_id: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Entry {
    /// The hash the entry's fields and its predecessor's hash give.
    pub fn expected_hash(&self) -> String {
        let fields = (
            self.seq,
            &self.at,
            &self.identity,
            &self.tenant,
            &self.action,
            &self.target,
            &self.outcome,
            &self.request_id,
            &self.prev_hash,
        );
        let bytes = serde_json::to_vec(&fields).expect("strings and numbers serialize");
        blake3::hash(&bytes).to_hex().to_string()
    }
}

/// Appends an entry inside the caller's write transaction (begun with
/// [`Store::write`], so no other append interleaves).
pub(crate) async fn append(
    conn: &mut Conn,
    actor: &Actor,
    action: &str,
    target: &str,
    outcome: &str,
) -> Result<()> {
    let last: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    let (seq, prev_hash) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_owned()),
    };
    let mut entry = Entry {
        seq,
        at: now(),
        identity: actor.identity.clone(),
        tenant: actor.tenant.clone(),
        action: action.to_owned(),
        target: target.to_owned(),
        outcome: outcome.to_owned(),
        request_id: actor.request_id.clone(),
        prev_hash,
        hash: String::new(),
    };
    entry.hash = entry.expected_hash();
    sqlx::query(
        "INSERT INTO audit_log (seq, at, identity, tenant_id, action, target, outcome, request_id, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(entry.seq)
    .bind(&entry.at)
    .bind(&entry.identity)
    .bind(&entry.tenant)
    .bind(&entry.action)
    .bind(&entry.target)
    .bind(&entry.outcome)
    .bind(&entry.request_id)
    .bind(&entry.prev_hash)
    .bind(&entry.hash)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Where a chain stopped holding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub seq: i64,
    pub reason: String,
}

/// What [`Store::verify_audit`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Entries read.
    pub entries: u64,
    /// The newest entry's hash ([`GENESIS`] for an empty trail).
    pub head: String,
    /// The first entry that does not hold, if any.
    pub broken: Option<Broken>,
}

type Row = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

fn entry(
    (seq, at, identity, tenant, action, target, outcome, request_id, prev_hash, hash): Row,
) -> Entry {
    Entry {
        seq,
        at,
        identity,
        tenant,
        action,
        target,
        outcome,
        request_id,
        prev_hash,
        hash,
    }
}

/// Entries read per query while verifying.
const VERIFY_BATCH: i64 = 1_000;

impl Store {
    /// Appends an entry on its own, for a change that is not in the
    /// database (a published package, a reloaded tiers file).
    pub async fn audit(
        &self,
        actor: &Actor,
        action: &str,
        target: &str,
        outcome: &str,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        append(&mut tx, actor, action, target, outcome).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Up to `limit` entries after `after`, oldest first: of `tenant`, or
    /// of every tenant.
    pub async fn audit_page(
        &self,
        tenant: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Entry>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT seq, at, identity, tenant_id, action, target, outcome, request_id, prev_hash, hash
             FROM audit_log WHERE seq > $1 AND ($2 IS NULL OR tenant_id = $3) ORDER BY seq LIMIT $4",
        )
        .bind(after)
        .bind(tenant)
        .bind(tenant)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(entry).collect())
    }

    /// Walks the whole chain: every entry must follow its predecessor
    /// (sequence numbers without gaps, `prev_hash` its predecessor's hash)
    /// and carry the hash of its own fields.
    pub async fn verify_audit(&self) -> Result<Verified> {
        let mut prev_seq = 0;
        let mut prev_hash = GENESIS.to_owned();
        let mut entries = 0;
        loop {
            let rows: Vec<Row> = sqlx::query_as(
                "SELECT seq, at, identity, tenant_id, action, target, outcome, request_id, prev_hash, hash
                 FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
            )
            .bind(prev_seq)
            .bind(VERIFY_BATCH)
            .fetch_all(self.pool())
            .await?;
            if rows.is_empty() {
                return Ok(Verified {
                    entries,
                    head: prev_hash,
                    broken: None,
                });
            }
            for row in rows {
                let e = entry(row);
                let reason = if e.seq != prev_seq + 1 {
                    Some(format!(
                        "entries {} to {} are missing",
                        prev_seq + 1,
                        e.seq - 1
                    ))
                } else if e.prev_hash != prev_hash {
                    Some("it does not chain to the entry before it".to_owned())
                } else if e.hash != e.expected_hash() {
                    Some("its fields do not match its hash (edited)".to_owned())
                } else {
                    None
                };
                if let Some(reason) = reason {
                    return Ok(Verified {
                        entries,
                        head: prev_hash,
                        broken: Some(Broken { seq: e.seq, reason }),
                    });
                }
                entries += 1;
                prev_seq = e.seq;
                prev_hash = e.hash;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Backend;
    use crate::store::tests::{on_both, open_on};

    async fn trail(backend: Backend, n: usize) -> (Option<tempfile::TempDir>, Store) {
        let (dir, store) = open_on(backend).await;
        let actor = Actor::server("default");
        for i in 0..n {
            store
                .audit(&actor, "test.act", &format!("t{i}"), "ok")
                .await
                .unwrap();
        }
        (dir, store)
    }

    async fn an_untouched_chain_verifies_and_pages(backend: Backend) {
        let (_dir, store) = trail(backend, 5).await;
        let verified = store.verify_audit().await.unwrap();
        assert_eq!(verified.entries, 5);
        assert_eq!(verified.broken, None);
        let page = store.audit_page(Some("default"), 2, 2).await.unwrap();
        assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 4]);
        assert_eq!(
            page[0].prev_hash,
            store.audit_page(None, 1, 1).await.unwrap()[0].hash
        );
        assert_eq!(
            verified.head,
            store.audit_page(None, 4, 1).await.unwrap()[0].hash
        );
        assert!(
            store
                .audit_page(Some("other"), 0, 10)
                .await
                .unwrap()
                .is_empty()
        );
    }

    async fn an_edited_entry_is_named(backend: Backend) {
        let (_dir, store) = trail(backend, 5).await;
        sqlx::query("UPDATE audit_log SET outcome = 'refused' WHERE seq = 3")
            .execute(store.pool())
            .await
            .unwrap();
        let broken = store.verify_audit().await.unwrap().broken.unwrap();
        assert_eq!(broken.seq, 3);
        assert!(broken.reason.contains("edited"), "{}", broken.reason);
    }

    async fn a_removed_entry_is_named(backend: Backend) {
        let (_dir, store) = trail(backend, 5).await;
        sqlx::query("DELETE FROM audit_log WHERE seq = 2")
            .execute(store.pool())
            .await
            .unwrap();
        let broken = store.verify_audit().await.unwrap().broken.unwrap();
        assert_eq!(broken.seq, 3);
        assert!(broken.reason.contains("missing"), "{}", broken.reason);
    }

    async fn a_rehashed_entry_still_breaks_the_link_to_its_successor(backend: Backend) {
        let (_dir, store) = trail(backend, 4).await;
        let mut e = store.audit_page(None, 1, 1).await.unwrap().remove(0);
        e.target = "forged".into();
        e.hash = e.expected_hash();
        sqlx::query("UPDATE audit_log SET target = $1, hash = $2 WHERE seq = 2")
            .bind(&e.target)
            .bind(&e.hash)
            .execute(store.pool())
            .await
            .unwrap();
        let broken = store.verify_audit().await.unwrap().broken.unwrap();
        assert_eq!(broken.seq, 3);
        assert!(broken.reason.contains("chain"), "{}", broken.reason);
    }

    on_both!(
        an_untouched_chain_verifies_and_pages,
        an_edited_entry_is_named,
        a_removed_entry_is_named,
        a_rehashed_entry_still_breaks_the_link_to_its_successor,
    );
}
