//! `verify --remote --frontend-service` says the secrets differ; the same mismatch, live, is a
//! 401 and one backend log line carrying the same fingerprint, which `logs` diagnoses.
//! Real pieces throughout: the xtask against the fake Railway CLI, the backend binary against
//! a TLS-only PostgreSQL, a token minted by next-auth's own `encode`.

use crate::common::{Run, check, root};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use intowork_testkit::{Flavor, PgServer};
use serde_json::{Value, json};
use xshell::{Shell, cmd};

/// Obviously fake.
const BACKEND_SECRET: &str = "session-test-backend-secret-7a6b5c4d3e2f1a0b9c8d";
const FRONTEND_SECRET: &str = "session-test-frontend-secret-0f9e8d7c6b5a4f3e2d1c";

fn xtask(scenario: &Path, args: &[&str]) -> Run {
    let sh = Shell::new().unwrap();
    let bin = env!("CARGO_BIN_EXE_xtask");
    let out = cmd!(sh, "{bin} {args...}")
        .env_clear()
        .env("RAILWAY_BIN", env!("CARGO_BIN_EXE_fake-railway"))
        .env("FAKE_RAILWAY_SCENARIO", scenario)
        .ignore_status()
        .quiet()
        .output()
        .unwrap();
    Run::from(out)
}

/// The backend binary, built the way `cargo xtask dev` builds it.
fn backend_binary() -> PathBuf {
    let sh = Shell::new().unwrap();
    sh.change_dir(root());
    cmd!(
        sh,
        "cargo build --quiet --package intowork-backend --bin backend"
    )
    .quiet()
    .run()
    .unwrap();
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    target.join("debug").join("backend")
}

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

struct Running {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// A long-running child whose output is read as it comes: xshell only runs to completion.
#[allow(clippy::disallowed_methods)]
fn start_backend(bin: &Path, database_url: &str) -> Running {
    let mut child = std::process::Command::new(bin)
        .args(["serve", "--port", "0"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("NEXTAUTH_SECRET", BACKEND_SECRET)
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    Running { child, lines }
}

fn wait_line(r: &Running, needle: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = r
            .lines
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no `{needle}` line"));
        if line.contains(needle) {
            return serde_json::from_str(&line).unwrap();
        }
    }
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
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("scenario.json");
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
        std::fs::write(&scenario, doc.to_string()).unwrap();
    };
    write(json!([]));

    // 1. What verify --remote says, and the backend secret's fingerprint in it.
    let verify = xtask(&scenario, &crate::railway::VERIFY_WITH_FRONTEND);
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
    let backend = start_backend(&backend_binary(), &db.url("sslmode=require"));
    let listening = wait_line(&backend, "listening on");
    let port: u16 = listening["address"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let token = frontend_token(FRONTEND_SECRET);
    assert_eq!(get_me(port, &token), 401);
    let line = wait_line(&backend, "does not decrypt");
    assert_eq!(line["secret_fingerprint"], fingerprint.as_str(), "{line}");
    let logged = line["message"].as_str().unwrap();
    assert!(
        logged.contains(&format!("sha256 {fingerprint}…")),
        "{logged}"
    );
    assert!(!logged.contains(BACKEND_SECRET) && !logged.contains(FRONTEND_SECRET));
    // Once a minute at most: a second refusal logs nothing new.
    assert_eq!(get_me(port, &token), 401);
    assert!(
        backend
            .lines
            .recv_timeout(Duration::from_millis(500))
            .iter()
            .all(|l| !l.contains("does not decrypt"))
    );

    // 3. The line as Railway shows it: `logs` diagnoses it.
    write(
        json!([{"after_polls": 0, "timestamp": chrono::Utc::now().to_rfc3339(), "message": logged, "level": "warn"}]),
    );
    let logs = xtask(
        &scenario,
        &[
            "logs",
            "--service",
            "backend",
            "--deployment",
            "dep-1",
            "--json",
        ],
    );
    assert_eq!(logs.code, 0, "{}{}", logs.stdout, logs.stderr);
    let diagnosed: Value = serde_json::from_str(logs.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(
        diagnosed["diagnosis"], "nextauth_secret_mismatch",
        "{diagnosed}"
    );
    assert!(
        diagnosed["hint"]
            .as_str()
            .unwrap()
            .contains("verify --remote"),
        "{diagnosed}"
    );
}
