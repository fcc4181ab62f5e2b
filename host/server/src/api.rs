//! The REST API (axum): submit intents, follow them, fetch capsules, list
//! plugins. The router is a value ([`router`]) so tests drive it directly;
//! `serve` binds it to a socket.

pub mod access;
mod admin;
mod checks;
mod error;
mod extract;
pub mod openapi;
mod quotas;
pub mod registry;
pub mod types;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Extension, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use extract::{Path, Query};
use serde::Deserialize;
use serde_json::json;

pub use error::ApiError;
pub use registry::RegistryState;
use types::{Decision, RegisterWebhook, Requirements, SubmitIntent};

use crate::auth::Caller;
use crate::capsule::CapsuleStore;
use crate::pipeline::Dispatcher;
use crate::pipeline::{Failure, UNSUPPORTED_STACK};
use crate::store::{
    Actor, Approval, DecideError, IntentRecord, IntentStatus, StageStatus, Store, Visible,
};
use crate::tiers::{DEFAULT_TIER, Tiers};
use qlp_contract::model::{Intent, IntentKind, Plan};

/// Largest request body accepted. An intent is a paragraph of text with a
/// few lists; 64 KiB leaves ample room and keeps abuse cheap to refuse.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Longest intent description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 8_000;

/// Most requirements or constraints one intent may carry.
pub const MAX_LIST_ITEMS: usize = 100;

/// Intents listed by `GET /v1/intents` at most.
pub const MAX_LISTED_INTENTS: u32 = 100;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub dispatcher: Dispatcher,
    pub capsules: CapsuleStore,
    /// Most intents waiting for a worker before submissions get 429.
    pub max_queued: u32,
    /// The pipeline, for the planner.
    pub pipeline: Arc<crate::pipeline::Pipeline>,
    /// The plugin registry and who may publish to it.
    pub registry: Arc<RegistryState>,
    /// Non-public webhook destinations the operator allows.
    pub webhook_allow: qlp_runtime::net::Allowed,
    /// Host names answered besides `localhost` and IP addresses.
    pub allowed_hosts: Arc<Vec<String>>,
    /// The identity provider's token verifier, when single sign-on is
    /// configured.
    pub sso: Option<Arc<crate::sso::Sso>>,
    /// The event streams open, and how many may be.
    pub streams: Arc<Streams>,
}

/// The `Retry-After` of a 429: long enough for a worker to finish a
/// typical intent, short enough that a client does not idle.
pub const RETRY_AFTER_SECS: u32 = 5;

/// Longest approval comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 4_000;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/v1/openapi.json", get(openapi::openapi_json))
        .route("/v1/intents", post(submit_intent).get(list_intents))
        .route("/v1/analyses", post(analyze_intent))
        .route("/v1/intents/{id}", get(get_intent))
        .route("/v1/intents/{id}/events", get(intent_events))
        .route("/v1/intents/{id}/cancel", post(cancel_intent))
        .route("/v1/intents/{id}/approve", post(approve_intent))
        .route("/v1/intents/{id}/reject", post(reject_intent))
        .route(
            "/v1/checks",
            post(checks::submit_check)
                .layer(DefaultBodyLimit::max(crate::upload::MAX_ARCHIVE_BYTES)),
        )
        .route("/v1/capsules/{id}", get(get_capsule))
        .route("/v1/capsules/{id}/sarif", get(capsule_sarif))
        .route("/v1/capsules/{id}/download", get(download_capsule))
        .route("/v1/capsules/{id}/artifacts/{name}", get(capsule_artifact))
        .route("/v1/capsules/{id}/files/{*path}", get(capsule_file))
        .route("/v1/plugins", get(list_plugins))
        .route("/v1/tiers", get(list_tiers))
        .route("/v1/webhooks", post(register_webhook).get(list_webhooks))
        .route("/v1/webhooks/{id}", axum::routing::delete(remove_webhook))
        .route("/v1/webhooks/{id}/deliveries", get(webhook_deliveries))
        .route("/v1/audit", get(audit_page))
        .merge(registry::routes())
        .merge(admin::routes())
        .fallback(|| async { ApiError::not_found("NOT_FOUND", "no such endpoint") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(refuse_oversized))
        // Outside the size check: an anonymous request is refused before
        // its body is read, whatever its size.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::authorize,
        ))
        .layer(axum::middleware::from_fn(observe))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::check_host,
        ))
        .layer(axum::middleware::from_fn(access::request_id))
        .with_state(state)
}

