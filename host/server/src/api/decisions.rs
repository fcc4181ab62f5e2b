//! What a person decides about a running intent: cancelling it, and
//! approving or rejecting its delivery.

use super::extract::Path;
use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::intents::visible_intent;
use super::{AppState, types};

use super::ApiError;
use super::types::Decision;

use crate::auth::Caller;
use crate::store::{Actor, Approval, DecideError, IntentStatus};

/// Longest approval comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 4_000;

#[utoipa::path(post, path = "/v1/intents/{id}/cancel", tag = "intents", params(("id" = String, Path)),
    responses(
        (status = 200, description = "Cancelled", body = types::Cancelled),
        (status = 202, description = "Running: its plugins are being interrupted", body = types::Cancelled),
        (status = 404, description = "`INTENT_NOT_FOUND`", body = types::ErrorBody),
        (status = 409, description = "`INTENT_FINISHED`", body = types::ErrorBody),
    ))]
pub(super) async fn cancel_intent(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let record = visible_intent(&state, &caller, &id).await?;
    // A reviewer or auditor reads the tenant's intents; cancelling one
    // needs the operator's role, or having submitted it.
    let own = record.submitted_by.as_deref() == Some(caller.identity.as_str());
    if !(caller.has(crate::auth::Role::Operator) || own) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "only its submitter or an operator may cancel an intent",
        ));
    }
    let status = state
        .store
        .request_cancel(&id, &Actor::of(&caller))
        .await?
        .ok_or_else(|| ApiError::not_found("INTENT_NOT_FOUND", format!("no intent `{id}`")))?;
    match status {
        IntentStatus::Running => {
            state.dispatcher.cancel(&id);
            tracing::info!(intent = %id, "cancellation requested");
            Ok((
                StatusCode::ACCEPTED,
                Json(types::Cancelled {
                    id,
                    status: "running".into(),
                    cancel_requested: Some(true),
                }),
            )
                .into_response())
        }
        IntentStatus::Cancelled => Ok(Json(types::Cancelled {
            id,
            status: "cancelled".into(),
            cancel_requested: None,
        })
        .into_response()),
        finished => Err(ApiError::new(
            StatusCode::CONFLICT,
            "INTENT_FINISHED",
            format!(
                "intent `{id}` already ended ({}); nothing to cancel",
                finished.as_str()
            ),
        )),
    }
}

#[utoipa::path(post, path = "/v1/intents/{id}/approve", tag = "approval", params(("id" = String, Path)),
    request_body(content = Option<types::Decision>, description = "Optional; an empty body is a decision without comment"),
    responses(
        (status = 200, description = "Recorded", body = types::Decided),
        (status = 404, description = "`INTENT_NOT_FOUND`", body = types::ErrorBody),
        (status = 409, description = "`NOT_AWAITING_APPROVAL`", body = types::ErrorBody),
        (status = 422, description = "`COMMENT_TOO_LONG`", body = types::ErrorBody),
    ))]
pub(super) async fn approve_intent(
    state: State<AppState>,
    caller: Extension<Caller>,
    id: Path<String>,
    body: Result<Json<Decision>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<types::Decided>, ApiError> {
    decide(state, caller, id, body, "approved").await
}

#[utoipa::path(post, path = "/v1/intents/{id}/reject", tag = "approval", params(("id" = String, Path)),
    request_body(content = Option<types::Decision>, description = "Optional; an empty body is a decision without comment"),
    responses(
        (status = 200, description = "Recorded", body = types::Decided),
        (status = 404, description = "`INTENT_NOT_FOUND`", body = types::ErrorBody),
        (status = 409, description = "`NOT_AWAITING_APPROVAL`", body = types::ErrorBody),
        (status = 422, description = "`COMMENT_TOO_LONG`", body = types::ErrorBody),
    ))]
pub(super) async fn reject_intent(
    state: State<AppState>,
    caller: Extension<Caller>,
    id: Path<String>,
    body: Result<Json<Decision>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<types::Decided>, ApiError> {
    decide(state, caller, id, body, "rejected").await
}

pub(super) async fn decide(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Result<Json<Decision>, axum::extract::rejection::JsonRejection>,
    decision: &str,
) -> Result<Json<types::Decided>, ApiError> {
    // An empty body is a decision without comment.
    let body = match body {
        Ok(Json(body)) => body,
        Err(axum::extract::rejection::JsonRejection::MissingJsonContentType(_)) => {
            Decision::default()
        }
        Err(e) => return Err(e.into()),
    };
    let record = visible_intent(&state, &caller, &id).await?;
    let separate = state
        .pipeline
        .tiers()
        .get(&record.intent.tier)
        .is_some_and(|t| t.separate_duties);
    if separate && record.submitted_by.as_deref() == Some(caller.identity.as_str()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "SEPARATION_OF_DUTIES",
            format!(
                "tier `{}` separates duties: whoever submitted an intent may not decide on its capsule",
                record.intent.tier
            ),
        ));
    }
    if body.comment.chars().count() > MAX_COMMENT_CHARS {
        return Err(ApiError::invalid(
            "COMMENT_TOO_LONG",
            format!("the comment is over {MAX_COMMENT_CHARS} characters"),
        ));
    }
    let approval = Approval {
        decision: decision.to_owned(),
        by: caller.identity.clone(),
        comment: body.comment,
        at: crate::store::now(),
    };
    match state
        .store
        .decide(&id, &approval, &Actor::of(&caller))
        .await
    {
        Ok(()) => {}
        Err(DecideError::NotFound) => {
            return Err(ApiError::not_found(
                "INTENT_NOT_FOUND",
                format!("no intent `{id}`"),
            ));
        }
        Err(DecideError::NotAwaiting(status)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "NOT_AWAITING_APPROVAL",
                format!(
                    "intent `{id}` is {}, not awaiting approval",
                    status.as_str()
                ),
            ));
        }
        Err(DecideError::Store(e)) => return Err(e.into()),
    }
    tracing::info!(intent = %id, decision, by = %approval.by, "approval decided");
    if decision == "approved" {
        state.dispatcher.wake();
    }
    let status = if decision == "approved" {
        "queued"
    } else {
        "rejected"
    };
    Ok(Json(types::Decided {
        id,
        status: status.into(),
        approval,
    }))
}
