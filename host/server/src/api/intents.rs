//! Intents: submitting one (with its idempotency key), the planner's
//! reading of one, listing and reading them.

use super::extract::{Path, Query};
use axum::Json;
use axum::extract::{Extension, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{AppState, RETRY_AFTER_SECS, quotas, types};

use super::ApiError;
use super::types::{Requirements, SubmitIntent};

use crate::auth::Caller;
use crate::pipeline::{Failure, UNSUPPORTED_STACK};
use crate::store::{Actor, IntentRecord, IntentStatus, Visible};
use crate::tiers::{DEFAULT_TIER, Tiers};
use qlp_contract::model::{Intent, IntentKind, Plan};

/// Longest intent description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 8_000;

/// Most requirements or constraints one intent may carry.
pub const MAX_LIST_ITEMS: usize = 100;

/// Intents listed by `GET /v1/intents` at most.
pub const MAX_LISTED_INTENTS: u32 = 100;

/// Longest `Idempotency-Key` accepted.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// The `Idempotency-Key` header, if present and well-formed.
pub(super) fn idempotency_key(headers: &axum::http::HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().ok().filter(|k| {
        !k.is_empty()
            && k.len() <= MAX_IDEMPOTENCY_KEY_LEN
            && k.bytes().all(|b| b.is_ascii_graphic())
    });
    match key {
        Some(k) => Ok(Some(k.to_owned())),
        None => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_IDEMPOTENCY_KEY",
            format!(
                "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters"
            ),
        )),
    }
}

/// The 202 of an accepted intent; `replayed` marks a response repeated for
/// a retried `Idempotency-Key`.
pub(super) fn accepted(intent_id: &str, tier: &str, replayed: bool) -> Response {
    let location = format!("/v1/intents/{intent_id}");
    let mut response = (
        StatusCode::ACCEPTED,
        [(header::LOCATION, location.clone())],
        Json(types::Accepted {
            id: intent_id.to_owned(),
            status: "queued".into(),
            tier: tier.to_owned(),
            links: types::AcceptedLinks {
                this: location,
                capsule: format!("/v1/capsules/{intent_id}"),
            },
        }),
    )
        .into_response();
    if replayed {
        response.headers_mut().insert(
            "idempotent-replayed",
            header::HeaderValue::from_static("true"),
        );
    }
    response
}

/// Checks a submitted intent; returns it with a new id, and whether it
/// named its tier (when not, `tier` is empty).
pub(super) fn intent_of(body: SubmitIntent, tiers: &Tiers) -> Result<(Intent, bool), ApiError> {
    let description = body.description.trim().to_owned();
    if description.is_empty() {
        return Err(ApiError::invalid(
            "EMPTY_DESCRIPTION",
            "the intent's description is empty",
        ));
    }
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(ApiError::invalid(
            "DESCRIPTION_TOO_LONG",
            format!("the description is over {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    if let Some(tier) = &body.tier {
        known_tier(tiers, tier)?;
    }
    let requirements: Vec<String> = match body.requirements {
        None => vec![],
        Some(Requirements::List(list)) => list,
        Some(Requirements::Text(text)) => text.split(',').map(str::to_owned).collect(),
    }
    .into_iter()
    .map(|r| r.trim().to_owned())
    .filter(|r| !r.is_empty())
    .collect();
    let constraints: Vec<(String, String)> =
        body.constraints.unwrap_or_default().into_iter().collect();
    if requirements.len() > MAX_LIST_ITEMS || constraints.len() > MAX_LIST_ITEMS {
        return Err(ApiError::invalid(
            "TOO_MANY_ITEMS",
            format!("at most {MAX_LIST_ITEMS} requirements and constraints"),
        ));
    }
    let tier_given = body.tier.is_some();
    Ok((
        Intent {
            id: uuid::Uuid::new_v4().to_string(),
            description,
            requirements,
            constraints,
            tier: body.tier.unwrap_or_default(),
            kind: IntentKind::Generate,
        },
        tier_given,
    ))
}

/// 422 `UNKNOWN_TIER`, naming the known ones, unless `tier` is configured.
pub(super) fn known_tier(tiers: &Tiers, tier: &str) -> Result<(), ApiError> {
    if tiers.get(tier).is_some() {
        return Ok(());
    }
    let known: Vec<&str> = tiers.tiers.keys().map(String::as_str).collect();
    Err(ApiError::invalid(
        "UNKNOWN_TIER",
        format!("unknown tier `{tier}`; known tiers: {}", known.join(", ")),
    ))
}

/// The answer to a submission whose `Idempotency-Key` was already taken
/// by `first` (its id and body digest): the first answer again, or 422
/// `IDEMPOTENCY_KEY_REUSED` when this request differs from it.
pub(super) async fn replayed(
    state: &AppState,
    key: &str,
    (first, digest): (&str, &str),
    body_digest: &str,
    tier: &str,
) -> Result<Response, ApiError> {
    if digest != body_digest {
        return Err(ApiError::invalid(
            "IDEMPOTENCY_KEY_REUSED",
            format!("Idempotency-Key `{key}` was used for another request"),
        ));
    }
    let tier = state
        .store
        .get_intent(first)
        .await?
        .map_or_else(|| tier.to_owned(), |r| r.intent.tier);
    Ok(accepted(first, &tier, true))
}

#[utoipa::path(post, path = "/v1/intents", tag = "intents",
    params(("Idempotency-Key" = Option<String>, Header,
        description = "Retries with the same key and body answer the first intent")),
    request_body = types::SubmitIntent,
    responses(
        (status = 202, description = "Accepted and queued", body = types::Accepted,
            headers(("Location" = String, description = "The intent"))),
        (status = 422, description = "Invalid intent (`EMPTY_DESCRIPTION`, `UNKNOWN_TIER`, `UNSUPPORTED_STACK`, `IDEMPOTENCY_KEY_REUSED`, …)", body = types::ErrorBody),
    ))]
