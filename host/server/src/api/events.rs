//! An intent's server-sent events, and the bound on open streams per
//! tenant.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::extract::Path;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::intents::visible_intent;
use super::{AppState, RETRY_AFTER_SECS, types};

use super::ApiError;

use crate::auth::Caller;
use crate::store::{IntentStatus, StageStatus};

/// How often an event stream looks for news when nothing woke it: what
/// another replica commits is seen within this. Changes this server
/// commits wake the streams at once ([`crate::store::Store::changes`]).
pub(super) const EVENTS_FALLBACK: std::time::Duration = std::time::Duration::from_secs(2);

/// How often a quiet event stream sends a comment.
pub(super) const EVENTS_KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(5);

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
pub(super) struct StreamSlot {
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
pub(super) const EVENTS_MAX: std::time::Duration = std::time::Duration::from_secs(3600);

/// What an event stream has already told its client.
pub(super) struct EventCursor {
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
pub(super) async fn intent_events(
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