/// Most bytes of an oversized body read and thrown away before answering
/// 413. Closing a connection with the body unread resets it, and the client
/// would see a broken connection instead of the answer; past this much the
/// connection is closed anyway.
pub const MAX_DRAINED_BYTES: usize = 4 << 20;

/// Answers 413 to a body whose declared length is over the limit, after
/// draining it so the client reads the answer.
async fn refuse_oversized(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let limit = registry::body_limit(request.method(), request.uri().path());
    if declared.is_none_or(|n| n <= limit as u64) {
        return next.run(request).await;
    }
    let _ = axum::body::to_bytes(request.into_body(), MAX_DRAINED_BYTES).await;
    let mut response = ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
        format!("the request body is over {limit} bytes"),
    )
    .into_response();
    response.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    response
}

/// Liveness, and what an operator looks at first when writes fail: the
/// state of the database file. The server stays up, and reads work, while
/// the file is read-only, moved away or replaced, so the answer is 200 with
/// `"status": "degraded"`.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()),
    responses((status = 200, description = "Alive", body = types::Health)))]
async fn healthz(State(state): State<AppState>) -> Json<types::Health> {
    let file = state.store.file_state();
    let status = match file {
        None | Some(crate::store::FileState::Writable) => "ok",
        Some(_) => "degraded",
    };
    Json(types::Health {
        status: status.into(),
        database: file,
        plugins: state.pipeline.catalog().plugins.len(),
    })
}

/// Whether this server should be sent requests: its database answers and
/// is writable, its plugins are loaded, and it is not stopping. 503 with
/// the reasons otherwise, so a load balancer sends traffic elsewhere.
#[utoipa::path(get, path = "/readyz", tag = "operations", security(()), responses(
    (status = 200, description = "Ready for requests", body = types::Readiness),
    (status = 503, description = "Not ready: the reasons are listed", body = types::Readiness)))]
async fn readyz(State(state): State<AppState>) -> Response {
    let mut problems = vec![];
    if let Err(e) = state.store.ping().await {
        problems.push(format!("the database does not answer: {e}"));
    }
    if let Some(file) = state.store.file_state()
        && file != crate::store::FileState::Writable
    {
        problems.push(format!(
            "the database file is {}",
            serde_json::to_string(&file)
                .unwrap_or_default()
                .trim_matches('"')
        ));
    }
    let plugins = state.pipeline.catalog().plugins.len();
    if plugins == 0 {
        problems.push("no plugin is loaded".into());
    }
    if state.dispatcher.is_stopping()
        || state
            .pipeline
            .stopping
            .load(std::sync::atomic::Ordering::Relaxed)
    {
        problems.push("the server is stopping".into());
    }
    let ready = problems.is_empty();
    let body = Json(types::Readiness {
        status: if ready { "ready" } else { "not-ready" }.into(),
        plugins,
        problems,
    });
    if ready {
        body.into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    }
}

/// The Prometheus text exposition of [`qlp_runtime::metrics`], with the queue's
/// gauges read now.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(()), responses(
    (status = 200, description = "Prometheus text exposition", body = String,
        content_type = "text/plain; version=0.0.4; charset=utf-8")))]
