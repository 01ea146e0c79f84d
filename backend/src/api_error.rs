//! Errors as HTTP responses: JSON bodies `{"error","message"}` that never carry internal
//! detail (that goes to the log, with the request id), 401 with `WWW-Authenticate`, and 503 +
//! `Retry-After` when the pool is exhausted.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::applications::Refused;
use crate::auth::Rejection;
use crate::http::access_log::ErrorDetail;

/// How long clients should wait before retrying a 503.
pub const RETRY_AFTER_SECS: u64 = 2;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    /// No valid session.
    #[error("{0}")]
    Unauthorized(Rejection),
    /// Signed in, but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    /// The request contradicts the current state (a duplicate, a forbidden transition).
    #[error("{0}")]
    Conflict(String),
    /// No pooled connection became free in time: the client should retry, not hang.
    #[error("the database is busy")]
    Busy,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> ApiError {
        match e {
            sqlx::Error::PoolTimedOut => ApiError::Busy,
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<Refused> for ApiError {
    fn from(r: Refused) -> ApiError {
        let message = r.to_string();
        match r {
            Refused::OfferNotFound(_) | Refused::ApplicationNotFound(_) => {
                ApiError::NotFound(message)
            }
            Refused::AlreadyApplied(_) | Refused::Transition { .. } => ApiError::Conflict(message),
            Refused::NotOwner | Refused::NotYours(_) | Refused::WrongActor(_) => {
                ApiError::Forbidden(message)
            }
            Refused::Database(e) => e.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match &self {
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m.clone()),
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m.clone()),
            ApiError::Unauthorized(r) => (StatusCode::UNAUTHORIZED, "unauthorized", r.to_string()),
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m.clone()),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, "conflict", m.clone()),
            ApiError::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the service is busy, retry shortly".to_owned(),
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal server error".to_owned(),
            ),
        };
        let mut response =
            (status, Json(json!({ "error": code, "message": message }))).into_response();
        if let ApiError::Internal(e) = &self {
            // The detail goes to the log, on the request's own line (with its id), never to
            // the caller.
            response
                .extensions_mut()
                .insert(ErrorDetail(format!("{e:#}")));
        }
        match self {
            ApiError::Busy => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
            }
            ApiError::Unauthorized(_) => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}
