//! Webhooks: an operator registers URLs for `intent.completed`,
//! `intent.failed` and `approval.required`; QLP POSTs each event to them,
//! signed, and retries with exponential backoff and jitter.
//!
//! A delivery row is written in the transaction that records the intent's
//! outcome, so an event is never lost to a crash; the sender claims due
//! deliveries for the length of one attempt, so replicas do not send the
//! same attempt twice. Receivers should still expect a repeat (a process
//! that dies after the POST and before recording it sends it again) and
//! deduplicate on `X-QLP-Delivery`.
//!
//! Signature: `X-QLP-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`
//! with the Unix time in seconds in `X-QLP-Timestamp`; a receiver
//! recomputes it and refuses old timestamps to stop replays.

use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::json;
use sha2::Sha256;

use crate::store::outbox::EVENTS;
use crate::store::{self, Backend, Store, now_ms};
use qlp_runtime::net::Allowed;

/// Attempts before a delivery is given up as failed: with the backoff
/// below, the last is about two minutes after the first.
pub const MAX_ATTEMPTS: u32 = 8;

/// The wait after the first failed attempt; it doubles with every attempt.
pub const BASE_BACKOFF: Duration = Duration::from_millis(500);

/// The longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// How long one attempt may take, connection included.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the sender looks for due deliveries.
const SEND_POLL: Duration = Duration::from_millis(200);

/// `v1=` and the hex HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`.
pub fn sign(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("v1={hex}")
}

/// The wait before attempt `attempts + 1`, after `attempts` failures:
/// `BASE_BACKOFF · 2^(attempts-1)`, capped, scaled by a jitter factor in
/// [0.5, 1.5) so receivers that failed together are not retried together.
pub fn backoff(attempts: u32, jitter: f64) -> Duration {
    let exp = BASE_BACKOFF.saturating_mul(1 << attempts.saturating_sub(1).min(16));
    exp.min(MAX_BACKOFF).mul_f64(0.5 + jitter.clamp(0.0, 1.0))
}

/// A random number in [0, 1).
fn jitter() -> f64 {
    (uuid::Uuid::new_v4().as_u128() >> 75) as f64 / (1u64 << 53) as f64
}

/// A registered webhook, without its secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub created_at: String,
}

/// Why a webhook was not registered.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("{0}")]
    Invalid(String),
    /// The URL leads somewhere the server may not send to.
    #[error(transparent)]
    Destination(#[from] qlp_runtime::net::Refused),
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// Longest webhook URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Registers a webhook; returns it and its secret (generated when none is
/// given).
///
/// The URL must lead to a public address (every address its host resolves
/// to), unless the operator allowed the destination; it is checked again
/// at every delivery, so a name that later resolves elsewhere is caught.
pub async fn register(
    store: &Store,
    actor: &store::Actor,
    url: &str,
    events: &[String],
    secret: Option<String>,
    allowed: &Allowed,
) -> Result<(Webhook, String), RegisterError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| RegisterError::Invalid(format!("`{url}` is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(RegisterError::Invalid(format!(
            "`{url}` must be an http or https URL with a host"
        )));
    }
    if url.len() > MAX_URL_LEN {
        return Err(RegisterError::Invalid(format!(
            "the URL is over {MAX_URL_LEN} bytes"
        )));
    }
    if events.is_empty() {
        return Err(RegisterError::Invalid(format!(
            "name at least one event of: {}",
            EVENTS.join(", ")
        )));
    }
    if let Some(e) = events.iter().find(|e| !EVENTS.contains(&e.as_str())) {
        return Err(RegisterError::Invalid(format!(
            "unknown event `{e}`; known events: {}",
            EVENTS.join(", ")
        )));
    }
    let secret = match secret {
        Some(s) if s.len() < 16 || s.len() > 256 => {
            return Err(RegisterError::Invalid(
                "the secret must be 16 to 256 bytes".into(),
            ));
        }
        Some(s) => s,
        None => format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        ),
    };
    // Last, once the request is otherwise valid: the destination.
    qlp_runtime::net::check(&parsed, allowed).await?;
    let hook = Webhook {
        id: uuid::Uuid::new_v4().to_string(),
        url: url.to_owned(),
        events: events.to_vec(),
        created_at: store::now(),
    };
    let mut tx = store.write().await?;
    sqlx::query(
        "INSERT INTO webhooks (id, tenant_id, url, events, secret, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&hook.id)
    .bind(&actor.tenant)
    .bind(&hook.url)
    .bind(serde_json::to_string(&hook.events).map_err(store::Error::from)?)
    .bind(&secret)
    .bind(&hook.created_at)
    .execute(&mut *tx)
    .await
    .map_err(store::Error::from)?;
    store::audit::append(&mut tx, actor, "webhook.register", &hook.id, "ok").await?;
    tx.commit().await.map_err(store::Error::from)?;
    Ok((hook, secret))
}