async fn metrics(State(state): State<AppState>) -> Response {
    let (depth, oldest_age, running) = state.store.queue_gauges().await.unwrap_or((0, 0.0, 0));
    let stopping = state
        .pipeline
        .stopping
        .load(std::sync::atomic::Ordering::Relaxed);
    let text = qlp_runtime::metrics::global().render(&[
        (
            "qlp_queue_depth",
            "Intents waiting for a worker.",
            depth as f64,
        ),
        (
            "qlp_queue_oldest_age_seconds",
            "How long the oldest intent waiting for a worker has waited.",
            oldest_age,
        ),
        (
            "qlp_intents_running",
            "Intents a worker holds.",
            running as f64,
        ),
        (
            "qlp_plugins_loaded",
            "Plugins the tiers in force run.",
            state.pipeline.catalog().plugins.len() as f64,
        ),
        (
            "qlp_draining",
            "1 once the server is stopping.",
            f64::from(u8::from(stopping)),
        ),
    ]);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// Counts and times every request by its route template.
async fn observe(
    matched: Option<axum::extract::MatchedPath>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().as_str().to_owned();
    let route = matched.map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let response = next.run(request).await;
    qlp_runtime::metrics::http_request(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// Longest `Idempotency-Key` accepted.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// The `Idempotency-Key` header, if present and well-formed.
fn idempotency_key(headers: &axum::http::HeaderMap) -> Result<Option<String>, ApiError> {
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
fn accepted(intent_id: &str, tier: &str, replayed: bool) -> Response {
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
fn intent_of(body: SubmitIntent, tiers: &Tiers) -> Result<(Intent, bool), ApiError> {
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
fn known_tier(tiers: &Tiers, tier: &str) -> Result<(), ApiError> {
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
async fn replayed(
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
async fn submit_intent(
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
struct ListQuery {
    /// At most 100; 50 when absent.
    limit: Option<u32>,
}

/// Entries of `GET /v1/audit` per page at most.
pub const MAX_AUDIT_PAGE: u32 = 500;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// The last sequence number already read.
    #[serde(default)]
    after: i64,
    limit: Option<u32>,
}

/// `GET /v1/audit`: the trail of the caller's tenant (of every tenant for
/// an admin), oldest first, a page after `after`.
#[utoipa::path(get, path = "/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "A page of the trail", body = types::AuditPage)))]
async fn audit_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<AuditQuery>,
) -> Result<Json<types::AuditPage>, ApiError> {
    let tenant = (!caller.has(crate::auth::Role::Admin)).then_some(caller.tenant.as_str());
    let limit = q.limit.unwrap_or(100).clamp(1, MAX_AUDIT_PAGE);
    let entries = state.store.audit_page(tenant, q.after, limit).await?;
    let next = entries.last().map(|e| e.seq);
    Ok(Json(types::AuditPage {
        entries,
        next_after: next,
    }))
}

/// `POST /v1/analyses`: the planner's reading of an intent, without
/// running it.
#[utoipa::path(post, path = "/v1/analyses", tag = "intents", request_body = types::SubmitIntent,
    responses(
        (status = 200, description = "The planner's reading", body = types::Analysis),
        (status = 422, description = "Invalid intent", body = types::ErrorBody),
    ))]
async fn analyze_intent(
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
fn agents_for(tiers: &Tiers, tier: &str, plan: Option<&Plan>) -> Result<Vec<String>, ApiError> {
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
fn planner_failed(f: Failure) -> ApiError {
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
async fn list_intents(
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
async fn visible_intent(
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
async fn get_intent(
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

/// How often an event stream looks for news when nothing woke it: what
/// another replica commits is seen within this. Changes this server
/// commits wake the streams at once ([`crate::store::Store::changes`]).
const EVENTS_FALLBACK: std::time::Duration = std::time::Duration::from_secs(2);

/// How often a quiet event stream sends a comment.
const EVENTS_KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(5);

/// The event streams open, by tenant, and the most allowed.
#[derive(Debug, Default)]
pub struct Streams {
    open: std::sync::Mutex<HashMap<String, usize>>,
    /// In all, and per tenant (`--max-streams`,
    /// `--max-streams-per-tenant`).
    pub max: usize,
    pub max_per_tenant: usize,
}

/// One open stream's place; given back when the stream ends.
struct StreamSlot {
    streams: Arc<Streams>,
    tenant: String,
}

impl Streams {
    pub fn new(max: usize, max_per_tenant: usize) -> Self {
        Self {
            open: Default::default(),
            max,
            max_per_tenant,
        }
    }

    /// A place for a stream of `tenant`, unless the server or the tenant
    /// has its most open.
    fn take(self: &Arc<Self>, tenant: &str) -> Option<StreamSlot> {
        let mut open = self.open.lock().expect("never poisoned");
        let total: usize = open.values().sum();
        let mine = open.get(tenant).copied().unwrap_or(0);
        if total >= self.max || mine >= self.max_per_tenant {
            return None;
        }
        *open.entry(tenant.to_owned()).or_default() += 1;
        Some(StreamSlot {
            streams: self.clone(),
            tenant: tenant.to_owned(),
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.streams.open.lock().expect("never poisoned");
        if let Some(n) = open.get_mut(&self.tenant) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.tenant);
            }
        }
    }
}

/// The longest an event stream stays open.
const EVENTS_MAX: std::time::Duration = std::time::Duration::from_secs(3600);

/// What an event stream has already told its client.
struct EventCursor {
    state: AppState,
    id: String,
    /// The status of every stage record sent, by sequence number.
    stages: BTreeMap<i64, StageStatus>,
    status: Option<IntentStatus>,
    iteration: i64,
    pending: std::collections::VecDeque<axum::response::sse::Event>,
    ended: bool,
    opened: std::time::Instant,
    changes: tokio::sync::watch::Receiver<u64>,
    _slot: StreamSlot,
}

impl EventCursor {
    /// Queues an event for every change since the last look.
    async fn look(&mut self) -> Result<(), crate::store::Error> {
        use axum::response::sse::Event;
        let Some(record) = self.state.store.get_intent(&self.id).await? else {
            self.ended = true;
            return Ok(());
        };
        for stage in self.state.store.stages(&self.id).await? {
            let status = stage.status;
            if self.stages.get(&stage.seq) == Some(&status) {
                continue;
            }
            if stage.iteration > self.iteration {
                self.iteration = stage.iteration;
                self.pending.push_back(
                    Event::default()
                        .event("iteration")
                        .json_data(json!({ "iteration": stage.iteration }))
                        .expect("serializes"),
                );
            }
            let kind = match (stage.stage.as_str(), stage.status) {
                ("gate", s) if s != crate::store::StageStatus::Running => "gate",
                (_, crate::store::StageStatus::Running) => "stage.started",
                _ => "stage.finished",
            };
            self.pending.push_back(
                Event::default()
                    .event(kind)
                    .id(format!("{}:{}", stage.seq, status.as_str()))
                    .json_data(&stage)
                    .expect("serializes"),
            );
            self.stages.insert(stage.seq, status);
        }
        if self.status != Some(record.status) {
            self.pending.push_back(
                Event::default()
                    .event("status")
                    .json_data(json!({ "status": record.status, "error": record.error }))
                    .expect("serializes"),
            );
            self.status = Some(record.status);
        }
        if record.status.is_finished() || self.opened.elapsed() > EVENTS_MAX {
            self.ended = true;
        }
        Ok(())
    }
}

/// Server-sent events for an intent: `stage.started`, `stage.finished`,
/// `iteration`, `gate` and `status`, from the first stage on; the stream
/// ends after the intent does.
#[utoipa::path(get, path = "/v1/intents/{id}/events", tag = "intents", params(("id" = String, Path)),
    responses(
        (status = 200, description = "Server-sent events until the intent ends", body = types::StreamEvent, content_type = "text/event-stream"),
        (status = 404, description = "`INTENT_NOT_FOUND`", body = types::ErrorBody),
    ))]
async fn intent_events(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    visible_intent(&state, &caller, &id).await?;
    let slot = state.streams.take(&caller.tenant).ok_or_else(|| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_STREAMS",
            "the server or this tenant has its most event streams open; poll the intent or retry later",
        )
        .retry_after(RETRY_AFTER_SECS)
    })?;
    let cursor = EventCursor {
        changes: state.store.changes(),
        _slot: slot,
        state,
        id,
        stages: BTreeMap::new(),
        status: None,
        iteration: 0,
        pending: Default::default(),
        ended: false,
        opened: std::time::Instant::now(),
    };
    let stream = futures_util::stream::unfold(cursor, |mut c| async move {
        loop {
            if let Some(event) = c.pending.pop_front() {
                return Some((Ok::<Event, std::convert::Infallible>(event), c));
            }
            if c.ended {
                return None;
            }
            if let Err(e) = c.look().await {
                tracing::error!(intent = %c.id, error = %e, "event stream stopped");
                return None;
            }
            if c.pending.is_empty() && !c.ended {
                tokio::select! {
                    _ = c.changes.changed() => {}
                    () = tokio::time::sleep(EVENTS_FALLBACK) => {}
                }
            }
        }
    });
    // A comment every few seconds keeps proxies from closing a quiet
    // stream, and shows when its client has gone, so its place is given
    // back.
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(EVENTS_KEEP_ALIVE))
        .into_response())
}

#[utoipa::path(post, path = "/v1/intents/{id}/cancel", tag = "intents", params(("id" = String, Path)),
    responses(
        (status = 200, description = "Cancelled", body = types::Cancelled),
        (status = 202, description = "Running: its plugins are being interrupted", body = types::Cancelled),
        (status = 404, description = "`INTENT_NOT_FOUND`", body = types::ErrorBody),
        (status = 409, description = "`INTENT_FINISHED`", body = types::ErrorBody),
    ))]
async fn cancel_intent(
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
async fn approve_intent(
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
async fn reject_intent(
    state: State<AppState>,
    caller: Extension<Caller>,
    id: Path<String>,
    body: Result<Json<Decision>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<types::Decided>, ApiError> {
    decide(state, caller, id, body, "rejected").await
}

async fn decide(
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

#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", request_body = types::RegisterWebhook,
    responses(
        (status = 201, description = "Registered; the secret is shown this once", body = types::WebhookCreated),
        (status = 422, description = "`INVALID_WEBHOOK`, `WEBHOOK_DESTINATION_REFUSED`", body = types::ErrorBody),
    ))]
async fn register_webhook(
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
async fn list_webhooks(
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
async fn remove_webhook(
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
async fn webhook_deliveries(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<types::DeliveryList>, ApiError> {
    let deliveries = crate::webhooks::deliveries(&state.store, &caller.tenant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("WEBHOOK_NOT_FOUND", format!("no webhook `{id}`")))?;
    Ok(Json(types::DeliveryList { deliveries }))
}

/// The capsule of intent `id`, if the caller may see the intent; 404
/// `CAPSULE_NOT_FOUND` otherwise, as for an intent that has none.
async fn capsule_record(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<crate::store::CapsuleRecord, ApiError> {
    let visible = match visible_intent(state, caller, id).await {
        Ok(_) => state.store.get_capsule(id).await?,
        Err(e) if e.status == StatusCode::NOT_FOUND => None,
        Err(e) => return Err(e),
    };
    visible.ok_or_else(|| {
        ApiError::not_found(
            "CAPSULE_NOT_FOUND",
            format!("no capsule for intent `{id}` (it may still be running)"),
        )
    })
}

#[utoipa::path(get, path = "/v1/capsules/{id}", tag = "capsules", params(("id" = String, Path)),
    responses(
        (status = 200, description = "The capsule: files, reports, score, verdict, manifest", body = types::CapsuleView),
        (status = 404, description = "`CAPSULE_NOT_FOUND`", body = types::ErrorBody),
    ))]
async fn get_capsule(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<types::CapsuleView>, ApiError> {
    let capsule = capsule_record(&state, &caller, &id).await?;
    let artifacts: Vec<String> = capsule
        .artifacts
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["file_name"].as_str())
        .map(|name| format!("/v1/capsules/{id}/artifacts/{name}"))
        .collect();
    let links = types::CapsuleLinks {
        download: format!("/v1/capsules/{id}/download"),
        artifacts,
        files: format!("/v1/capsules/{id}/files/"),
        sarif: format!("/v1/capsules/{id}/sarif"),
        intent: format!("/v1/intents/{id}"),
    };
    Ok(Json(types::CapsuleView { capsule, links }))
}

/// The capsule's validation reports as a SARIF 2.1.0 log.
#[utoipa::path(get, path = "/v1/capsules/{id}/sarif", tag = "capsules", params(("id" = String, Path)),
    responses(
        (status = 200, description = "The validation findings as SARIF 2.1.0", body = Object, content_type = "application/sarif+json"),
        (status = 404, description = "`CAPSULE_NOT_FOUND`", body = types::ErrorBody),
    ))]
async fn capsule_sarif(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let capsule = capsule_record(&state, &caller, &id).await?;
    let validations = crate::sarif::validations(&capsule).map_err(ApiError::internal)?;
    let manifest: Option<crate::capsule::Manifest> =
        serde_json::from_value(capsule.manifest.clone()).ok();
    let mut texts = HashMap::new();
    for path in crate::sarif::paths(&validations) {
        if let Ok(Some(bytes)) = state.capsules.file(&id, &path).await
            && let Ok(text) = String::from_utf8(bytes)
        {
            texts.insert(path, text);
        }
    }
    let log = crate::sarif::log(&validations, manifest.as_ref(), &texts);
    Ok((
        [(header::CONTENT_TYPE, crate::sarif::MEDIA_TYPE)],
        Json(log),
    )
        .into_response())
}

/// The capsule's main artifact (its tier's first exporter's).
#[utoipa::path(get, path = "/v1/capsules/{id}/download", tag = "capsules", params(("id" = String, Path)),
    responses(
        (status = 200, description = "The main artifact", body = types::Binary, content_type = "*/*"),
        (status = 404, description = "`CAPSULE_NOT_FOUND`, `ARTIFACT_NOT_FOUND`", body = types::ErrorBody),
    ))]
async fn download_capsule(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let capsule = capsule_record(&state, &caller, &id).await?;
    let (Some(name), Some(media_type)) = (capsule.artifact_name, capsule.artifact_type) else {
        return Err(ApiError::not_found(
            "ARTIFACT_NOT_FOUND",
            "this capsule has no exported artifact",
        ));
    };
    artifact_response(&state, &id, name, media_type).await
}

/// Any artifact of the capsule, by file name.
#[utoipa::path(get, path = "/v1/capsules/{id}/artifacts/{name}", tag = "capsules",
    params(("id" = String, Path), ("name" = String, Path)),
    responses(
        (status = 200, description = "One exporter's artifact", body = types::Binary, content_type = "*/*"),
        (status = 404, description = "`CAPSULE_NOT_FOUND`, `ARTIFACT_NOT_FOUND`", body = types::ErrorBody),
    ))]
async fn capsule_artifact(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let capsule = capsule_record(&state, &caller, &id).await?;
    let media_type = capsule
        .artifacts
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["file_name"] == name.as_str())
        .and_then(|a| a["media_type"].as_str())
        .ok_or_else(|| {
            ApiError::not_found(
                "ARTIFACT_NOT_FOUND",
                format!("this capsule has no artifact `{name}`"),
            )
        })?
        .to_owned();
    artifact_response(&state, &id, name, media_type).await
}

