//! Tenants, their policies and API keys, for admins: `POST/GET
//! /v1/tenants`, `GET/PUT /v1/tenants/{id}/policy`, `POST/GET /v1/keys`,
//! `DELETE /v1/keys/{id}`. Admins act for every tenant (operators and
//! auditors read their own tenant's policy); a new key's secret is in the
//! answer that creates it and nowhere else.

use std::collections::BTreeSet;

use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::extract::{Path, Query};
use super::types::{self, NewKey, NewTenant};
use super::{ApiError, AppState};
use crate::auth::{self, Caller, Role};
use crate::policy::TenantPolicy;
use crate::store::{Actor, CreateError};

/// Longest key name, in characters.
pub const MAX_KEY_NAME_CHARS: usize = 200;

/// Longest lifetime a key may be given: keys meant to live longer are
/// rotated instead.
pub const MAX_KEY_LIFETIME: std::time::Duration = std::time::Duration::from_secs(5 * 366 * 86_400);

/// This module's operations, for [`super::openapi`].
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    create_tenant,
    list_tenants,
    tenant_policy,
    set_tenant_policy,
    create_key,
    list_keys,
    revoke_key
))]
pub struct Doc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/tenants", post(create_tenant).get(list_tenants))
        .route(
            "/v1/tenants/{id}/policy",
            axum::routing::get(tenant_policy).put(set_tenant_policy),
        )
        .route("/v1/keys", post(create_key).get(list_keys))
        .route("/v1/keys/{id}", delete(revoke_key))
}

#[utoipa::path(post, path = "/v1/tenants", tag = "admin", request_body = NewTenant,
    responses(
        (status = 201, description = "Created", body = types::TenantCreated),
        (status = 409, description = "`TENANT_EXISTS`", body = types::ErrorBody),
        (status = 422, description = "`INVALID_TENANT`", body = types::ErrorBody),
    ))]
async fn create_tenant(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<NewTenant>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    if !auth::valid_tenant(&body.id) {
        return Err(ApiError::invalid(
            "INVALID_TENANT",
            format!(
                "a tenant id is 1 to {} of a-z, 0-9 and `-`, not starting or ending with `-`",
                auth::MAX_TENANT_CHARS
            ),
        ));
    }
    match state
        .store
        .create_tenant(&body.id, &Actor::of(&caller))
        .await
    {
        Ok(()) => {}
        Err(CreateError::TenantExists(id)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "TENANT_EXISTS",
                format!("tenant `{id}` exists already"),
            ));
        }
        Err(e) => return Err(create_failed(e)),
    }
    tracing::info!(tenant = %body.id, by = %caller.identity, "tenant created");
    Ok((
        StatusCode::CREATED,
        Json(types::TenantCreated { id: body.id }),
    )
        .into_response())
}

#[utoipa::path(get, path = "/v1/tenants", tag = "admin",
    responses((status = 200, description = "Every tenant", body = types::TenantList)))]
async fn list_tenants(State(state): State<AppState>) -> Result<Json<types::TenantList>, ApiError> {
    let tenants = state
        .store
        .tenants()
        .await?
        .into_iter()
        .map(|(id, created_at)| types::TenantSummary { id, created_at })
        .collect();
    Ok(Json(types::TenantList { tenants }))
}

fn no_tenant(id: &str) -> ApiError {
    ApiError::not_found("NOT_FOUND", format!("no tenant `{id}`"))
}

/// `GET /v1/tenants/{id}/policy`: `{}` for a tenant without one.
#[utoipa::path(get, path = "/v1/tenants/{id}/policy", tag = "admin", params(("id" = String, Path)),
    responses(
        (status = 200, description = "The tenant's policy", body = TenantPolicy),
        (status = 404, description = "`NOT_FOUND`", body = types::ErrorBody),
    ))]
async fn tenant_policy(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<TenantPolicy>, ApiError> {
    if !caller.has(Role::Admin) && caller.tenant != id {
        return Err(no_tenant(&id));
    }
    match state.store.tenant_policy(&id).await? {
        Some(policy) => Ok(Json(policy)),
        None => Err(no_tenant(&id)),
    }
}

/// `PUT /v1/tenants/{id}/policy`: replaces the policy, checked against the
/// server's tiers.
#[utoipa::path(put, path = "/v1/tenants/{id}/policy", tag = "admin", params(("id" = String, Path)),
    request_body = TenantPolicy,
    responses(
        (status = 200, description = "The policy set", body = TenantPolicy),
        (status = 404, description = "`NOT_FOUND`", body = types::ErrorBody),
        (status = 422, description = "`UNKNOWN_TIER`, `UNKNOWN_RULE_PACK`, …", body = types::ErrorBody),
    ))]