pub(super) async fn submit_intent(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: axum::http::HeaderMap,
    body: Result<Json<SubmitIntent>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let actor = Actor::of(&caller);
    let Json(body) = body?;
    let catalog = state.pipeline.catalog();
    let tiers = &catalog.tiers;
    let (mut intent, tier_given) = intent_of(body, tiers)?;
    let policy = quotas::admit(&state, &actor, key.as_deref()).await?;
    // Without a tier the planner's recommendation runs (the default tier
    // when no planner is configured). A tier that runs the agent of the
    // detected stack needs the plan too: an intent no agent serves is
    // refused now, with nothing stored. So does a tenant's compliance
    // floor, which reads the plan's concerns.
    let uses_stack = |name: &str| tiers.get(name).is_some_and(|t| t.uses_stack());
    let plan = if !tier_given || uses_stack(&intent.tier) || !policy.compliance_floor.is_empty() {
        state
            .pipeline
            .plan(&catalog, &intent)
            .await
            .map_err(planner_failed)?
    } else {
        None
    };
    let recommended = match &plan {
        Some(plan) if tiers.get(&plan.recommended_tier).is_some() => plan.recommended_tier.as_str(),
        _ => DEFAULT_TIER,
    };
    let concerns = plan
        .as_ref()
        .map(|p| p.compliance.as_slice())
        .unwrap_or_default();
    intent.tier = policy
        .tier_for(
            tier_given.then_some(intent.tier.as_str()),
            recommended,
            concerns,
            &tiers.by_demand(),
        )
        .map_err(quotas::refused)?;
    agents_for(tiers, &intent.tier, plan.as_ref())?;
    if let Some(key) = key {
        // The digest covers the request as understood (description,
        // requirements, constraints, tier), not its bytes.
        let body_digest = {
            let fields = (
                &intent.description,
                &intent.requirements,
                &intent.constraints,
                tier_given.then_some(&intent.tier),
            );
            blake3::hash(&serde_json::to_vec(&fields).map_err(ApiError::internal)?)
                .to_hex()
                .to_string()
        };
        if let Some((first, digest)) = state
            .store
            .insert_intent_idempotent(&intent, &actor, &key, &body_digest)
            .await?
        {
            return replayed(&state, &key, (&first, &digest), &body_digest, &intent.tier).await;
        }
    } else {
        state.store.insert_intent(&intent, &actor).await?;
    }
    crate::faults::point("submit", "");
    state.dispatcher.wake();
    tracing::info!(intent = %intent.id, tier = %intent.tier, "intent accepted");
    Ok(accepted(&intent.id, &intent.tier, false))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    /// At most 100; 50 when absent.
    limit: Option<u32>,
}

/// `POST /v1/analyses`: the planner's reading of an intent, without
/// running it.
#[utoipa::path(post, path = "/v1/analyses", tag = "intents", request_body = types::SubmitIntent,
    responses(
        (status = 200, description = "The planner's reading", body = types::Analysis),
        (status = 422, description = "Invalid intent", body = types::ErrorBody),
    ))]