async fn artifact_response(
    state: &AppState,
    id: &str,
    name: String,
    media_type: String,
) -> Result<Response, ApiError> {
    let bytes = state
        .capsules
        .artifact(id, &name)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::internal(format!(
                "capsule `{id}` lists artifact `{name}`, which is missing"
            ))
        })?;
    Ok((
        [
            (header::CONTENT_TYPE, media_type),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[utoipa::path(get, path = "/v1/capsules/{id}/files/{path}", tag = "capsules",
    params(("id" = String, Path), ("path" = String, Path, description = "A file's path in the capsule")),
    responses(
        (status = 200, description = "The file: text (`text/plain; charset=utf-8`), or bytes (`application/octet-stream`)", body = types::Binary, content_type = "*/*"),
        (status = 404, description = "`CAPSULE_NOT_FOUND`, `FILE_NOT_FOUND`", body = types::ErrorBody),
    ))]
async fn capsule_file(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, path)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    capsule_record(&state, &caller, &id).await?;
    let not_found = || {
        ApiError::not_found(
            "FILE_NOT_FOUND",
            format!("capsule `{id}` has no file `{path}`"),
        )
    };
    // A directory of the capsule is not a file of it.
    let bytes = state
        .capsules
        .file(&id, &path)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(not_found)?;
    let media_type = if std::str::from_utf8(&bytes).is_ok() {
        "text/plain; charset=utf-8"
    } else {
        "application/octet-stream"
    };
    Ok(([(header::CONTENT_TYPE, media_type)], bytes).into_response())
}

/// The loaded plugins, each with what it declares and what its calls
/// actually get (`granted`: declared and granted; configuration by key
/// only, since values may be secrets).
#[utoipa::path(get, path = "/v1/plugins", tag = "plugins",
    responses((status = 200, description = "The plugins the tiers in force run, by name", body = types::PluginList)))]
