//! `cargo xtask verify`'s online stage against real servers started by the harness.

use crate::common::{Run, check};

use intowork_testkit::{Flavor, PgServer, RailwayProxy, TestDb};
use serde_json::Value;
use xshell::{Shell, cmd};

const SECRET: &str = "online-test-secret-9d8c7b6a5f4e3d2c1b0a99887766";

pub(crate) fn verify(url: &str, extra_env: &[(&str, &str)], args: &[&str]) -> Run {
    let sh = Shell::new().unwrap();
    let bin = env!("CARGO_BIN_EXE_xtask");
    let out = cmd!(sh, "{bin} verify --no-env-file {args...}")
        .env_clear()
        .env("DATABASE_URL", url)
        .env("NEXTAUTH_SECRET", SECRET)
        .envs(extra_env.iter().copied())
        .ignore_status()
        .quiet()
        .output()
        .unwrap();
    Run::from(out)
}

fn assert_no_password(run: &Run, db: &TestDb) {
    assert_lacks!(run.stdout, &db.password, "password leaked");
    assert_lacks!(run.stderr, &db.password, "password leaked");
}

#[test]
fn a_tls_only_server_passes_every_stage_with_tls_facts() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let run = verify(&db.url("sslmode=require"), &[], &["--json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    for id in [
        "database.dns",
        "database.tcp",
        "database.tls",
        "database.auth",
        "database.version",
        "database.tls_proof",
        "database.max_connections",
    ] {
        assert_eq!(
            check(&doc, id)["status"],
            "pass",
            "{id}: {:#}",
            check(&doc, id)
        );
    }
    let tls = check(&doc, "database.tls")["message"].as_str().unwrap();
    assert!(
        tls.starts_with("TLSv1.3 ") || tls.starts_with("TLSv1.2 "),
        "{tls}"
    );
    assert!(
        tls.contains("TLS13_") || tls.contains("TLS_ECDHE"),
        "cipher named: {tls}"
    );
    assert_contains!(
        tls,
        server.cert_sha256().unwrap(),
        "fingerprint printed: {tls}"
    );
    assert_contains!(tls, "self-signed, CA:TRUE");
    assert_contains!(
        check(&doc, "database.tls_proof")["message"]
            .as_str()
            .unwrap(),
        "encrypted: TLSv1."
    );
    assert!(
        check(&doc, "database.version")["message"]
            .as_str()
            .unwrap()
            .starts_with("PostgreSQL ")
    );
    assert!(check(&doc, "database.auth")["duration_ms"].is_u64());
    assert_no_password(&run, &db);
}

#[test]
fn a_wrong_pin_fails_and_a_right_one_passes() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let wrong = "ab".repeat(32);
    let run = verify(
        &db.url("sslmode=require"),
        &[("DATABASE_TLS_FINGERPRINT", &wrong)],
        &[],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("fail  DATABASE_TLS_FINGERPRINT")
            || run.stdout.contains("fail  database.tls_pin"),
        "{}",
        run.stdout
    );
    assert_contains!(run.stdout, "refusing to connect");
    assert_contains!(
        run.stdout,
        "skip  database.auth",
        "nothing after a failed pin: {}",
        run.stdout
    );

    let run = verify(
        &db.url("sslmode=require"),
        &[("DATABASE_TLS_FINGERPRINT", server.cert_sha256().unwrap())],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_contains!(run.stdout, "certificate matches DATABASE_TLS_FINGERPRINT");
}

#[test]
fn a_server_without_tls_fails_with_the_diagnosis() {
    let db = PgServer::shared(Flavor::PlaintextOnly).create_database();
    let run = verify(&db.url("sslmode=require"), &[], &[]);
    assert_eq!(run.code, 1);
    assert_contains!(run.stdout, "fail  database.tls");
    assert_contains!(run.stdout, "does not offer TLS");
    assert_no_password(&run, &db);
}

#[test]
fn plaintext_through_a_railway_like_proxy_is_diagnosed_as_the_seed_failure() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let proxy = RailwayProxy::start(server.port());
    let url = db.url_with_host_port("localhost", proxy.port(), "sslmode=disable");
    let run = verify(&url, &[("DATABASE_CONNECT_TIMEOUT_SECS", "3")], &[]);
    assert_eq!(run.code, 1);
    let auth = run
        .stdout
        .lines()
        .find(|l| l.starts_with("fail  database.auth"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert_contains!(auth, "connection reset by peer");
    assert_contains!(auth, "sslmode=require");
    assert_no_password(&run, &db);
}

#[test]
fn replicas_that_would_exhaust_max_connections_warn() {
    let db = PgServer::shared(Flavor::TlsOnly).create_database();
    let run = verify(
        &db.url("sslmode=require"),
        &[("DATABASE_MAX_CONNECTIONS", "50")],
        &["--replicas", "4", "--json"],
    );
    assert_eq!(run.code, 0, "a warning is not a failure: {}", run.stdout);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let c = check(&doc, "database.max_connections");
    assert_eq!(c["status"], "warn", "{c:#}");
    assert_contains!(
        c["message"].as_str().unwrap(),
        "50 × 4 replicas = 200",
        "{c:#}"
    );
}

#[test]
fn a_certificate_expiring_within_30_days_is_a_warning() {
    let server = PgServer::start_with_cert_expiring_in_days(Flavor::TlsOnly, 10);
    let db = server.create_database();
    let run = verify(&db.url("sslmode=require"), &[], &["--json"]);
    assert_eq!(run.code, 0, "a warning, not a failure: {}", run.stdout);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let c = check(&doc, "database.tls_expiry");
    assert_eq!(c["status"], "warn");
    let msg = c["message"].as_str().unwrap();
    assert!(
        msg.contains("expires in 9 days") || msg.contains("expires in 10 days"),
        "{msg}"
    );

    let fresh = PgServer::shared(Flavor::TlsOnly).create_database();
    let run = verify(&fresh.url("sslmode=require"), &[], &["--json"]);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["id"] != "database.tls_expiry"),
        "no warning for a fresh certificate"
    );
}
