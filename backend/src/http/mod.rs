//! The middleware every request goes through: request ids, the access log, CORS (with a log
//! line for refused origins), a request timeout — wrapped once around the whole router. (`Router::layer` would wrap each route
//! instead, and axum clones a route's service, middleware and all, for every request.)

pub mod access_log;
pub mod error_shape;
pub mod refused_origin;
pub mod request_id;

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use intowork_config::{AllowedOrigins, Settings};
use tower::ServiceBuilder;
use tower::util::{MapResponse, MapResponseLayer};
use tower_http::cors::{AllowOrigin, Cors, CorsLayer};
use tower_http::request_id::{
    PropagateRequestId, PropagateRequestIdLayer, SetRequestId, SetRequestIdLayer,
};
use tower_http::timeout::{Timeout, TimeoutLayer};

pub use access_log::SLOW_REQUEST;
use access_log::{AccessLog, AccessLogLayer};
use refused_origin::{RefusedOrigin, RefusedOriginLayer};
use request_id::{AcceptRequestId, AcceptRequestIdLayer, RandomUuid};

/// The router inside its middleware: what `axum::serve` serves and the tests call.
pub type Service = AcceptRequestId<
    SetRequestId<
        AccessLog<PropagateRequestId<RefusedOrigin<Cors<JsonErrors<Timeout<Router>>>>>>,
        RandomUuid,
    >,
>;

/// Error responses with the documented JSON shape, whatever answered them.
pub type JsonErrors<S> = MapResponse<S, fn(Response) -> Response>;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// A request still running after this gets 408: nothing holds a connection forever.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Browsers may cache a preflight answer this long.
pub const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(3600);

/// Outermost first: a caller's id is kept only when acceptable, and exists before anything
/// logs; the log sees the final status; every error (the timeout's included) is JSON.
pub fn service(router: Router, settings: &Settings) -> Service {
    ServiceBuilder::new()
        .layer(AcceptRequestIdLayer)
        .layer(SetRequestIdLayer::new(REQUEST_ID, RandomUuid))
        .layer(AccessLogLayer)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(RefusedOriginLayer::new(settings.allowed_origins()))
        .layer(cors(settings.allowed_origins()))
        .layer(MapResponseLayer::new(
            error_shape::json_errors as fn(Response) -> Response,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .service(router)
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