async fn set_tenant_policy(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Result<Json<TenantPolicy>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<TenantPolicy>, ApiError> {
    let Json(policy) = body?;
    let catalog = state.pipeline.catalog();
    policy
        .validate(&catalog.tiers, |pack| catalog.packs.contains_key(pack))
        .map_err(|e| ApiError::invalid(e.code(), e.to_string()))?;
    if !state
        .store
        .set_tenant_policy(&id, &policy, &Actor::of(&caller))
        .await?
    {
        return Err(no_tenant(&id));
    }
    tracing::info!(tenant = %id, by = %caller.identity, "tenant policy set");
    Ok(Json(policy))
}

#[utoipa::path(post, path = "/v1/keys", tag = "admin", request_body = NewKey,
    responses(
        (status = 201, description = "Created; the key is shown this once", body = types::KeyCreated),
        (status = 404, description = "`TENANT_NOT_FOUND`", body = types::ErrorBody),
        (status = 422, description = "`INVALID_KEY_NAME`, `UNKNOWN_ROLE`, `INVALID_EXPIRY`", body = types::ErrorBody),
    ))]
async fn create_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<NewKey>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let name = body.name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_KEY_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(ApiError::invalid(
            "INVALID_KEY_NAME",
            format!("a key's name is 1 to {MAX_KEY_NAME_CHARS} printable characters"),
        ));
    }
    let mut roles = BTreeSet::new();
    for r in &body.roles {
        let role = Role::parse(r).ok_or_else(|| {
            let known: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
            ApiError::invalid(
                "UNKNOWN_ROLE",
                format!("unknown role `{r}`; roles: {}", known.join(", ")),
            )
        })?;
        roles.insert(role);
    }
    if roles.is_empty() {
        return Err(ApiError::invalid(
            "UNKNOWN_ROLE",
            "a key needs at least one role",
        ));
    }
    let expires_ms = match &body.expires_in {
        None => None,
        Some(text) => {
            let lifetime = humantime::parse_duration(text)
                .ok()
                .filter(|d| !d.is_zero() && *d <= MAX_KEY_LIFETIME)
                .ok_or_else(|| {
                    ApiError::invalid(
                        "INVALID_EXPIRY",
                        format!("`expires_in` must be a duration such as `90d`, at most five years; got `{text}`"),
                    )
                })?;
            Some(crate::store::now_ms() + lifetime.as_millis() as i64)
        }
    };
    let (key, token) = match state
        .store
        .create_key(&body.tenant, name, &roles, expires_ms, &Actor::of(&caller))
        .await
    {
        Ok(done) => done,
        Err(CreateError::NoTenant(t)) => {
            return Err(ApiError::not_found(
                "TENANT_NOT_FOUND",
                format!("no tenant `{t}`"),
            ));
        }
        Err(e) => return Err(create_failed(e)),
    };
    tracing::info!(key = %key.id, tenant = %key.tenant, by = %caller.identity, "API key created");
    // Shown once, here.
    let answer = types::KeyCreated {
        record: key,
        key: token,
    };
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct KeysQuery {
    tenant: Option<String>,
}

#[utoipa::path(get, path = "/v1/keys", tag = "admin", params(KeysQuery),
    responses((status = 200, description = "Keys, without their secrets", body = types::KeyList)))]
async fn list_keys(
    State(state): State<AppState>,
    Query(q): Query<KeysQuery>,
) -> Result<Json<types::KeyList>, ApiError> {
    let keys = state.store.keys(q.tenant.as_deref()).await?;
    Ok(Json(types::KeyList { keys }))
}

#[utoipa::path(delete, path = "/v1/keys/{id}", tag = "admin", params(("id" = String, Path)),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "`KEY_NOT_FOUND`", body = types::ErrorBody),
    ))]
async fn revoke_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if !state.store.revoke_key(&id, &Actor::of(&caller)).await? {
        return Err(ApiError::not_found(
            "KEY_NOT_FOUND",
            format!("no key `{id}`"),
        ));
    }
    tracing::info!(key = %id, by = %caller.identity, "API key revoked");
    Ok(StatusCode::NO_CONTENT)
}

fn create_failed(e: CreateError) -> ApiError {
    match e {
        CreateError::Store(e) => e.into(),
        other => ApiError::internal(other),
    }
}
