//! The audit trail, a page at a time.

use super::extract::Query;
use axum::Json;
use axum::extract::{Extension, State};
use serde::Deserialize;

use super::{AppState, types};

use super::ApiError;

use crate::auth::Caller;

/// Entries of `GET /v1/audit` per page at most.
pub const MAX_AUDIT_PAGE: u32 = 500;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct AuditQuery {
    /// The last sequence number already read.
    #[serde(default)]
    after: i64,
    limit: Option<u32>,
}

/// `GET /v1/audit`: the trail of the caller's tenant (of every tenant for
/// an admin), oldest first, a page after `after`.
#[utoipa::path(get, path = "/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "A page of the trail", body = types::AuditPage)))]
pub(super) async fn audit_page(
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
