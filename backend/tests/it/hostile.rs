//! #26.12–#26.15 against the real service, database and tokens: no input gets a 500 — a
//! cursor outside PostgreSQL's timestamp range and NUL in any client text field are 400s
//! naming the field, NUL in a session's claims is a 401 — and every error response, axum's
//! own extractor rejections included, has the documented `{"error","message"}` shape.

use crate::common::app::TestApp;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use intowork_backend::http::Service;
use intowork_testkit::{Flavor, PgServer, TestDb};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::common::tokens::{Mint, mint};
use crate::common::{SECRET, seed};

/// PostgreSQL's earliest `timestamptz`, 4714-11-24 00:00:00 BC, in µs since the Unix epoch.
const PG_MIN_MICROS: i64 = -210_866_803_200_000_000;

/// A service with offers, one application, and a token for a candidate and the employer.
struct World {
    rt: tokio::runtime::Runtime,
    app: TestApp,
    _db: TestDb,
    /// An offer the candidate applied to, and one it did not.
    offer: i64,
    other_offer: i64,
    application: i64,
    candidate: String,
    employer: String,
}

fn world() -> World {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = rt.block_on(TestApp::spawn(&db, &[]));
    let (offers, _) = seed(server, &db, 3);
    let tokens = mint(&[
        Mint::v4(SECRET, json!({"email": "cand@example.com", "name": "Cand"})),
        Mint::v4(
            SECRET,
            json!({"email": "boss@intowork.example", "name": "Boss"}),
        ),
    ]);
    let mut w = World {
        rt,
        app,
        _db: db,
        offer: offers[0],
        other_offer: offers[1],
        application: 0,
        candidate: tokens[0].clone(),
        employer: tokens[1].clone(),
    };
    let path = format!("/api/jobs/{}/applications", w.offer);
    let (status, body) = w.send("POST", &path, Some(&w.candidate.clone()), Some(json!({})));
    assert_eq!(status, StatusCode::CREATED, "{body}");
    w.application = body["id"].as_i64().unwrap();
    w
}

/// What came back: the status, the content type, the body as JSON (`null` if it is not).
struct Answer {
    status: StatusCode,
    content_type: String,
    body: Value,
    text: String,
}

async fn raw(router: &Service, req: Request<Body>) -> Answer {
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    Answer {
        status,
        content_type,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn request(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, String)>,
) -> Request<Body> {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    match body {
        Some((content_type, b)) => req.header("content-type", content_type).body(Body::from(b)),
        None => req.body(Body::empty()),
    }
    .unwrap()
}

impl World {
    fn answer(&self, req: Request<Body>) -> Answer {
        self.rt.block_on(raw(&self.app.router(), req))
    }

    fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let a = self.answer(request(
            method,
            path,
            token,
            body.map(|b| ("application/json", b.to_string())),
        ));
        (a.status, a.body)
    }
}

/// The documented error shape, or why not.
fn documented_error(a: &Answer) -> Result<(), String> {
    let shaped = a.content_type.starts_with("application/json")
        && a.body["error"].is_string()
        && a.body["message"].is_string();
    if shaped {
        Ok(())
    } else {
        Err(format!("{} {:?}: {}", a.status, a.content_type, a.text))
    }
}

fn encode(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

/// Microseconds anywhere in `i64`, with weight on PostgreSQL's lower limit and chrono's.
fn micros() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        (PG_MIN_MICROS - 1_000_000..PG_MIN_MICROS + 1_000_000),
        (-8_300_000_000_000_000_000i64..-8_200_000_000_000_000_000),
        (-1_000_000_000_000_000i64..4_000_000_000_000_000),
        Just(PG_MIN_MICROS - 1),
        Just(PG_MIN_MICROS),
    ]
}