/// The webhooks of `tenant`.
pub async fn list(store: &Store, tenant: &str) -> store::Result<Vec<Webhook>> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT id, url, events, created_at FROM webhooks WHERE tenant_id = $1
         ORDER BY created_at, id",
    )
    .bind(tenant)
    .fetch_all(store.pool())
    .await?;
    rows.into_iter()
        .map(|(id, url, events, created_at)| {
            Ok(Webhook {
                id,
                // Credentials in a URL are not shown again.
                url: qlp_runtime::net::masked(&url),
                events: serde_json::from_str(&events)?,
                created_at,
            })
        })
        .collect()
}

/// Removes a webhook of `tenant` and its deliveries; false when the
/// tenant has none of that id.
pub async fn remove(store: &Store, actor: &store::Actor, id: &str) -> store::Result<bool> {
    let tenant = actor.tenant.as_str();
    let mut tx = store.write().await?;
    sqlx::query(
        "DELETE FROM webhook_deliveries WHERE webhook_id =
            (SELECT id FROM webhooks WHERE id = $1 AND tenant_id = $2)",
    )
    .bind(id)
    .bind(tenant)
    .execute(&mut *tx)
    .await?;
    let done = sqlx::query("DELETE FROM webhooks WHERE id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(tenant)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 1 {
        store::audit::append(&mut tx, actor, "webhook.remove", id, "ok").await?;
    }
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// The deliveries of a webhook of `tenant`, newest first, with every
/// attempt; `None` when the tenant has no such webhook.
pub async fn deliveries(
    store: &Store,
    tenant: &str,
    id: &str,
) -> store::Result<Option<Vec<serde_json::Value>>> {
    let exists: Option<(String,)> =
        sqlx::query_as("SELECT id FROM webhooks WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant)
            .fetch_optional(store.pool())
            .await?;
    if exists.is_none() {
        return Ok(None);
    }
    let rows: Vec<(String, String, String, String, i64, String, String)> = sqlx::query_as(
        "SELECT id, event, intent_id, status, attempts, attempt_log, created_at FROM webhook_deliveries
         WHERE webhook_id = $1 ORDER BY created_at DESC, id LIMIT 100",
    )
    .bind(id)
    .fetch_all(store.pool())
    .await?;
    rows.into_iter()
        .map(
            |(id, event, intent_id, status, attempts, log, created_at)| {
                Ok(json!({
                    "id": id,
                    "event": event,
                    "intent_id": intent_id,
                    "status": status,
                    "attempts": attempts,
                    "attempt_log": serde_json::from_str::<serde_json::Value>(&log)?,
                    "created_at": created_at,
                }))
            },
        )
        .collect::<store::Result<Vec<_>>>()
        .map(Some)
}

/// Starts the task that sends due deliveries, to the destinations
/// [`qlp_runtime::net`] lets the server reach.
pub fn start_sender(store: Store, allowed: Allowed) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = send_due(&store, &allowed).await {
                tracing::error!(error = %e, "webhook sender failed");
            }
            tokio::time::sleep(SEND_POLL).await;
        }
    });
}

/// A client for one attempt to `url`: its host is checked again and the
/// connection pinned to the checked addresses, so a name that now
/// resolves to a private address (DNS rebinding) is not followed.
async fn client_for(url: &str, allowed: &Allowed) -> Result<reqwest::Client, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
    let addrs = qlp_runtime::net::check(&parsed, allowed)
        .await
        .map_err(|e| format!("destination refused: {e}"))?;
    let mut builder = qlp_runtime::tls::client_builder()
        .timeout(ATTEMPT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none());
    if let Some(url::Host::Domain(name)) = parsed.host() {
        builder = builder.resolve_to_addrs(name, &addrs);
    }
    builder.build().map_err(|e| e.to_string())
}