pub(super) async fn analyze_intent(
    State(state): State<AppState>,
    body: Result<Json<SubmitIntent>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<types::Analysis>, ApiError> {
    let Json(body) = body?;
    let catalog = state.pipeline.catalog();
    let (intent, tier_given) = intent_of(body, &catalog.tiers)?;
    let plan = match state.pipeline.plan(&catalog, &intent).await {
        Ok(Some(plan)) => plan,
        Ok(None) => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "NO_PLANNER",
                "no planner is configured (`[planner]` in the tiers file)",
            ));
        }
        Err(f) => return Err(planner_failed(f)),
    };
    // The tier that would run, and its agents for this intent's stack.
    let tier = if tier_given {
        intent.tier.clone()
    } else {
        plan.recommended_tier.clone()
    };
    let (agents, unsupported) = match agents_for(&catalog.tiers, &tier, Some(&plan)) {
        Ok(agents) => (Some(agents), None),
        Err(e) => (
            None,
            Some(types::ErrorBody {
                code: e.code.into(),
                message: e.message,
                request_id: None,
            }),
        ),
    };
    Ok(Json(types::Analysis {
        analysis: serde_json::to_value(&plan).map_err(ApiError::internal)?,
        tier,
        agents,
        unsupported,
    }))
}

/// The agents `tier` runs for an intent with `plan`: its own, with the
/// agents of the detected stack in place of `stack`; 422
/// `UNSUPPORTED_STACK` when no agent serves the stack.
pub(super) fn agents_for(
    tiers: &Tiers,
    tier: &str,
    plan: Option<&Plan>,
) -> Result<Vec<String>, ApiError> {
    let Some(t) = tiers.get(tier) else {
        return Ok(vec![]);
    };
    let stack = plan.map(|p| p.stack.as_slice()).unwrap_or_default();
    match tiers.stack_agents(t, stack) {
        None => Ok(t.agents.clone()),
        Some(Ok(agents)) => Ok(t.with_stack_agents(&agents).agents),
        Some(Err(e)) => Err(ApiError::invalid(UNSUPPORTED_STACK, e.to_string())),
    }
}

/// The 503 of a planner that failed its call.
pub(super) fn planner_failed(f: Failure) -> ApiError {
    if f.code == crate::pipeline::SERVER_BUSY {
        return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "SERVER_BUSY", f.message)
            .retry_after(RETRY_AFTER_SECS);
    }
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "PLANNER_FAILED",
        format!("{}: {}", f.code, f.message),
    )
}

#[utoipa::path(get, path = "/v1/intents", tag = "intents", params(ListQuery),
    responses((status = 200, description = "The caller's intents, newest first", body = types::IntentList)))]
pub(super) async fn list_intents(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<ListQuery>,
) -> Result<Json<types::IntentList>, ApiError> {
    let visible = Visible {
        tenant: &caller.tenant,
        submitted_by: (!caller.sees_tenant()).then_some(caller.identity.as_str()),
    };
    let intents = state
        .store
        .list_intents(visible, q.limit.unwrap_or(50).min(MAX_LISTED_INTENTS))
        .await?;
    Ok(Json(types::IntentList { intents }))
}

/// The intent `id` if the caller may see it; 404 `INTENT_NOT_FOUND` both
/// when there is none and when it is another tenant's (or, for a
/// submitter, another's), so its existence is never told.
pub(super) async fn visible_intent(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<IntentRecord, ApiError> {
    state
        .store
        .get_intent(id)
        .await?
        .filter(|r| caller.may_see(&r.tenant, r.submitted_by.as_deref()))
        .ok_or_else(|| ApiError::not_found("INTENT_NOT_FOUND", format!("no intent `{id}`")))
}

#[utoipa::path(get, path = "/v1/intents/{id}", tag = "intents", params(("id" = String, Path)),
    responses(
        (status = 200, description = "The intent and its stages", body = types::IntentView),
        (status = 404, description = "`INTENT_NOT_FOUND`", body = types::ErrorBody),
    ))]
pub(super) async fn get_intent(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<types::IntentView>, ApiError> {
    let record = visible_intent(&state, &caller, &id).await?;
    let stages = state.store.stages(&id).await?;
    let links = matches!(
        record.status,
        IntentStatus::Completed
            | IntentStatus::GateFailed
            | IntentStatus::AwaitingApproval
            | IntentStatus::Rejected
    )
    .then(|| types::IntentLinks {
        capsule: format!("/v1/capsules/{id}"),
    });
    Ok(Json(types::IntentView {
        record,
        stages,
        links,
    }))
}
