//! The service's own line per request, where it knows more than the platform: Railway's edge
//! already records every HTTP request with its status and duration (`railway logs --http`),
//! so failures (4xx, 5xx) and slow requests are logged at INFO and the rest at DEBUG.
//!
//! A tower layer rather than tower-http's `TraceLayer`: that one hands its callbacks nothing
//! of the request but a span, and a span per request is the cost this avoids (a registry
//! entry and a filter check on every poll, logged or not). The `request` span exists only
//! when DEBUG is on (`RUST_LOG=intowork_backend=debug`), for the handler's own events.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, Method, Request, Response, Uri};
use tower::{Layer, Service};
use tracing::{Level, Span};

use super::REQUEST_ID;

/// A request that took this long is logged at INFO whatever its status.
pub const SLOW_REQUEST: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Copy, Default)]
pub struct AccessLogLayer;

impl<S> Layer<S> for AccessLogLayer {
    type Service = AccessLog<S>;

    fn layer(&self, inner: S) -> AccessLog<S> {
        AccessLog { inner }
    }
}

#[derive(Debug, Clone)]
pub struct AccessLog<S> {
    inner: S,
}

impl<S, B, R> Service<Request<B>> for AccessLog<S>
where
    S: Service<Request<B>, Response = Response<R>>,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = Logged<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Logged<S::Future> {
        let request = Seen {
            start: Instant::now(),
            method: req.method().clone(),
            uri: req.uri().clone(),
            id: req.headers().get(&REQUEST_ID).cloned(),
        };
        let span = tracing::debug_span!(
            "request",
            method = %request.method,
            path = request.uri.path(),
            request_id = request.id(),
        );
        let inner = span.in_scope(|| self.inner.call(req));
        Logged {
            inner,
            span,
            request,
        }
    }
}

/// What the line needs to know about the request.
#[derive(Debug)]
struct Seen {
    start: Instant,
    method: Method,
    uri: Uri,
    id: Option<HeaderValue>,
}

impl Seen {
    fn id(&self) -> &str {
        self.id
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
    }

    fn completed(&self, status: u16) {
        let latency = self.start.elapsed();
        // `event!` needs a constant level: the same fields at either level.
        macro_rules! line {
            ($level:expr) => {
                tracing::event!(
                    $level,
                    method = %self.method,
                    path = self.uri.path(),
                    request_id = self.id(),
                    status,
                    latency_ms = latency.as_millis() as u64,
                    "request completed"
                )
            };
        }
        if level(status, latency) == Level::INFO {
            line!(Level::INFO);
        } else {
            line!(Level::DEBUG);
        }
    }
}

/// INFO for what the edge's log does not explain (a failure, a slow answer), DEBUG otherwise.
fn level(status: u16, latency: Duration) -> Level {
    if status >= 400 || latency >= SLOW_REQUEST {
        Level::INFO
    } else {
        Level::DEBUG
    }
}

pin_project_lite::pin_project! {
    /// The inner response future, in the request's span, logged when it completes.
    pub struct Logged<F> {
        #[pin]
        inner: F,
        span: Span,
        request: Seen,
    }
}

impl<F> std::fmt::Debug for Logged<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logged")
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}

impl<F, R, E> Future for Logged<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let result = ready!(this.span.in_scope(|| this.inner.poll(cx)));
        let status = match &result {
            Ok(response) => response.status().as_u16(),
            // The stack below answers every failure with a response; an error is a 500.
            Err(_) => 500,
        };
        this.span.in_scope(|| this.request.completed(status));
        Poll::Ready(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_and_slow_requests_are_info_the_rest_debug() {
        let fast = Duration::from_millis(3);
        assert_eq!(level(200, fast), Level::DEBUG);
        assert_eq!(level(304, fast), Level::DEBUG);
        assert_eq!(
            level(399, SLOW_REQUEST - Duration::from_millis(1)),
            Level::DEBUG
        );
        assert_eq!(level(200, SLOW_REQUEST), Level::INFO);
        assert_eq!(level(400, fast), Level::INFO);
        assert_eq!(level(404, fast), Level::INFO);
        assert_eq!(level(503, fast), Level::INFO);
    }
}
