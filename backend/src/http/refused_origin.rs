//! The service's own word on CORS refusals. tower-http's `CorsLayer` answers a preflight from
//! an origin it does not allow with a plain 200 and no `Access-Control-Allow-Origin` — correct,
//! and silent: the browser blocks the frontend's call, the access log shows a fast 200 at
//! DEBUG, and nothing says why every signed-in page is empty. This layer logs it: the origin,
//! whether it was a preflight, and the fix — at most once a minute (any site can make browsers
//! send such requests), the suppressed count carried by the next line. The origin is the
//! caller's text: escaped and cut before it is logged.

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::http::{Method, Request, header};
use intowork_config::{AllowedOrigins, escape_control};
use tower::{Layer, Service};

use crate::throttle::{Throttle, now_secs};

/// At most one line per this many seconds.
pub const EVERY_SECS: i64 = 60;

/// The phrase the line starts with.
pub const MESSAGE: &str = "CORS: request from an origin not in ALLOWED_ORIGINS";

/// Longest origin logged (an `Origin` header can be anything a client sends).
const MAX_ORIGIN_CHARS: usize = 200;

#[derive(Debug, Clone)]
pub struct RefusedOriginLayer {
    policy: Arc<Policy>,
}

#[derive(Debug)]
struct Policy {
    allowed: AllowedOrigins,
    throttle: Throttle,
}

impl RefusedOriginLayer {
    pub fn new(allowed: &AllowedOrigins) -> RefusedOriginLayer {
        RefusedOriginLayer {
            policy: Arc::new(Policy {
                allowed: allowed.clone(),
                throttle: Throttle::new(EVERY_SECS),
            }),
        }
    }
}

impl<S> Layer<S> for RefusedOriginLayer {
    type Service = RefusedOrigin<S>;

    fn layer(&self, inner: S) -> RefusedOrigin<S> {
        RefusedOrigin {
            inner,
            policy: self.policy.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct RefusedOrigin<S> {
    inner: S,
    policy: Arc<Policy>,
}

impl<S, B> Service<Request<B>> for RefusedOrigin<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> S::Future {
        if let Some(origin) = req.headers().get(header::ORIGIN) {
            let text = String::from_utf8_lossy(origin.as_bytes());
            if !self.policy.allows(&text) {
                let preflight = req.method() == Method::OPTIONS
                    && req
                        .headers()
                        .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
                self.policy.refused(&text, &req, preflight);
            }
        }
        self.inner.call(req)
    }
}

impl Policy {
    /// As tower-http's `AllowOrigin::list` matches: the header, byte for byte.
    fn allows(&self, origin: &str) -> bool {
        match &self.allowed {
            AllowedOrigins::Any => true,
            AllowedOrigins::List(list) => list.iter().any(|o| o.as_str() == origin),
        }
    }

    fn refused<B>(&self, origin: &str, req: &Request<B>, preflight: bool) {
        let Some(since_last) = self.throttle.admit(now_secs()) else {
            return;
        };
        let shown = shown(origin);
        let what = if preflight {
            "preflight refused: the browser will not send the call"
        } else {
            "the browser withholds the answer from the page"
        };
        tracing::warn!(
            origin = %shown,
            method = %req.method(),
            path = req.uri().path(),
            preflight,
            similar_refusals_since_last_line = since_last,
            "{MESSAGE}: `{shown}` ({what}). If it is the frontend, add it to ALLOWED_ORIGINS (allowed now: {}); `cargo xtask verify --remote --frontend-service <frontend>` checks every domain of the frontend",
            self.allowed
        );
    }
}

/// The caller's `Origin`, safe to log: control characters escaped, at most
/// [`MAX_ORIGIN_CHARS`] characters.
fn shown(origin: &str) -> String {
    escape_control(origin)
        .chars()
        .take(MAX_ORIGIN_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use intowork_config::{Settings, Source, ValueOrigin};

    fn policy(origins: &str) -> Policy {
        let pairs = [
            ("DATABASE_URL", "postgresql://u:p@localhost:5432/db"),
            (
                "NEXTAUTH_SECRET",
                "refused-origin-test-secret-0123456789abcdef",
            ),
            ("ALLOWED_ORIGINS", origins),
        ];
        let settings = Settings::load(&Source::from_pairs(pairs, ValueOrigin::Environment))
            .unwrap_or_else(|e| panic!("{e}"))
            .settings;
        Policy {
            allowed: settings.allowed_origins().clone(),
            throttle: Throttle::new(EVERY_SECS),
        }
    }

    #[test]
    fn origins_match_as_the_cors_layer_matches_and_are_logged_tamed() {
        let app = "https://app.example.com";
        let list = policy(app);
        assert!(list.allows(app));
        assert!(
            !list.allows("https://app.example.com:443"),
            "byte for byte, as tower-http"
        );
        assert!(!list.allows("null"));
        assert!(policy("*").allows("https://anything.example"));
        let hostile = format!("https://x\u{1b}[2J\r\n{}", "a".repeat(500));
        let logged = shown(&hostile);
        assert!(!logged.chars().any(char::is_control), "{logged}");
        assert_eq!(logged.chars().count(), MAX_ORIGIN_CHARS);
    }
}