async fn list_plugins(State(state): State<AppState>) -> Json<types::PluginList> {
    let catalog = state.pipeline.catalog();
    let tiers = state.pipeline.tiers();
    let mut plugins: Vec<_> = catalog
        .plugins
        .values()
        .map(|p| {
            let grant = tiers.grants.get(&p.info.name).cloned().unwrap_or_default();
            let effective = grant.effective(&p.info.capabilities);
            types::PluginView {
                name: p.info.name.clone(),
                version: p.info.version.clone(),
                kind: p.info.kind,
                description: p.info.description.clone(),
                capabilities: p.info.capabilities.clone(),
                granted: types::Granted {
                    http: effective.http.to_vec(),
                    directory: effective
                        .directory
                        .map(|(dir, writable)| types::GrantedDirectory {
                            path: dir.display().to_string(),
                            writable,
                        }),
                    config: grant.config.keys().cloned().collect(),
                    secrets: effective
                        .secrets
                        .iter()
                        .map(|(k, _)| (*k).to_owned())
                        .collect(),
                },
                digest: p.digest.clone(),
                size: p.size as u64,
                languages: p.languages.clone(),
                extensions: p.extensions.clone(),
            }
        })
        .collect();
    plugins.sort_by(|a, b| a.name.cmp(&b.name));
    Json(types::PluginList { plugins })
}

