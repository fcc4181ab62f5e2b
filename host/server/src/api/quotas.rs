//! Admission: the server's queue and the caller's tenant policy
//! ([`crate::policy`]) applied to a submission before anything is stored.
//! A refused submission gets 429 with `Retry-After` (queue, rate) or
//! without (stored bytes: only freed space helps), 403 for a tier the
//! tenant may not use, 422 for a compliance floor. A submission that
//! replays an idempotency key the caller already used is never refused by
//! a quota: it stores nothing.

use axum::http::StatusCode;

use super::{ApiError, AppState, RETRY_AFTER_SECS};
use crate::policy::{Refused, TenantPolicy};
use crate::store::Actor;

/// The caller's tenant policy, once the submission passed the quotas.
pub(super) async fn admit(
    state: &AppState,
    actor: &Actor,
    key: Option<&str>,
) -> Result<TenantPolicy, ApiError> {
    let policy = state
        .store
        .tenant_policy(&actor.tenant)
        .await?
        .unwrap_or_default();
    let Some(refusal) = refusal(state, &actor.tenant, &policy).await? else {
        return Ok(policy);
    };
    if let Some(k) = key
        && state.store.idempotent_intent(actor, k).await?.is_some()
    {
        return Ok(policy);
    }
    Err(refusal)
}

/// The first quota the submission would pass, as its answer. The rate is
/// looked at last, so a submission refused for another reason does not
/// spend the tenant's rate.
async fn refusal(
    state: &AppState,
    tenant: &str,
    policy: &TenantPolicy,
) -> Result<Option<ApiError>, ApiError> {
    let queued = state.store.queued_count().await?;
    if queued >= i64::from(state.max_queued) {
        tracing::warn!(
            queued,
            max = state.max_queued,
            "queue full; submission refused"
        );
        return Ok(Some(too_many(
            "QUEUE_FULL",
            format!(
                "{queued} intents are waiting, the most this server queues; retry after {RETRY_AFTER_SECS} s"
            ),
            Some(RETRY_AFTER_SECS),
        )));
    }
    if let Some(max) = policy.max_queued {
        let queued = state.store.tenant_queued_count(tenant).await?;
        if queued >= i64::from(max) {
            return Ok(Some(too_many(
                "TENANT_QUEUE_FULL",
                format!(
                    "{queued} of this tenant's intents are waiting, the most its policy allows"
                ),
                Some(RETRY_AFTER_SECS),
            )));
        }
    }
    if let Some(max) = policy.max_stored_bytes {
        let stored = state.store.tenant_stored_bytes(tenant).await?;
        if stored >= i64::try_from(max).unwrap_or(i64::MAX) {
            return Ok(Some(too_many(
                "STORAGE_QUOTA_EXCEEDED",
                format!(
                    "this tenant keeps {stored} bytes of capsules, its policy allows {max}; remove capsules or ask an admin"
                ),
                None,
            )));
        }
    }
    if let Some(per_minute) = policy.submissions_per_minute
        && let Err(wait) = state
            .store
            .take_submission(tenant, per_minute, crate::store::now_ms())
            .await?
    {
        let secs = u32::try_from(wait.as_secs() + 1).unwrap_or(u32::MAX);
        return Ok(Some(too_many(
            "RATE_LIMITED",
            format!(
                "this tenant's policy allows {per_minute} submissions a minute; retry after {secs} s"
            ),
            Some(secs),
        )));
    }
    Ok(None)
}

fn too_many(code: &'static str, message: String, retry_after: Option<u32>) -> ApiError {
    let error = ApiError::new(StatusCode::TOO_MANY_REQUESTS, code, message);
    match retry_after {
        Some(secs) => error.retry_after(secs),
        None => error,
    }
}

/// The answer to a tier the policy refuses.
pub(super) fn refused(r: Refused) -> ApiError {
    let status = match r {
        Refused::TierNotAllowed { .. } => StatusCode::FORBIDDEN,
        Refused::BelowFloor { .. } => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError::new(status, r.code(), r.message())
}
