//! Webhook registrations and their deliveries.

use super::extract::Path;
use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{AppState, types};

use super::ApiError;
use super::types::RegisterWebhook;

use crate::auth::Caller;
use crate::store::Actor;

#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", request_body = types::RegisterWebhook,
    responses(
        (status = 201, description = "Registered; the secret is shown this once", body = types::WebhookCreated),
        (status = 422, description = "`INVALID_WEBHOOK`, `WEBHOOK_DESTINATION_REFUSED`", body = types::ErrorBody),
    ))]
pub(super) async fn register_webhook(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<RegisterWebhook>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let (hook, secret) = match crate::webhooks::register(
        &state.store,
        &Actor::of(&caller),
        &body.url,
        &body.events,
        body.secret,
        &state.webhook_allow,
    )
    .await
    {
        Ok(done) => done,
        Err(crate::webhooks::RegisterError::Invalid(m)) => {
            return Err(ApiError::invalid("INVALID_WEBHOOK", m));
        }
        Err(crate::webhooks::RegisterError::Destination(refused)) => {
            return Err(ApiError::invalid(
                "WEBHOOK_DESTINATION_REFUSED",
                refused.to_string(),
            ));
        }
        Err(crate::webhooks::RegisterError::Store(e)) => return Err(e.into()),
    };
    tracing::info!(webhook = %hook.id, url = %qlp_runtime::net::masked(&hook.url), "webhook registered");
    // The secret is shown once, here.
    let body = types::WebhookCreated {
        webhook: hook,
        secret,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks",
    responses((status = 200, description = "The tenant's webhooks", body = types::WebhookList)))]
pub(super) async fn list_webhooks(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<types::WebhookList>, ApiError> {
    Ok(Json(types::WebhookList {
        webhooks: crate::webhooks::list(&state.store, &caller.tenant).await?,
    }))
}

#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "`WEBHOOK_NOT_FOUND`", body = types::ErrorBody),
    ))]
pub(super) async fn remove_webhook(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if crate::webhooks::remove(&state.store, &Actor::of(&caller), &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(
            "WEBHOOK_NOT_FOUND",
            format!("no webhook `{id}`"),
        ))
    }
}

#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = String, Path)),
    responses(
        (status = 200, description = "Its deliveries, newest first", body = types::DeliveryList),
        (status = 404, description = "`WEBHOOK_NOT_FOUND`", body = types::ErrorBody),
    ))]
pub(super) async fn webhook_deliveries(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<types::DeliveryList>, ApiError> {
    let deliveries = crate::webhooks::deliveries(&state.store, &caller.tenant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("WEBHOOK_NOT_FOUND", format!("no webhook `{id}`")))?;
    Ok(Json(types::DeliveryList { deliveries }))
}
