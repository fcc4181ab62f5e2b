//! The REST API (axum), one module per resource: `intents` (submit, list,
//! read, the planner's reading), `events` (an intent's event stream),
//! `decisions` (cancel, approve, reject), `capsules`, `plugins` (plugins
//! and tiers), `webhooks`, `audit`, `checks` (`POST /v1/checks`), `admin`
//! (tenants, keys, policies), `registry`, `health`; beside them `access`
//! (who may call what), `types` (request and response bodies), `openapi`,
//! `error`, `extract` and `quotas`. The router is a value ([`router`]) so
//! tests drive it directly; `serve` binds it to a socket.

pub mod access;
mod admin;
mod audit;
mod capsules;
mod checks;
mod decisions;
mod error;
mod events;
mod extract;
mod health;
mod intents;
pub mod openapi;
mod plugins;
mod quotas;
pub mod registry;
pub mod types;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub use error::ApiError;
pub use events::Streams;
pub use registry::RegistryState;

use crate::capsule::CapsuleStore;
use crate::pipeline::Dispatcher;
use crate::store::Store;

/// Largest request body accepted. An intent is a paragraph of text with a
/// few lists; 64 KiB leaves ample room and keeps abuse cheap to refuse.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

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

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/v1/openapi.json", get(openapi::openapi_json))
        .route(
            "/v1/intents",
            post(intents::submit_intent).get(intents::list_intents),
        )
        .route("/v1/analyses", post(intents::analyze_intent))
        .route("/v1/intents/{id}", get(intents::get_intent))
        .route("/v1/intents/{id}/events", get(events::intent_events))
        .route("/v1/intents/{id}/cancel", post(decisions::cancel_intent))
        .route("/v1/intents/{id}/approve", post(decisions::approve_intent))
        .route("/v1/intents/{id}/reject", post(decisions::reject_intent))
        .route(
            "/v1/checks",
            post(checks::submit_check)
                .layer(DefaultBodyLimit::max(crate::upload::MAX_ARCHIVE_BYTES)),
        )
        .route("/v1/capsules/{id}", get(capsules::get_capsule))
        .route("/v1/capsules/{id}/sarif", get(capsules::capsule_sarif))
        .route(
            "/v1/capsules/{id}/download",
            get(capsules::download_capsule),
        )
        .route(
            "/v1/capsules/{id}/artifacts/{name}",
            get(capsules::capsule_artifact),
        )
        .route(
            "/v1/capsules/{id}/files/{*path}",
            get(capsules::capsule_file),
        )
        .route("/v1/plugins", get(plugins::list_plugins))
        .route("/v1/tiers", get(plugins::list_tiers))
        .route(
            "/v1/webhooks",
            post(webhooks::register_webhook).get(webhooks::list_webhooks),
        )
        .route(
            "/v1/webhooks/{id}",
            axum::routing::delete(webhooks::remove_webhook),
        )
        .route(
            "/v1/webhooks/{id}/deliveries",
            get(webhooks::webhook_deliveries),
        )
        .route("/v1/audit", get(audit::audit_page))
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