/// #26.12: any cursor on any paginated route is a 200 or a 400 — a 400 exactly when its
/// time lies outside what chrono and PostgreSQL can both represent.
#[test]
fn cursors_outside_postgres_range_are_400_on_every_paginated_route() {
    let w = world();
    let mut runner = TestRunner::new(Config::with_cases(48));
    let routes = [
        ("/api/jobs".to_owned(), None),
        ("/api/applications".to_owned(), Some(w.candidate.as_str())),
        (
            format!("/api/jobs/{}/applications", w.offer),
            Some(w.employer.as_str()),
        ),
    ];
    runner
        .run(&(micros(), any::<i64>()), |(at, id)| {
            let representable = chrono::DateTime::from_timestamp_micros(at).is_some();
            let in_range = representable && at >= PG_MIN_MICROS;
            for (route, token) in &routes {
                let a = w.answer(request(
                    "GET",
                    &format!("{route}?cursor={at}_{id}"),
                    *token,
                    None,
                ));
                let want = if in_range {
                    StatusCode::OK
                } else {
                    StatusCode::BAD_REQUEST
                };
                prop_assert_eq!(a.status, want, "{} cursor {}_{}: {}", route, at, id, a.text);
                if !in_range {
                    documented_error(&a).map_err(TestCaseError::fail)?;
                    prop_assert!(
                        a.body["message"].as_str().unwrap().contains("cursor"),
                        "{}",
                        a.text
                    );
                }
            }
            Ok(())
        })
        .unwrap();
}

/// Text around a NUL, anything on either side.
fn with_nul() -> impl Strategy<Value = String> {
    (any::<String>(), "\0{1,3}", any::<String>()).prop_map(|(a, n, b)| format!("{a}{n}{b}"))
}

/// #26.13: NUL in any text field a client sends — body, query or path — is a 400 that names
/// the field, never a 500 from PostgreSQL.
#[test]
fn nul_in_any_client_text_field_is_a_400_naming_it() {
    let w = world();
    let mut runner = TestRunner::new(Config::with_cases(64));
    runner
        .run(&(with_nul(), 0usize..6), |(text, field)| {
            let (req, name) = match field {
                0 => (
                    request(
                        "POST",
                        &format!("/api/jobs/{}/applications", w.other_offer),
                        Some(&w.candidate),
                        Some((
                            "application/json",
                            json!({"cover_letter": text}).to_string(),
                        )),
                    ),
                    "cover_letter",
                ),
                1 => (
                    request(
                        "PATCH",
                        &format!("/api/applications/{}", w.application),
                        Some(&w.employer),
                        Some(("application/json", json!({"status": text}).to_string())),
                    ),
                    "status",
                ),
                2 => (
                    request(
                        "GET",
                        &format!(
                            "/api/jobs/{}/applications?status={}",
                            w.offer,
                            encode(&text)
                        ),
                        Some(&w.employer),
                        None,
                    ),
                    "status",
                ),
                3 => (
                    request(
                        "GET",
                        &format!("/api/jobs?cursor={}", encode(&text)),
                        None,
                        None,
                    ),
                    "cursor",
                ),
                4 => (
                    request(
                        "GET",
                        &format!("/api/jobs?limit={}", encode(&text)),
                        None,
                        None,
                    ),
                    "limit",
                ),
                _ => (
                    request("GET", &format!("/api/jobs/{}", encode(&text)), None, None),
                    "id",
                ),
            };
            let a = w.answer(req);
            prop_assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}: {}", name, a.text);
            documented_error(&a).map_err(TestCaseError::fail)?;
            let message = a.body["message"].as_str().unwrap();
            prop_assert!(
                message.contains(name),
                "{} not named in {:?}",
                name,
                message
            );
            Ok(())
        })
        .unwrap();
}

/// A session's `email` and `name` as a frontend could put them, NUL and other controls included.
fn claims() -> impl Strategy<Value = (String, Option<String>)> {
    let part = prop_oneof![
        4 => "[a-z0-9.]{1,8}",
        1 => ("[a-z]{0,4}", prop_oneof![Just("\0"), Just("\x01"), Just("\x1b"), Just("\u{7f}")], "[a-z]{0,4}")
            .prop_map(|(a, c, b)| format!("{a}{c}{b}")),
    ];
    let name = prop_oneof![
        Just(None),
        "[A-Za-z ]{1,12}".prop_map(Some),
        with_nul().prop_map(Some),
    ];
    (part, name).prop_map(|(local, name)| (format!("{local}@example.com"), name))
}