/// The tiers in force: each one's stages in the order they may run, its
/// gate, repair rounds, approval and concurrency; and the planner.
#[utoipa::path(get, path = "/v1/tiers", tag = "plugins",
    responses((status = 200, description = "The configured tiers and planner", body = types::TierList)))]
async fn list_tiers(State(state): State<AppState>) -> Json<types::TierList> {
    let tiers = state.pipeline.tiers();
    // Serializing derived types to JSON values cannot fail.
    fn value(v: &impl serde::Serialize) -> serde_json::Value {
        serde_json::to_value(v).unwrap_or_default()
    }
    let list = tiers
        .tiers
        .iter()
        .map(|(name, tier)| types::TierView {
            name: name.clone(),
            description: tier.description.clone(),
            stages: tier.order.iter().map(|&i| value(&tier.stages[i])).collect(),
            exporter: tier.exporters.first().cloned(),
            exporters: tier.exporters.clone(),
            delivery: tier.delivery.clone(),
            deliveries: tier.deliveries.iter().map(value).collect(),
            gate: value(&tier.gate),
            max_iterations: tier.max_iterations,
            approval: tier.approval,
            concurrency: tier.concurrency(),
            conflicts: value(&tier.conflicts),
        })
        .collect();
    Json(types::TierList {
        tiers: list,
        planner: tiers.planner.as_ref().map(|p| p.plugin.clone()),
    })
}
