//! Request ids. A caller's `x-request-id` is kept only when it is short and plain
//! ([`acceptable`]): it is logged on every request's line and sent back, so an id of any
//! length, or with control characters, quotes or bytes that are not ASCII, is replaced.
//!
//! New ids: UUID v4 from the thread's random generator. tower-http's `MakeRequestUuid` asks
//! the kernel for every id (`getrandom(2)`, one system call per request); the ids are
//! correlation handles, not secrets, and `rand`'s thread-local generator is seeded from the
//! OS and cryptographically strong anyway.

use std::task::{Context, Poll};

use axum::http::{HeaderValue, Request};
use tower::{Layer, Service};
use tower_http::request_id::{MakeRequestId, RequestId};
use uuid::Uuid;

use super::REQUEST_ID;

/// The longest caller's id kept (a W3C `traceparent` is 55, an AWS trace id 40).
pub const MAX_REQUEST_ID_CHARS: usize = 128;

/// One value of 1 to [`MAX_REQUEST_ID_CHARS`] ASCII letters, digits and `-_.:=@/+`.
pub fn acceptable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    (1..=MAX_REQUEST_ID_CHARS).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:=@/+".contains(b))
}

/// Drops a caller's `x-request-id` that is not [`acceptable`] (or given more than once), so
/// that the next layer makes a new one.
#[derive(Debug, Clone, Copy, Default)]
pub struct AcceptRequestIdLayer;

impl<S> Layer<S> for AcceptRequestIdLayer {
    type Service = AcceptRequestId<S>;

    fn layer(&self, inner: S) -> AcceptRequestId<S> {
        AcceptRequestId { inner }
    }
}

#[derive(Debug, Clone)]
pub struct AcceptRequestId<S> {
    inner: S,
}

impl<S, B> Service<Request<B>> for AcceptRequestId<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> S::Future {
        let mut given = req.headers().get_all(&REQUEST_ID).iter();
        let keep = matches!((given.next(), given.next()), (Some(v), None) if acceptable(v));
        if !keep {
            req.headers_mut().remove(&REQUEST_ID);
        }
        self.inner.call(req)
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct RandomUuid;

impl MakeRequestId for RandomUuid {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
        let mut text = Uuid::encode_buffer();
        let text = id.hyphenated().encode_lower(&mut text);
        HeaderValue::from_str(text).ok().map(RequestId::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_ids_are_acceptable() {
        let ok = |s: &str| acceptable(&HeaderValue::from_str(s).unwrap());
        assert!(ok("req-77") && ok("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
        assert!(ok(&"a".repeat(MAX_REQUEST_ID_CHARS)));
        assert!(!ok(&"a".repeat(MAX_REQUEST_ID_CHARS + 1)));
        for bad in ["a b", "a\tb", "a\"b", "a\\b", "a<b", "a;b"] {
            assert!(!ok(bad), "{bad:?}");
        }
        assert!(!acceptable(&HeaderValue::from_bytes(b"a\xc3\xa9").unwrap()));
    }

    #[test]
    fn ids_are_distinct_version_4_uuids() {
        let request = Request::new(());
        let mut make = RandomUuid;
        let ids: Vec<String> = (0..64)
            .map(|_| {
                let id = make.make_request_id(&request).unwrap();
                id.header_value().to_str().unwrap().to_owned()
            })
            .collect();
        for id in &ids {
            let parsed = Uuid::parse_str(id).unwrap();
            assert_eq!(parsed.get_version(), Some(uuid::Version::Random), "{id}");
            assert_eq!(id.len(), 36, "{id}");
        }
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
    }
}
