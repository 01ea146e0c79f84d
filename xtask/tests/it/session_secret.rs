//! `verify --remote --frontend-service` says the secrets differ; the same mismatch, live, is a
//! 401 and one backend log line carrying the same fingerprint, which `logs` diagnoses.
//! Real pieces throughout: the xtask against the fake Railway CLI, the backend binary against
//! a TLS-only PostgreSQL, a token minted by next-auth's own `encode`.

use crate::common::backend::Backend;
use crate::common::fake_cli::{VERIFY_WITH_FRONTEND, scenario};
use crate::common::{check, root};

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use intowork_testkit::{Flavor, PgServer};
use serde_json::{Value, json};
use xshell::{Shell, cmd};

/// Obviously fake.
const BACKEND_SECRET: &str = "session-test-backend-secret-7a6b5c4d3e2f1a0b9c8d";
const FRONTEND_SECRET: &str = "session-test-frontend-secret-0f9e8d7c6b5a4f3e2d1c";

/// A session token as the frontend (next-auth 4) would make it with `secret`.
fn frontend_token(secret: &str) -> String {
    let package = root().join("backend").join("tests").join("nextauth");
    let script = intowork_testkit::npm::install(&package)
        .scratch_dir("mint")
        .join("mint.mjs");
    std::fs::copy(package.join("mint.mjs"), &script).unwrap();
    let node = intowork_testkit::npm::node();
    let sh = Shell::new().unwrap();
    let input = json!([{"lib": "next-auth", "secret": secret, "maxAge": 3600, "token": {"email": "ann@example.com", "name": "Ann"}}]);
    let out = cmd!(sh, "{node} {script}")
        .stdin(input.to_string())
        .quiet()
        .read()
        .unwrap();
    serde_json::from_str::<Vec<String>>(&out).unwrap().remove(0)
}

fn get_me(port: u16, token: &str) -> u16 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET /api/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn verify_remotes_secret_mismatch_is_a_reproducible_401_and_a_diagnosed_log_line() {
    // The common fake-CLI fixture, its scenario replaced by this test's whole platform.
    let fake = scenario(json!({}));
    let write = |logs: Value| {
        let doc = json!({
            "project": {"id": "prj-1", "name": "intowork", "environments": ["production"], "services": ["backend", "frontend"], "workspace": "IntoWork"},
            "variables": {
                "backend": {"DATABASE_URL": "postgresql://u:pw-Fake-1@postgres.railway.internal:5432/railway", "NEXTAUTH_SECRET": BACKEND_SECRET},
                "frontend": {"NEXTAUTH_SECRET": FRONTEND_SECRET},
            },
            "deployments": {"backend": [{"id": "dep-1", "status": "SUCCESS", "createdAt": chrono::Utc::now().to_rfc3339()}]},
            "logs": {"dep-1": logs},
        });
        std::fs::write(&fake.scenario, doc.to_string()).unwrap();
    };
    write(json!([]));

    // 1. What verify --remote says, and the backend secret's fingerprint in it.
    let verify = fake.xtask(&VERIFY_WITH_FRONTEND, &[]);
    assert_eq!(verify.code, 1, "{}{}", verify.stdout, verify.stderr);
    let doc: Value = serde_json::from_str(&verify.stdout).unwrap();
    let check = check(&doc, "platform.nextauth_secret_match");
    let message = check["message"].as_str().unwrap();
    let fingerprint = message
        .split("`backend` (sha256 ")
        .nth(1)
        .unwrap()
        .split('…')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(fingerprint.len(), 12, "{message}");

    // 2. The same two secrets, live: the frontend's session is refused, and said why.
    let db = PgServer::shared(Flavor::TlsOnly).create_database();
    let url = db.url("sslmode=require");
    let backend = Backend::start(&[("DATABASE_URL", &url), ("NEXTAUTH_SECRET", BACKEND_SECRET)]);
    let port = backend.port;
    let token = frontend_token(FRONTEND_SECRET);
    assert_eq!(get_me(port, &token), 401);
    let line = backend.wait_line("does not decrypt");
    assert_eq!(line["secret_fingerprint"], fingerprint.as_str(), "{line}");
    let logged = line["message"].as_str().unwrap();
    assert_contains!(logged, &format!("sha256 {fingerprint}…"));
    assert_lacks!(logged, BACKEND_SECRET);
    assert_lacks!(logged, FRONTEND_SECRET);
    // Once a minute at most: a second refusal logs nothing new.
    assert_eq!(get_me(port, &token), 401);
    assert!(
        backend
            .lines_within(Duration::from_millis(500), "does not decrypt")
            .is_empty()
    );

    // 3. The line as Railway shows it: `logs` diagnoses it.
    write(
        json!([{"after_polls": 0, "timestamp": chrono::Utc::now().to_rfc3339(), "message": logged, "level": "warn"}]),
    );
    let logs = fake.xtask(
        &[
            "logs",
            "--service",
            "backend",
            "--deployment",
            "dep-1",
            "--json",
        ],
        &[],
    );
    assert_eq!(logs.code, 0, "{}{}", logs.stdout, logs.stderr);
    let diagnosed: Value = serde_json::from_str(logs.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(
        diagnosed["diagnosis"], "nextauth_secret_mismatch",
        "{diagnosed}"
    );
    assert_contains!(
        diagnosed["hint"].as_str().unwrap(),
        "verify --remote",
        "{diagnosed}"
    );
}
