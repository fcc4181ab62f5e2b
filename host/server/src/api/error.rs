//! The API's one error type: JSON `{"code", "message"}` with a stable code
//! and the matching HTTP status. Internal causes are logged, not returned.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::store::Unavailable;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds a client should wait before trying again (`Retry-After`).
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The same error, telling the client when to try again.
    pub fn retry_after(mut self, secs: u32) -> Self {
        self.retry_after = Some(secs);
        self
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// An internal failure: logged in full, reported without details.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "internal server error",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(super::types::ErrorBody {
                code: self.code.to_owned(),
                message: self.message,
                request_id: super::access::REQUEST_ID.try_with(Clone::clone).ok(),
            }),
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        response
    }
}

/// A database that is busy, full, read-only or gone answers 503 with a
/// stable code and `Retry-After`: the request may succeed later, and
/// nothing of it was stored (every write is one transaction). Anything
/// else from the store is an internal error.
impl From<crate::store::Error> for ApiError {
    fn from(e: crate::store::Error) -> Self {
        match e.unavailable() {
            Some(why) => {
                tracing::warn!(error = %e, code = why.code(), "database unavailable");
                let message = match why {
                    Unavailable::Busy => "the database is busy; retry shortly",
                    Unavailable::Unwritable => {
                        "the database cannot be written now (disk full or read-only); retry later"
                    }
                };
                Self::new(StatusCode::SERVICE_UNAVAILABLE, why.code(), message)
                    .retry_after(why.retry_after_secs())
            }
            None => Self::internal(e),
        }
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection::*;
        match &r {
            JsonDataError(_) => Self::invalid("INVALID_REQUEST", r.body_text()),
            JsonSyntaxError(_) => Self::new(StatusCode::BAD_REQUEST, "INVALID_JSON", r.body_text()),
            MissingJsonContentType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "expected `Content-Type: application/json`",
            ),
            _ if r.status() == StatusCode::PAYLOAD_TOO_LARGE => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                format!("the request body is over {} bytes", super::MAX_BODY_BYTES),
            ),
            _ => Self::new(r.status(), "INVALID_REQUEST", r.body_text()),
        }
    }
}
