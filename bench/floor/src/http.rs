//! The routes, straight on hyper: no router, no middleware, one match on the path.

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde::Serialize;

use crate::db::{Database, JobOffer};

const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;

/// The backend's `/health` body, same shape and size.
#[derive(Serialize)]
struct Live {
    status: &'static str,
    version: &'static str,
    commit: &'static str,
}

const LIVE: Live = Live {
    status: "ok",
    version: env!("CARGO_PKG_VERSION"),
    commit: "0000000000000000000000000000000000000000",
};

/// The backend's `Page`: the rows, and where the next page starts.
#[derive(Serialize)]
struct Page<'a> {
    items: &'a [JobOffer],
    next_cursor: Option<String>,
}

pub async fn handle(
    req: Request<Incoming>,
    db: Arc<Database>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.method() != Method::GET {
        return Ok(error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"));
    }
    let path = req.uri().path();
    Ok(match path {
        "/health" | "/health/ready" => json(StatusCode::OK, &LIVE),
        "/api/jobs" => match limit(req.uri().query()) {
            Some(limit) => list(&db, limit).await,
            None => error(StatusCode::BAD_REQUEST, "bad_request"),
        },
        _ => match path.strip_prefix("/api/jobs/").map(str::parse::<i64>) {
            Some(Ok(id)) => show(&db, id).await,
            Some(Err(_)) => error(StatusCode::BAD_REQUEST, "bad_request"),
            None => error(StatusCode::NOT_FOUND, "not_found"),
        },
    })
}

async fn list(db: &Database, limit: i64) -> Response<Full<Bytes>> {
    match db.first_page(limit).await {
        Ok(rows) => {
            let more = rows.len() as i64 > limit;
            let items = &rows[..rows.len().min(limit as usize)];
            let next_cursor = items
                .last()
                .filter(|_| more)
                .map(|o| format!("{}_{}", o.published_at.timestamp_micros(), o.id));
            json(StatusCode::OK, &Page { items, next_cursor })
        }
        Err(e) => failed(e),
    }
}

async fn show(db: &Database, id: i64) -> Response<Full<Bytes>> {
    match db.offer(id).await {
        Ok(Some(offer)) => json(StatusCode::OK, &offer),
        Ok(None) => error(StatusCode::NOT_FOUND, "not_found"),
        Err(e) => failed(e),
    }
}

/// `limit` from the query string (the backend's rule: 1–100, default 20).
fn limit(query: Option<&str>) -> Option<i64> {
    let given = query
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("limit="));
    match given {
        None => Some(DEFAULT_LIMIT),
        Some(text) => text.parse().ok().filter(|n| (1..=MAX_LIMIT).contains(n)),
    }
}

fn json(status: StatusCode, body: &impl Serialize) -> Response<Full<Bytes>> {
    let bytes = serde_json::to_vec(body).expect("these bodies always serialise");
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn error(status: StatusCode, code: &'static str) -> Response<Full<Bytes>> {
    json(
        status,
        &serde_json::json!({ "error": code, "message": code }),
    )
}

fn failed(e: tokio_postgres::Error) -> Response<Full<Bytes>> {
    eprintln!("floor: query failed: {e}");
    error(StatusCode::INTERNAL_SERVER_ERROR, "internal")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_follow_the_backends_rule() {
        assert_eq!(limit(None), Some(20));
        assert_eq!(limit(Some("limit=5")), Some(5));
        assert_eq!(limit(Some("x=1&limit=100")), Some(100));
        assert_eq!(limit(Some("limit=0")), None);
        assert_eq!(limit(Some("limit=101")), None);
        assert_eq!(limit(Some("limit=abc")), None);
    }
}
