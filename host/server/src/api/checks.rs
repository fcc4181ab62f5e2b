//! `POST /v1/checks`: a project QLP did not write, uploaded as a zip or a
//! gzipped tar, runs a tier's analyzers, validators and gate, without
//! agents, exporters or delivery. It becomes an intent of kind `check`
//! whose capsule is like any other (files, reports, score, verdict, SARIF).
//!
//! The archive is the body; the query names the tier (`?tier=`, the
//! default tier when absent) and the project (`?name=`, used in the
//! description). An `Idempotency-Key` works as for intents, the digest
//! covering the tier, the name and the archive's bytes.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::extract::Query;
use super::intents::{accepted, idempotency_key, known_tier, replayed};
use super::{ApiError, AppState, quotas};
use crate::auth::Caller;
use crate::store::Actor;
use crate::tiers::DEFAULT_TIER;
use crate::upload;
use qlp_contract::model::{Intent, IntentKind};

/// This module's operations, for [`super::openapi`].
#[derive(utoipa::OpenApi)]
#[openapi(paths(submit_check))]
pub struct Doc;

/// Longest project name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CheckQuery {
    tier: Option<String>,
    name: Option<String>,
}

#[utoipa::path(post, path = "/v1/checks", tag = "intents", params(CheckQuery,
        ("Idempotency-Key" = Option<String>, Header,
            description = "Retries with the same key, query and archive answer the first check")),
    request_body(content = super::types::Binary, content_type = "application/octet-stream",
        description = "The project: a zip or a gzipped tar"),
    responses(
        (status = 202, description = "Accepted and queued", body = super::types::Accepted,
            headers(("Location" = String, description = "The intent"))),
        (status = 422, description = "`INVALID_ARCHIVE`, `UNKNOWN_TIER`, `INVALID_NAME`, …", body = super::types::ErrorBody),
    ))]
pub async fn submit_check(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<CheckQuery>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let actor = Actor::of(&caller);
    let tiers = state.pipeline.tiers();
    if let Some(tier) = &query.tier {
        known_tier(&tiers, tier)?;
    }
    let name = query.name.map(|n| n.trim().to_owned()).unwrap_or_default();
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "INVALID_NAME",
            format!(
                "a project name is at most {MAX_NAME_CHARS} characters, none of them control characters"
            ),
        ));
    }
    let policy = quotas::admit(&state, &actor, key.as_deref()).await?;
    // A check has no plan, so no compliance concern: only the tenant's
    // tiers apply.
    let tier = policy
        .tier_for(query.tier.as_deref(), DEFAULT_TIER, &[], &tiers.by_demand())
        .map_err(quotas::refused)?;
    let body_digest = {
        let mut hasher = blake3::Hasher::new();
        hasher.update(tier.as_bytes()).update(b"\0");
        hasher.update(name.as_bytes()).update(b"\0");
        hasher.update(&body);
        hasher.finalize().to_hex().to_string()
    };
    let unpacked = tokio::task::spawn_blocking(move || upload::unpack(&body))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| {
            let status = match e {
                upload::UploadError::NotAnArchive => axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                upload::UploadError::TooManyEntries(_) | upload::UploadError::TooLarge(_) => {
                    axum::http::StatusCode::PAYLOAD_TOO_LARGE
                }
                _ => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            };
            ApiError::new(status, e.code(), e.to_string())
        })?;
    let intent = Intent {
        id: uuid::Uuid::new_v4().to_string(),
        description: if name.is_empty() {
            "Check of an uploaded project".to_owned()
        } else {
            format!("Check of {name}")
        },
        requirements: vec![],
        constraints: vec![],
        tier,
        kind: IntentKind::Check,
    };
    let files = serde_json::to_value(&unpacked.files).map_err(ApiError::internal)?;
    let keyed = key.as_deref().map(|k| (k, body_digest.as_str()));
    if let (Some(key), Some((first, digest))) = (
        &key,
        state
            .store
            .insert_check(&intent, &actor, &files, keyed)
            .await?,
    ) {
        return replayed(&state, key, (&first, &digest), &body_digest, &intent.tier).await;
    }
    state.dispatcher.wake();
    tracing::info!(
        intent = %intent.id,
        tier = %intent.tier,
        files = unpacked.files.len(),
        skipped = unpacked.skipped,
        "check accepted"
    );
    Ok(accepted(&intent.id, &intent.tier, false))
}