/// #26.14: a correctly encrypted session whose `email` or `name` cannot be stored is a 401
/// (claims are checked before SQL); every other one signs in.
#[test]
fn unstorable_session_claims_are_a_401() {
    let w = world();
    let mut runner = TestRunner::new(Config::with_cases(2));
    runner
        .run(&proptest::collection::vec(claims(), 16), |sessions| {
            let requests: Vec<Mint> = sessions
                .iter()
                .map(|(email, name)| Mint::v4(SECRET, json!({"email": email, "name": name})))
                .collect();
            let tokens = mint(&requests);
            for ((email, name), token) in sessions.iter().zip(&tokens) {
                let a = w.answer(request("GET", "/api/me", Some(token), None));
                let bad = email.chars().any(char::is_control)
                    || name.as_deref().is_some_and(|n| n.contains('\0'));
                let want = if bad {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::OK
                };
                prop_assert_eq!(a.status, want, "{:?} {:?}: {}", email, name, a.text);
                if bad {
                    documented_error(&a).map_err(TestCaseError::fail)?;
                }
            }
            Ok(())
        })
        .unwrap();
}

/// A request a client could send by mistake or malice: bad path segments (invalid UTF-8
/// included), repeated or malformed query parameters, bodies of the wrong shape or type,
/// unknown routes and methods.
fn malformed(w: &World) -> impl Strategy<Value = Request<Body>> + use<> {
    let (offer, application) = (w.offer, w.application);
    let (candidate, employer) = (w.candidate.clone(), w.employer.clone());
    let segment = prop_oneof![
        Just("%FF%FE".to_owned()),
        proptest::collection::vec(any::<u8>(), 1..6)
            .prop_map(|b| b.iter().map(|x| format!("%{x:02X}")).collect::<String>()),
        "[a-z0-9]{1,8}",
    ];
    let query = prop_oneof![
        Just("limit=1&limit=2".to_owned()),
        Just("cursor=1_1&cursor=2_2".to_owned()),
        Just("status=submitted&status=hired".to_owned()),
        Just("limit=%FF".to_owned()),
        "[a-z]{1,6}=[a-z0-9%]{0,6}",
    ];
    let body = prop_oneof![
        Just(("application/json", "{".to_owned())),
        Just(("application/json", "[]".to_owned())),
        Just(("text/plain", "{}".to_owned())),
        Just(("application/json", r#"{"cover_letter": 5}"#.to_owned())),
        Just(("application/json", r#"{"unknown": 1}"#.to_owned())),
        Just(("application/json", r#"{"status": null}"#.to_owned())),
    ];
    (segment, query, body, 0usize..8).prop_map(move |(seg, q, (ct, b), route)| {
        let (c, e) = (Some(candidate.as_str()), Some(employer.as_str()));
        match route {
            0 => request("GET", &format!("/api/jobs/{seg}"), None, None),
            1 => request("GET", &format!("/api/jobs?{q}"), None, None),
            2 => request("GET", &format!("/api/jobs/{seg}/applications?{q}"), e, None),
            3 => request("GET", &format!("/api/applications?{q}"), c, None),
            4 => request(
                "POST",
                &format!("/api/jobs/{offer}/applications"),
                c,
                Some((ct, b)),
            ),
            5 => request(
                "PATCH",
                &format!("/api/applications/{application}"),
                e,
                Some((ct, b)),
            ),
            6 => request(
                "PATCH",
                &format!("/api/applications/{seg}"),
                e,
                Some((ct, b)),
            ),
            _ => request("DELETE", &format!("/api/{seg}"), None, None),
        }
    })
}

/// #26.15: whatever is malformed, the answer is not a 500, and an error has the documented
/// JSON shape — axum's own rejections (path, query, body) included.
#[test]
fn every_error_response_has_the_documented_json_shape() {
    let w = world();
    let mut runner = TestRunner::new(Config::with_cases(96));
    let strategy = malformed(&w);
    runner
        .run(&strategy, |req| {
            let what = format!("{} {}", req.method(), req.uri());
            let a = w.answer(req);
            prop_assert!(
                a.status != StatusCode::INTERNAL_SERVER_ERROR,
                "{}: {}",
                what,
                a.text
            );
            if a.status.is_client_error() || a.status.is_server_error() {
                documented_error(&a).map_err(|e| TestCaseError::fail(format!("{what}: {e}")))?;
            }
            Ok(())
        })
        .unwrap();
    // The issue's examples.
    for path in ["/api/jobs/%FF%FE", "/api/jobs?limit=1&limit=2"] {
        let a = w.answer(request("GET", path, None, None));
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{path}");
        documented_error(&a).unwrap();
    }
}
