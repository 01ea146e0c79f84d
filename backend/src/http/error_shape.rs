//! The net under every error response: whatever answers 4xx or 5xx without a JSON body —
//! axum's routing (404, 405), the request timeout (408), a rejection no handler mapped —
//! answers the documented `{"error","message"}` JSON instead of plain text or nothing.
//! Handlers answer with [`crate::api_error::ApiError`] (JSON already) and read input through
//! [`crate::extract`], so their refusals keep their own words; this only replaces bodies
//! that are not JSON, with the status's own.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::json;

/// Error responses that are not JSON become `{"error": <code>, "message": <reason>}`.
pub fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let reason = status.canonical_reason().unwrap_or("error").to_lowercase();
    let body = json!({ "error": code(status), "message": reason }).to_string();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

/// The `error` code: [`crate::api_error::ApiError`]'s for the statuses it answers, the
/// reason in snake case for the rest.
fn code(status: StatusCode) -> String {
    let known = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::CONFLICT => "conflict",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::INTERNAL_SERVER_ERROR => "internal",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        other => {
            return other
                .canonical_reason()
                .unwrap_or("error")
                .to_lowercase()
                .replace([' ', '-'], "_");
        }
    };
    known.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_errors_become_json_and_the_rest_is_left_alone() {
        let plain = Response::builder()
            .status(StatusCode::METHOD_NOT_ALLOWED)
            .header(header::ALLOW, "GET")
            .body(Body::from("nope"))
            .unwrap();
        let shaped = json_errors(plain);
        assert_eq!(shaped.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(shaped.headers()[header::ALLOW], "GET");
        assert_eq!(shaped.headers()[header::CONTENT_TYPE], "application/json");
        let ok = Response::new(Body::from("fine"));
        assert!(
            json_errors(ok)
                .headers()
                .get(header::CONTENT_TYPE)
                .is_none()
        );
        assert_eq!(code(StatusCode::PAYLOAD_TOO_LARGE), "payload_too_large");
        assert_eq!(code(StatusCode::REQUEST_TIMEOUT), "timeout");
    }
}
