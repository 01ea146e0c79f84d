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
            done: false,
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

/// Set by a handler's error response: what went wrong, for the request's log line (the
/// response body stays generic).
#[derive(Debug, Clone)]
pub struct ErrorDetail(pub String);

/// How a request ended.
#[derive(Debug)]
enum End<'a> {
    Answered {
        status: u16,
        error: Option<&'a str>,
    },
    /// The client went away first: hyper dropped the response future.
    Cancelled,
}

/// nginx's status for a request whose client closed the connection: never sent, only logged.
const CLIENT_CLOSED: u16 = 499;

impl Seen {
    fn id(&self) -> &str {
        self.id
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
    }

    fn finished(&self, end: End<'_>) {
        let latency = self.start.elapsed();
        let (status, error, message) = match end {
            End::Answered { status, error } => (status, error, "request completed"),
            End::Cancelled => (CLIENT_CLOSED, None, "request cancelled"),
        };
        // `event!` needs a constant level: the same fields at each level.
        macro_rules! line {
            ($level:expr, $message:expr $(, $extra:ident)?) => {
                tracing::event!(
                    $level,
                    method = %self.method,
                    path = self.uri.path(),
                    request_id = self.id(),
                    status,
                    latency_ms = latency.as_millis() as u64,
                    $($extra,)?
                    "{}",
                    $message
                )
            };
        }
        if let Some(error) = error {
            line!(Level::ERROR, "request failed", error);
        } else if level(status, latency) == Level::INFO {
            line!(Level::INFO, message);
        } else {
            line!(Level::DEBUG, message);
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
    /// The inner response future, in the request's span, logged when it completes — or when
    /// it is dropped unfinished.
    pub struct Logged<F> {
        #[pin]
        inner: F,
        span: Span,
        request: Seen,
        done: bool,
    }

    impl<F> PinnedDrop for Logged<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if !*this.done {
                this.span.in_scope(|| this.request.finished(End::Cancelled));
            }
        }
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
        *this.done = true;
        let end = match &result {
            Ok(response) => End::Answered {
                status: response.status().as_u16(),
                error: response
                    .extensions()
                    .get::<ErrorDetail>()
                    .map(|d| d.0.as_str()),
            },
            // The stack below answers every failure with a response; an error is a 500.
            Err(_) => End::Answered {
                status: 500,
                error: None,
            },
        };
        this.span.in_scope(|| this.request.finished(end));
        Poll::Ready(result)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use axum::http::StatusCode;

    use super::*;

    /// What the subscriber wrote, shared with the test.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The JSON lines `run` logs at INFO, as production writes them.
    fn logged(run: impl FnOnce()) -> String {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_max_level(Level::INFO)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, run);
        String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
    }

    fn logged_future<F>(inner: F) -> Logged<F> {
        Logged {
            inner,
            span: Span::none(),
            request: Seen {
                start: Instant::now() - SLOW_REQUEST,
                method: Method::GET,
                uri: Uri::from_static("/api/jobs"),
                id: Some(HeaderValue::from_static("req-77")),
            },
            done: false,
        }
    }

    #[test]
    fn a_request_dropped_unfinished_is_logged_as_cancelled() {
        let lines = logged(|| {
            let never = std::future::pending::<Result<Response<()>, ()>>();
            let mut fut = Box::pin(logged_future(never));
            let waker = std::task::Waker::noop();
            assert!(
                fut.as_mut()
                    .poll(&mut Context::from_waker(waker))
                    .is_pending()
            );
        });
        assert!(
            lines.contains("\"message\":\"request cancelled\""),
            "{lines}"
        );
        assert!(lines.contains("\"request_id\":\"req-77\""), "{lines}");
        assert!(lines.contains("\"status\":499"), "{lines}");
    }

    #[test]
    fn an_internal_error_is_logged_on_the_requests_line_with_its_detail() {
        let lines = logged(|| {
            let mut response = Response::new(());
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            response
                .extensions_mut()
                .insert(ErrorDetail("pool timed out: while acquiring".into()));
            let ready = std::future::ready(Ok::<_, ()>(response));
            let mut fut = Box::pin(logged_future(ready));
            let waker = std::task::Waker::noop();
            assert!(
                fut.as_mut()
                    .poll(&mut Context::from_waker(waker))
                    .is_ready()
            );
        });
        let line = lines.lines().next().unwrap_or_default();
        assert_eq!(
            lines.lines().count(),
            1,
            "one line, not cancelled too: {lines}"
        );
        for field in [
            "\"level\":\"ERROR\"",
            "\"message\":\"request failed\"",
            "\"request_id\":\"req-77\"",
            "\"status\":500",
            "\"error\":\"pool timed out: while acquiring\"",
        ] {
            assert!(line.contains(field), "no {field} in {line}");
        }
    }

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
