//! The middleware every route gets: request ids, tracing, CORS, a request timeout.

use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use intowork_config::{AllowedOrigins, Settings};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tracing::Instrument;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// A request still running after this gets 408: nothing holds a connection forever.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Browsers may cache a preflight answer this long.
pub const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(3600);

pub fn layers(router: Router, settings: &Settings) -> Router {
    router
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(cors(settings.allowed_origins()))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(axum::middleware::from_fn(log_request))
        // Outermost: the id exists before anything logs.
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// Exact origins with credentials (the NextAuth session cookie). `*` only outside production,
/// where it mirrors the caller's origin (a literal `*` is not allowed with credentials).
pub fn cors(origins: &AllowedOrigins) -> CorsLayer {
    let allow = match origins {
        AllowedOrigins::Any => AllowOrigin::mirror_request(),
        AllowedOrigins::List(list) => AllowOrigin::list(
            list.iter()
                .filter_map(|o| HeaderValue::from_str(o.as_str()).ok())
                .collect::<Vec<_>>(),
        ),
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            REQUEST_ID,
        ])
        .expose_headers([REQUEST_ID])
        .max_age(PREFLIGHT_MAX_AGE)
}

/// One line per request, with its id; whatever the handler logs carries the same span.
async fn log_request(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let span = tracing::info_span!("request", %method, %path, request_id = %id);
    let start = std::time::Instant::now();
    let response = next.run(req).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::info!(
            %method,
            %path,
            request_id = %id,
            status = response.status().as_u16(),
            latency_ms = start.elapsed().as_millis() as u64,
            "request completed"
        );
    });
    response
}
