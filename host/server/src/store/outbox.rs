//! The webhook outbox: the delivery rows an intent's new status raises,
//! written in the transaction that records that status, so an event is
//! never lost to a crash. `crate::webhooks` sends them.

use super::Conn;
use serde_json::json;

use super::{ErrorInfo, IntentStatus, now, now_ms};

/// The events a webhook may subscribe to.
pub const EVENTS: [&str; 3] = ["intent.completed", "intent.failed", "approval.required"];

/// The event an intent's new status raises, if any.
pub fn event_for(status: IntentStatus) -> Option<&'static str> {
    match status {
        IntentStatus::Completed => Some("intent.completed"),
        IntentStatus::GateFailed
        | IntentStatus::Failed
        | IntentStatus::Rejected
        | IntentStatus::Cancelled => Some("intent.failed"),
        IntentStatus::AwaitingApproval => Some("approval.required"),
        IntentStatus::Queued | IntentStatus::Running => None,
    }
}

/// Queues the event `status` raises for every webhook of the intent's
/// tenant subscribed to it, inside the caller's transaction.
pub async fn enqueue(
    conn: &mut Conn,
    intent_id: &str,
    status: IntentStatus,
    error: Option<&ErrorInfo>,
) -> super::Result<()> {
    let Some(event) = event_for(status) else {
        return Ok(());
    };
    let hooks: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, events FROM webhooks
         WHERE tenant_id = (SELECT tenant_id FROM intents WHERE id = $1)",
    )
    .bind(intent_id)
    .fetch_all(&mut *conn)
    .await?;
    for (hook, events) in hooks {
        let events: Vec<String> = serde_json::from_str(&events)?;
        if !events.iter().any(|e| e == event) {
            continue;
        }
        let id = uuid::Uuid::new_v4().to_string();
        let created_at = now();
        let payload = json!({
            "event": event,
            "delivery": id,
            "created_at": created_at,
            "intent": {
                "id": intent_id,
                "status": status.as_str(),
                "error": error,
                "links": {
                    "self": format!("/v1/intents/{intent_id}"),
                    "capsule": format!("/v1/capsules/{intent_id}"),
                },
            },
        });
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, webhook_id, event, intent_id, payload, status, next_attempt_ms, created_at)
             VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7)",
        )
        .bind(&id)
        .bind(&hook)
        .bind(event)
        .bind(intent_id)
        .bind(payload.to_string())
        .bind(now_ms())
        .bind(&created_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_end_of_an_intent_raises_an_event() {
        assert_eq!(event_for(IntentStatus::Completed), Some("intent.completed"));
        assert_eq!(event_for(IntentStatus::Cancelled), Some("intent.failed"));
        assert_eq!(
            event_for(IntentStatus::AwaitingApproval),
            Some("approval.required")
        );
        assert_eq!(event_for(IntentStatus::Running), None);
    }
}
