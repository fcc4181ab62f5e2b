//! Tenants and API keys. A key's secret is never stored, only its digest
//! ([`crate::auth::digest`]); a revoked key stays listed with the time it
//! was revoked.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::audit::{self, Actor};
use super::{Result, Store, now, now_ms};
use crate::auth::{self, Caller, NewKey, Role};
use crate::policy::TenantPolicy;

/// A key as listed: everything but its secret.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct KeyRecord {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub roles: BTreeSet<Role>,
    pub created_at: String,
    /// Unix milliseconds after which the key is refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// Why a presented key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRefused {
    /// No key has this id, or its secret is wrong.
    Unknown,
    Expired,
    Revoked,
}

/// Why a key or tenant was not created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("no tenant `{0}`")]
    NoTenant(String),
    #[error("tenant `{0}` exists already")]
    TenantExists(String),
    #[error("cannot keep the first admin key: {0}")]
    Keep(std::io::Error),
    #[error(transparent)]
    Store(#[from] super::Error),
}

impl From<sqlx::Error> for CreateError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

impl From<serde_json::Error> for CreateError {
    fn from(e: serde_json::Error) -> Self {
        Self::Store(e.into())
    }
}

fn key_from_row(row: &sqlx::any::AnyRow) -> Result<KeyRecord> {
    let roles: Vec<String> = serde_json::from_str(row.try_get("roles")?)?;
    Ok(KeyRecord {
        id: row.try_get("id")?,
        tenant: row.try_get("tenant_id")?,
        name: row.try_get("name")?,
        // A role this build does not know grants nothing.
        roles: roles.iter().filter_map(|r| Role::parse(r)).collect(),
        created_at: row.try_get("created_at")?,
        expires_ms: row.try_get("expires_ms")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

impl Store {
    /// Creates a tenant.
    pub async fn create_tenant(
        &self,
        id: &str,
        actor: &Actor,
    ) -> std::result::Result<(), CreateError> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "INSERT INTO tenants (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(CreateError::TenantExists(id.to_owned()));
        }
        audit::append(&mut tx, &actor.on(id), "tenant.create", id, "ok").await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every tenant, with when it was created, by id.
    pub async fn tenants(&self) -> Result<Vec<(String, String)>> {
        Ok(
            sqlx::query_as("SELECT id, created_at FROM tenants ORDER BY id")
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// The tenant intent `id` belongs to, if the intent exists.
    pub async fn intent_tenant(&self, id: &str) -> Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as("SELECT tenant_id FROM intents WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|(t,)| t))
    }

    /// The policy of the tenant intent `id` belongs to: the default when
    /// the intent or its tenant is gone.
    pub async fn intent_tenant_policy(&self, id: &str) -> Result<TenantPolicy> {
        let row: Option<(Option<String>,)> = sqlx::query_as(
            "SELECT t.policy FROM intents i JOIN tenants t ON t.id = i.tenant_id WHERE i.id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(match row {
            Some((Some(json),)) => serde_json::from_str(&json)?,
            _ => TenantPolicy::default(),
        })
    }

    /// The policy of `tenant`: `Ok(None)` when the tenant does not exist,
    /// the default (no rules) when it has none.
    pub async fn tenant_policy(&self, tenant: &str) -> Result<Option<TenantPolicy>> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT policy FROM tenants WHERE id = $1")
                .bind(tenant)
                .fetch_optional(self.pool())
                .await?;
        Ok(match row {
            None => None,
            Some((None,)) => Some(TenantPolicy::default()),
            Some((Some(json),)) => Some(serde_json::from_str(&json)?),
        })
    }

    /// Replaces the policy of `tenant`, with its audit entry. False when
    /// the tenant does not exist.
    pub async fn set_tenant_policy(
        &self,
        tenant: &str,
        policy: &TenantPolicy,
        actor: &Actor,
    ) -> Result<bool> {
        let mut tx = self.write().await?;
        let done = sqlx::query("UPDATE tenants SET policy = $1 WHERE id = $2")
            .bind(serde_json::to_string(policy)?)
            .bind(tenant)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        audit::append(&mut tx, &actor.on(tenant), "tenant.policy", tenant, "ok").await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Intents of `tenant` waiting for a worker.
    pub async fn tenant_queued_count(&self, tenant: &str) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM intents WHERE tenant_id = $1 AND status = 'queued'",
        )
        .bind(tenant)
        .fetch_one(self.pool())
        .await?;
        Ok(n)
    }

    /// Bytes `tenant` keeps: its capsules' files and artifacts.
    pub async fn tenant_stored_bytes(&self, tenant: &str) -> Result<i64> {
        let sql = match self.backend {
            super::Backend::Sqlite => {
                "SELECT COALESCE(SUM(
                     (SELECT COALESCE(SUM(json_extract(f.value, '$.size')), 0) FROM json_each(c.files) f)
                   + (SELECT COALESCE(SUM(json_extract(a.value, '$.bytes')), 0) FROM json_each(c.artifacts) a)
                 ), 0)
                 FROM capsules c JOIN intents i ON i.id = c.intent_id
                 WHERE i.tenant_id = $1"
            }
            super::Backend::Postgres => {
                "SELECT CAST(COALESCE(SUM(
                     (SELECT COALESCE(SUM((f.value ->> 'size')::bigint), 0)
                      FROM jsonb_array_elements(c.files::jsonb) f)
                   + (SELECT COALESCE(SUM((a.value ->> 'bytes')::bigint), 0)
                      FROM jsonb_array_elements(c.artifacts::jsonb) a)
                 ), 0) AS BIGINT)
                 FROM capsules c JOIN intents i ON i.id = c.intent_id
                 WHERE i.tenant_id = $1"
            }
        };
        let (n,): (i64,) = sqlx::query_as(sql)
            .bind(tenant)
            .fetch_one(self.pool())
            .await?;
        Ok(n)
    }

    /// Makes a key for `tenant`; the returned token is shown once and not
    /// kept.
    pub async fn create_key(
        &self,
        tenant: &str,
        name: &str,
        roles: &BTreeSet<Role>,
        expires_ms: Option<i64>,
        actor: &Actor,
    ) -> std::result::Result<(KeyRecord, String), CreateError> {
        let NewKey { id, token, digest } = auth::new_key().map_err(super::Error::Random)?;
        let record = KeyRecord {
            id,
            tenant: tenant.to_owned(),
            name: name.to_owned(),
            roles: roles.clone(),
            created_at: now(),
            expires_ms,
            revoked_at: None,
        };
        let mut tx = self.write().await?;
        let tenant_exists: Option<(String,)> =
            sqlx::query_as("SELECT id FROM tenants WHERE id = $1")
                .bind(tenant)
                .fetch_optional(&mut *tx)
                .await?;
        if tenant_exists.is_none() {
            return Err(CreateError::NoTenant(tenant.to_owned()));
        }
        let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        sqlx::query(
            "INSERT INTO api_keys (id, tenant_id, name, secret_hash, roles, created_at, expires_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&record.id)
        .bind(tenant)
        .bind(name)
        .bind(digest)
        .bind(serde_json::to_string(&roles)?)
        .bind(&record.created_at)
        .bind(expires_ms)
        .execute(&mut *tx)
        .await?;
        audit::append(&mut tx, &actor.on(tenant), "key.create", &record.id, "ok").await?;
        tx.commit().await?;
        Ok((record, token))
    }

    /// Keys of `tenant`, or of every tenant, oldest first.
    pub async fn keys(&self, tenant: Option<&str>) -> Result<Vec<KeyRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM api_keys WHERE $1 IS NULL OR tenant_id = $2 ORDER BY created_at, id",
        )
        .bind(tenant)
        .bind(tenant)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(key_from_row).collect()
    }

    /// Revokes a key; `false` when there is no such key. Revoking twice
    /// keeps the first time.
    pub async fn revoke_key(&self, id: &str, actor: &Actor) -> Result<bool> {
        let mut tx = self.write().await?;
        let tenant: Option<(String,)> = sqlx::query_as(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2
             RETURNING tenant_id",
        )
        .bind(now())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((tenant,)) = tenant else {
            return Ok(false);
        };
        audit::append(&mut tx, &actor.on(&tenant), "key.revoke", id, "ok").await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The caller a presented key authenticates. The secret is checked
    /// before the key's state, so expiry and revocation are told only to
    /// whoever holds the key.
    pub async fn authenticate(
        &self,
        token: &str,
    ) -> Result<std::result::Result<Caller, KeyRefused>> {
        let Some(id) = auth::key_id(token) else {
            return Ok(Err(KeyRefused::Unknown));
        };
        let row = sqlx::query("SELECT * FROM api_keys WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else {
            return Ok(Err(KeyRefused::Unknown));
        };
        let stored: String = row.try_get("secret_hash")?;
        if !auth::matches(token, &stored) {
            return Ok(Err(KeyRefused::Unknown));
        }
        let key = key_from_row(&row)?;
        if key.revoked_at.is_some() {
            return Ok(Err(KeyRefused::Revoked));
        }
        if key.expires_ms.is_some_and(|at| at <= now_ms()) {
            return Ok(Err(KeyRefused::Expired));
        }
        Ok(Ok(Caller {
            tenant: key.tenant,
            identity: format!("key:{}", key.id),
            roles: key.roles,
            request_id: String::new(),
        }))
    }

    /// On a store without keys, creates the default tenant and an admin
    /// key holding every role, hands its token to `keep` and returns it;
    /// `None` when keys exist. One transaction, committed only once `keep`
    /// succeeded: two servers starting on one database make one key, and a
    /// key is never made that nobody was given.
    pub async fn bootstrap_admin(
        &self,
        keep: impl FnOnce(&str) -> std::io::Result<()>,
    ) -> std::result::Result<Option<String>, CreateError> {
        let mut tx = self.write().await?;
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM api_keys")
            .fetch_one(&mut *tx)
            .await?;
        if n > 0 {
            return Ok(None);
        }
        let NewKey { id, token, digest } = auth::new_key().map_err(super::Error::Random)?;
        let now = now();
        sqlx::query(
            "INSERT INTO tenants (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
        )
        .bind(auth::DEFAULT_TENANT)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        sqlx::query(
            "INSERT INTO api_keys (id, tenant_id, name, secret_hash, roles, created_at)
             VALUES ($1, $2, 'first admin', $3, $4, $5)",
        )
        .bind(&id)
        .bind(auth::DEFAULT_TENANT)
        .bind(digest)
        .bind(serde_json::to_string(&roles)?)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        let actor = Actor::server(auth::DEFAULT_TENANT);
        audit::append(&mut tx, &actor, "key.create", &id, "ok").await?;
        keep(&token).map_err(CreateError::Keep)?;
        tx.commit().await?;
        Ok(Some(token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Backend;
    use crate::store::tests::{on_both, open_on};

    fn roles(r: &[Role]) -> BTreeSet<Role> {
        r.iter().copied().collect()
    }

    async fn the_first_admin_key_is_made_once_and_holds_every_role(backend: Backend) {
        let (_dir, store) = open_on(backend).await;
        assert!(store.keys(None).await.unwrap().is_empty());
        let failed = store
            .bootstrap_admin(|_| Err(std::io::Error::other("disk full")))
            .await;
        assert!(matches!(failed, Err(CreateError::Keep(_))));
        assert!(
            store.keys(None).await.unwrap().is_empty(),
            "a key nobody was given"
        );
        let mut kept = String::new();
        let token = store
            .bootstrap_admin(|t| {
                kept = t.to_owned();
                Ok(())
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(kept, token);
        assert!(store.bootstrap_admin(|_| Ok(())).await.unwrap().is_none());
        let caller = store.authenticate(&token).await.unwrap().unwrap();
        assert_eq!(caller.tenant, "default");
        assert_eq!(caller.roles, roles(&Role::ALL));
        assert!(caller.identity.starts_with("key:"));
    }

    async fn keys_are_refused_when_wrong_expired_or_revoked(backend: Backend) {
        let (_dir, store) = open_on(backend).await;
        store
            .create_tenant("acme", &Actor::for_tests())
            .await
            .unwrap();
        let (key, token) = store
            .create_key(
                "acme",
                "ci",
                &roles(&[Role::Submitter]),
                None,
                &Actor::for_tests(),
            )
            .await
            .unwrap();
        let caller = store.authenticate(&token).await.unwrap().unwrap();
        assert_eq!(caller.tenant, "acme");
        assert_eq!(caller.identity, format!("key:{}", key.id));
        // Made by an actor of `default`, recorded in the trail of the
        // tenant the key belongs to.
        let trail = store.audit_page(Some("acme"), 0, 10).await.unwrap();
        let made = trail.iter().find(|e| e.action == "key.create").unwrap();
        assert_eq!(
            (made.target.as_str(), made.identity.as_str()),
            (key.id.as_str(), "tests")
        );
        assert_eq!(caller.roles, roles(&[Role::Submitter]));

        let mut wrong = token.clone();
        wrong.pop();
        wrong.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(
            store.authenticate(&wrong).await.unwrap(),
            Err(KeyRefused::Unknown)
        );
        assert_eq!(
            store.authenticate("qlp_nope").await.unwrap(),
            Err(KeyRefused::Unknown)
        );

        let (_, expired) = store
            .create_key(
                "acme",
                "old",
                &roles(&[Role::Submitter]),
                Some(now_ms() - 1),
                &Actor::for_tests(),
            )
            .await
            .unwrap();
        assert_eq!(
            store.authenticate(&expired).await.unwrap(),
            Err(KeyRefused::Expired)
        );
        let (_, later) = store
            .create_key(
                "acme",
                "new",
                &roles(&[Role::Submitter]),
                Some(now_ms() + 60_000),
                &Actor::for_tests(),
            )
            .await
            .unwrap();
        assert!(store.authenticate(&later).await.unwrap().is_ok());

        assert!(
            store
                .revoke_key(&key.id, &Actor::for_tests())
                .await
                .unwrap()
        );
        assert_eq!(
            store.authenticate(&token).await.unwrap(),
            Err(KeyRefused::Revoked)
        );
        assert!(
            !store
                .revoke_key("000000000000", &Actor::for_tests())
                .await
                .unwrap()
        );
        let listed = store.keys(Some("acme")).await.unwrap();
        assert_eq!(listed.len(), 3);
        assert!(listed[0].revoked_at.is_some());
    }

    async fn keys_need_an_existing_tenant_and_tenants_are_made_once(backend: Backend) {
        let (_dir, store) = open_on(backend).await;
        let none = store
            .create_key(
                "ghost",
                "k",
                &roles(&[Role::Auditor]),
                None,
                &Actor::for_tests(),
            )
            .await;
        assert!(matches!(none, Err(CreateError::NoTenant(t)) if t == "ghost"));
        store
            .create_tenant("acme", &Actor::for_tests())
            .await
            .unwrap();
        assert!(matches!(
            store.create_tenant("acme", &Actor::for_tests()).await,
            Err(CreateError::TenantExists(_))
        ));
        assert_eq!(store.tenants().await.unwrap().len(), 1);
        assert!(store.keys(None).await.unwrap().is_empty());
    }

    on_both!(
        the_first_admin_key_is_made_once_and_holds_every_role,
        keys_are_refused_when_wrong_expired_or_revoked,
        keys_need_an_existing_tenant_and_tenants_are_made_once,
    );
}
