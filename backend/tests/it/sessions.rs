//! Sessions minted by the frontend's real libraries (next-auth 4.24, @auth/core 0.41), sent
//! the ways a frontend sends them, against the real service and database.

use axum::http::StatusCode;
use intowork_testkit::{Flavor, PgServer};
use serde_json::{Value, json};

use crate::common::SECRET;
use crate::common::app::TestApp;
use crate::common::call::{bearer, call};
use crate::common::tokens::{Mint, mint, now};

const OTHER_SECRET: &str = "frontend-secret-that-differs-0123456789abcdef";

async fn app() -> (TestApp, intowork_testkit::TestDb) {
    let db = PgServer::shared(Flavor::TlsOnly).create_database();
    let app = TestApp::spawn(&db, &[]).await;
    (app, db)
}

async fn me(app: &TestApp, (k, v): (&str, String)) -> (StatusCode, Value) {
    let a = app.me_with(&[(k, &v)]).await;
    (a.status, a.json)
}

fn claims(email: &str) -> Value {
    json!({"email": email, "name": "Ann Lee", "sub": "42"})
}

/// Splits like NextAuth's `SessionStore` does past ~4 KB: `<name>.0`, `<name>.1`, …
fn chunked(name: &str, token: &str) -> String {
    let chunk = 4096 - 163;
    token
        .as_bytes()
        .chunks(chunk)
        .enumerate()
        .map(|(i, c)| format!("{name}.{i}={}", std::str::from_utf8(c).unwrap()))
        .collect::<Vec<_>>()
        .join("; ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v4_and_v5_tokens_are_accepted_in_every_carrier() {
    let (app, _db) = app().await;
    // A picture claim big enough to make the browser's cookie split in chunks.
    let big = json!({"email": "big@example.com", "name": "Big", "picture": "p".repeat(6000)});
    let tokens = mint(&[
        Mint::v4(SECRET, claims("ann@example.com")),
        Mint::v5(SECRET, "authjs.session-token", claims("ann@example.com")),
        Mint::v5(
            SECRET,
            "__Secure-authjs.session-token",
            claims("ann@example.com"),
        ),
        Mint::v4(SECRET, big.clone()),
        Mint::v5(SECRET, "__Secure-authjs.session-token", big),
    ]);
    let (v4, v5, v5_secure, v4_big, v5_big) =
        (&tokens[0], &tokens[1], &tokens[2], &tokens[3], &tokens[4]);
    assert!(v4_big.len() > 4096 && v5_big.len() > 4096);

    let cookie = |name: &str, t: &str| format!("theme=dark; {name}={t}");
    let cases: Vec<(&str, (&str, String))> = vec![
        (
            "v4 cookie",
            ("cookie", cookie("next-auth.session-token", v4)),
        ),
        (
            "v4 __Secure- cookie",
            ("cookie", cookie("__Secure-next-auth.session-token", v4)),
        ),
        ("v4 bearer", bearer(v4)),
        ("v5 cookie", ("cookie", cookie("authjs.session-token", v5))),
        (
            "v5 __Secure- cookie",
            ("cookie", cookie("__Secure-authjs.session-token", v5_secure)),
        ),
        ("v5 bearer", bearer(v5)),
        ("v5 __Secure- bearer", bearer(v5_secure)),
        (
            "v4 chunked",
            ("cookie", chunked("next-auth.session-token", v4_big)),
        ),
        (
            "v5 chunked",
            ("cookie", chunked("__Secure-authjs.session-token", v5_big)),
        ),
    ];
    let mut ids = Vec::new();
    for (what, (k, v)) in &cases {
        let (status, body) = me(&app, (k, v.clone())).await;
        assert_eq!(status, StatusCode::OK, "{what}: {body}");
        assert_eq!(body["role"], "candidate", "{what}");
        ids.push((
            body["email"].as_str().unwrap().to_owned(),
            body["id"].as_i64().unwrap(),
        ));
    }
    // One account per address, created on first sight, named from the token.
    let ann: Vec<i64> = ids
        .iter()
        .filter(|(e, _)| e == "ann@example.com")
        .map(|(_, i)| *i)
        .collect();
    assert!(ann.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    let (_, body) = me(&app, bearer(v4)).await;
    assert_eq!(body["full_name"], "Ann Lee");
    assert_eq!(
        body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["email", "full_name", "id", "role"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_get_401_with_a_json_error() {
    let (app, _db) = app().await;
    let nbf = json!({"email": "ann@example.com", "nbf": now() + 120});
    let tokens = mint(&[
        Mint::v4(SECRET, claims("ann@example.com")).max_age(-60),
        Mint::v5(SECRET, "authjs.session-token", claims("ann@example.com")).max_age(-60),
        Mint::v4(SECRET, nbf.clone()),
        Mint::v5(SECRET, "authjs.session-token", nbf),
        Mint::v4(OTHER_SECRET, claims("ann@example.com")),
        Mint::v5(
            OTHER_SECRET,
            "authjs.session-token",
            claims("ann@example.com"),
        ),
        Mint::v5(SECRET, "some-other-salt", claims("ann@example.com")),
        Mint::v5(SECRET, "authjs.session-token", claims("ann@example.com")),
        Mint::v4(SECRET, claims("ann@example.com")),
        Mint::v4(SECRET, json!({"name": "No Email"})),
        // Inside the 15 s leeway: still fine.
        Mint::v4(SECRET, claims("ann@example.com")).max_age(-5),
    ]);
    let tamper = |t: &str| {
        // Flip one character of the ciphertext (the fourth segment).
        let mut parts: Vec<String> = t.split('.').map(str::to_owned).collect();
        let c = parts[3].remove(0);
        parts[3].insert(0, if c == 'A' { 'B' } else { 'A' });
        parts.join(".")
    };
    let cases: Vec<(&str, (&str, String), &str)> = vec![
        ("expired v4", bearer(&tokens[0]), "expired"),
        ("expired v5", bearer(&tokens[1]), "expired"),
        ("not yet valid v4", bearer(&tokens[2]), "not valid yet"),
        ("not yet valid v5", bearer(&tokens[3]), "not valid yet"),
        (
            "other secret v4",
            bearer(&tokens[4]),
            "not issued with this service's secret",
        ),
        (
            "other secret v5",
            bearer(&tokens[5]),
            "not issued with this service's secret",
        ),
        ("unknown salt", bearer(&tokens[6]), "not issued"),
        // Minted for `authjs.session-token`, sent in the __Secure- cookie: another salt.
        (
            "wrong cookie for the salt",
            (
                "cookie",
                format!("__Secure-authjs.session-token={}", tokens[7]),
            ),
            "not issued",
        ),
        // A v4 token in a v5 cookie.
        (
            "wrong library for the cookie",
            ("cookie", format!("authjs.session-token={}", tokens[8])),
            "not issued",
        ),
        ("tampered v4", bearer(&tamper(&tokens[8])), "not issued"),
        ("tampered v5", bearer(&tamper(&tokens[7])), "not issued"),
        ("no email", bearer(&tokens[9]), "no email"),
        ("garbage", bearer("not.a.token"), "malformed"),
        (
            "missing chunk",
            ("cookie", "next-auth.session-token.1=abc".to_owned()),
            "chunks",
        ),
        ("nothing", ("x-nothing", String::new()), "sign in first"),
    ];
    for (what, (k, v), message) in &cases {
        let (status, body) = me(&app, (k, v.clone())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
        assert_eq!(body["error"], "unauthorized", "{what}");
        assert_contains!(body["message"].as_str().unwrap(), message, "{what}: {body}");
    }
    let a = app.me(None).await;
    assert_eq!(a.headers["www-authenticate"], "Bearer");
    let (status, _) = me(&app, bearer(&tokens[10])).await;
    assert_eq!(status, StatusCode::OK, "within the 15 s leeway");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_identifies_the_account_whatever_its_case_even_on_concurrent_first_requests() {
    let (app, db) = app().await;
    let variants = ["Zoe@Example.COM", "zoe@example.com", "ZOE@EXAMPLE.COM"];
    let tokens = mint(
        &variants
            .iter()
            .map(|e| Mint::v4(SECRET, json!({"email": e, "name": "Zoe"})))
            .collect::<Vec<_>>(),
    );
    let mut calls = Vec::new();
    for i in 0..12 {
        let router = app.router();
        let t = tokens[i % tokens.len()].clone();
        calls.push(tokio::spawn(async move {
            call(
                &router,
                "GET",
                "/api/me",
                &[("authorization", &format!("Bearer {t}"))],
                None,
            )
            .await
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for c in calls {
        let a = c.await.unwrap();
        assert_eq!(a.status, StatusCode::OK, "{}", a.json);
        ids.insert(a.json["id"].as_i64().unwrap());
    }
    assert_eq!(ids.len(), 1, "one account: {ids:?}");
    let server = PgServer::shared(Flavor::TlsOnly);
    assert_eq!(server.psql(&db.name, "SELECT count(*) FROM users"), "1");
}