async fn send_due(store: &Store, allowed: &Allowed) -> store::Result<()> {
    let now = now_ms();
    let due: Vec<(String, i64)> = sqlx::query_as(
        "SELECT id, next_attempt_ms FROM webhook_deliveries
         WHERE status = 'pending' AND next_attempt_ms <= $1 ORDER BY next_attempt_ms LIMIT 16",
    )
    .bind(now)
    .fetch_all(store.pool())
    .await?;
    let mut sends = tokio::task::JoinSet::new();
    for (id, due_at) in due {
        // Claim the attempt: push its due time past the attempt's timeout,
        // only if nobody else did first.
        let claimed: Option<(String, String, String, String, i64)> = sqlx::query_as(
            "UPDATE webhook_deliveries SET next_attempt_ms = $1
             WHERE id = $2 AND next_attempt_ms = $3 AND status = 'pending'
             RETURNING (SELECT url FROM webhooks WHERE webhooks.id = webhook_id),
                       (SELECT secret FROM webhooks WHERE webhooks.id = webhook_id),
                       event, payload, attempts",
        )
        .bind(now + ATTEMPT_TIMEOUT.as_millis() as i64 * 2)
        .bind(&id)
        .bind(due_at)
        .fetch_optional(store.pool())
        .await?;
        let Some((url, secret, event, payload, attempts)) = claimed else {
            continue;
        };
        let (store, allowed) = (store.clone(), allowed.clone());
        sends.spawn(async move {
            let timestamp = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let http = client_for(&url, &allowed).await;
            let result = match http {
                Err(refused) => Err(refused),
                Ok(http) => http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-qlp-event", &event)
                    .header("x-qlp-delivery", &id)
                    .header("x-qlp-timestamp", timestamp.to_string())
                    .header(
                        "x-qlp-signature",
                        sign(&secret, timestamp, payload.as_bytes()),
                    )
                    .body(payload)
                    .send()
                    .await
                    .map_err(|e| e.to_string()),
            };
            let (ok, entry) = match result {
                Ok(r) => (
                    r.status().is_success(),
                    json!({ "at": store::now(), "status_code": r.status().as_u16() }),
                ),
                Err(e) => (false, json!({ "at": store::now(), "error": e })),
            };
            let attempts = attempts as u32 + 1;
            let status = if ok {
                "delivered"
            } else if attempts >= MAX_ATTEMPTS {
                "failed"
            } else {
                "pending"
            };
            let next = now_ms() + backoff(attempts, jitter()).as_millis() as i64;
            if !ok {
                tracing::warn!(delivery = %id, attempts, %status, "webhook attempt failed");
            }
            qlp_runtime::metrics::webhook_delivery(match status {
                "pending" => "retrying",
                other => other,
            });
            let sql = match store.backend() {
                Backend::Sqlite => {
                    "UPDATE webhook_deliveries SET status = $1, attempts = $2, next_attempt_ms = $3,
                        attempt_log = json_insert(attempt_log, '$[#]', json($4))
                     WHERE id = $5"
                }
                Backend::Postgres => {
                    "UPDATE webhook_deliveries SET status = $1, attempts = $2, next_attempt_ms = $3,
                        attempt_log = (attempt_log::jsonb || jsonb_build_array($4::jsonb))::text
                     WHERE id = $5"
                }
            };
            let recorded = sqlx::query(sql)
                .bind(status)
                .bind(attempts as i64)
                .bind(next)
                .bind(entry.to_string())
                .bind(&id)
                .execute(store.pool())
                .await;
            if let Err(e) = recorded {
                tracing::error!(delivery = %id, error = %e, "cannot record a webhook attempt");
            }
        });
    }
    while sends.join_next().await.is_some() {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret-secret-secret").unwrap();
        mac.update(b"1700000000.{\"event\":\"intent.completed\"}");
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let signed = sign(
            "secret-secret-secret",
            1_700_000_000,
            b"{\"event\":\"intent.completed\"}",
        );
        assert_eq!(signed, format!("v1={hex}"));
        assert_ne!(signed, sign("secret-secret-secret", 1_700_000_001, b"{}"));
        assert_ne!(signed, sign("secret-secret-secreT", 1_700_000_000, b"{}"));
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        assert_eq!(backoff(1, 0.5), BASE_BACKOFF);
        assert_eq!(backoff(2, 0.5), BASE_BACKOFF * 2);
        assert_eq!(backoff(3, 0.5), BASE_BACKOFF * 4);
        assert_eq!(backoff(1, 0.0), BASE_BACKOFF / 2);
        assert!(backoff(1, 0.999) < BASE_BACKOFF * 3 / 2);
        assert_eq!(backoff(30, 0.5), MAX_BACKOFF);
        let j = jitter();
        assert!((0.0..1.0).contains(&j));
    }
}
