//! Health: `GET /healthz` (alive), `GET /readyz` (ready for requests) and
//! `GET /metrics` (Prometheus).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{AppState, types};

/// Liveness, and what an operator looks at first when writes fail: the
/// state of the database file. The server stays up, and reads work, while
/// the file is read-only, moved away or replaced, so the answer is 200 with
/// `"status": "degraded"`.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()),
    responses((status = 200, description = "Alive", body = types::Health)))]
pub(super) async fn healthz(State(state): State<AppState>) -> Json<types::Health> {
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
pub(super) async fn readyz(State(state): State<AppState>) -> Response {
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
pub(super) async fn metrics(State(state): State<AppState>) -> Response {
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
