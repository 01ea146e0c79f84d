//! Every connection path against real PostgreSQL servers started by the harness.

use std::time::{Duration, Instant};

use crate::common::*;
use intowork_db::{ConnectError, connect};
use intowork_testkit::{DowngradeServer, Flavor, PgServer, RailwayProxy, free_port};

fn tls_only() -> &'static PgServer {
    PgServer::shared(Flavor::TlsOnly)
}

#[tokio::test]
async fn tls_only_server_connects_and_proves_encryption() {
    let db = tls_only().create_database();
    let s = settings(&db.url("sslmode=require"), &[]);
    let connected = connect(s.database()).await.expect("connects over TLS");
    assert!(connected.session.ssl);
    let version = connected.session.version.as_deref().unwrap();
    assert!(version == "TLSv1.2" || version == "TLSv1.3", "{version}");
    assert_eq!(connected.attempts, 1);
}

#[tokio::test]
async fn plaintext_server_and_downgrade_are_refused_without_sending_anything() {
    let plain = PgServer::shared(Flavor::PlaintextOnly).create_database();
    let e = connect(settings(&plain.url("sslmode=require"), &[]).database())
        .await
        .unwrap_err();
    assert!(matches!(e, ConnectError::TlsNotOffered { .. }), "{e}");
    assert_contains!(e.to_string(), "does not offer TLS", "{e}");

    let downgrade = DowngradeServer::start();
    let url = plain.url_with_host_port("localhost", downgrade.port(), "sslmode=require");
    let e = connect(settings(&url, &[]).database()).await.unwrap_err();
    assert!(matches!(e, ConnectError::TlsNotOffered { .. }), "{e}");
    assert_eq!(
        downgrade.bytes_after_refusal(),
        0,
        "nothing may follow the refusal in plaintext"
    );
    assert_lacks!(all_forms(&e), &plain.password);
}

#[tokio::test]
async fn the_seed_failure_reproduced_and_fixed_through_a_railway_like_proxy() {
    let db = tls_only().create_database();
    let proxy = RailwayProxy::start(tls_only().port());

    // sslmode=disable is only allowed on loopback: exactly what the seed did to Railway.
    let url = db.url_with_host_port("localhost", proxy.port(), "sslmode=disable");
    let e = connect(settings(&url, &[("DATABASE_CONNECT_TIMEOUT_SECS", "3")]).database())
        .await
        .unwrap_err();
    assert!(matches!(e, ConnectError::ResetDuringStartup { .. }), "{e}");
    let text = e.to_string();
    assert_contains!(text, "reset");
    assert_contains!(text, "sslmode=require");
    assert_lacks!(all_forms(&e), &db.password);

    // Enforced TLS through the same proxy connects.
    let url = db.url_with_host_port("localhost", proxy.port(), "sslmode=require");
    let connected = connect(settings(&url, &[]).database())
        .await
        .expect("TLS passes the proxy");
    assert!(connected.session.ssl);
}

#[tokio::test]
async fn verify_full_against_a_ca_signed_certificate() {
    let server = PgServer::shared(Flavor::Verified);
    let db = server.create_database();
    let good = format!(
        "sslmode=verify-full&sslrootcert={}",
        server.root_cert_path().display()
    );
    let connected = connect(settings(&db.url(&good), &[]).database())
        .await
        .expect("verify-full with the right CA");
    assert!(connected.session.ssl);

    let wrong = format!(
        "sslmode=verify-full&sslrootcert={}",
        server.wrong_ca_path().display()
    );
    let e = connect(settings(&db.url(&wrong), &[]).database())
        .await
        .unwrap_err();
    assert!(matches!(e, ConnectError::Certificate { .. }), "{e}");
    assert!(!e.is_transient());
}

#[tokio::test]
async fn railway_shaped_certificate_fails_verify_full_even_with_its_own_root() {
    // Railway's leaf is self-signed and CA:TRUE: rustls refuses it as an end entity.
    let db = tls_only().create_database();
    let q = format!(
        "sslmode=verify-full&sslrootcert={}",
        tls_only().root_cert_path().display()
    );
    let e = connect(settings(&db.url(&q), &[]).database())
        .await
        .unwrap_err();
    assert!(matches!(e, ConnectError::Certificate { .. }), "{e}");
    assert_contains!(e.to_string(), "use `sslmode=require`", "{e}");
}

#[tokio::test]
async fn a_pinned_fingerprint_is_enforced() {
    let db = tls_only().create_database();
    let right = tls_only().cert_sha256().unwrap();
    let s = settings(
        &db.url("sslmode=require"),
        &[("DATABASE_TLS_FINGERPRINT", right)],
    );
    connect(s.database()).await.expect("the right pin connects");

    let wrong = "00".repeat(32);
    let s = settings(
        &db.url("sslmode=require"),
        &[("DATABASE_TLS_FINGERPRINT", &wrong)],
    );
    let e = connect(s.database()).await.unwrap_err();
    match &e {
        ConnectError::FingerprintMismatch {
            expected, actual, ..
        } => {
            assert_eq!(
                (expected.as_str(), actual.as_str()),
                (wrong.as_str(), right)
            );
        }
        other => panic!("expected a fingerprint mismatch, got {other}"),
    }
    assert!(!e.is_transient());
}

#[tokio::test]
async fn a_bad_password_fails_at_once_without_retrying() {
    let db = tls_only().create_database();
    let url = db
        .url("sslmode=require")
        .replace(&db.password, "wrong-password-for-test");
    let s = settings(&url, &[("DATABASE_CONNECT_TIMEOUT_SECS", "30")]);
    let start = Instant::now();
    let e = connect(s.database()).await.unwrap_err();
    let took = start.elapsed();
    assert!(matches!(e, ConnectError::BadCredentials { .. }), "{e}");
    assert!(!e.is_transient());
    // No retry spin: one attempt, far below the first backoff step plus a second attempt
    // would need. (Generous bound for a loaded 2-core machine; benchmarks measure speed.)
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert_lacks!(all_forms(&e), "wrong-password-for-test");
}

#[tokio::test]
async fn a_missing_database_and_hba_rejection_are_diagnosed() {
    let db = tls_only().create_database();
    let url = db
        .url("sslmode=require")
        .replace(&format!("/{}?", db.name), "/no_such_db?");
    let e = connect(settings(&url, &[]).database()).await.unwrap_err();
    assert!(matches!(e, ConnectError::DatabaseMissing { .. }), "{e}");

    // Plaintext to a hostssl-only server: rejected by pg_hba with "no encryption".
    let e = connect(settings(&db.url("sslmode=disable"), &[]).database())
        .await
        .unwrap_err();
    match &e {
        ConnectError::HbaRejected { message, .. } => {
            assert_contains!(message, "no encryption")
        }
        other => panic!("expected an hba rejection, got {other}"),
    }
    assert_contains!(e.to_string(), "use `sslmode=require`", "{e}");
}

#[tokio::test]
async fn a_server_that_starts_late_is_reached_within_the_budget() {
    let server = PgServer::start(Flavor::TlsOnly);
    let db = server.create_database();
    server.stop();
    let s = settings(
        &db.url("sslmode=require"),
        &[("DATABASE_CONNECT_TIMEOUT_SECS", "20")],
    );
    let late = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        server.restart();
        server
    });
    let start = Instant::now();
    let connected = connect(s.database())
        .await
        .expect("connected once the server is up");
    assert!(connected.attempts > 1, "the first attempts were refused");
    assert!(start.elapsed() >= Duration::from_secs(2));
    drop(connected);
    drop(late.join().unwrap());
}

#[tokio::test]
async fn nothing_listening_gives_the_refused_diagnosis_within_the_budget() {
    let db = tls_only().create_database();
    let port = free_port();
    let url = db.url_with_host_port("localhost", port, "sslmode=require");
    let s = settings(&url, &[("DATABASE_CONNECT_TIMEOUT_SECS", "2")]);
    let start = Instant::now();
    let e = connect(s.database()).await.unwrap_err();
    assert!(matches!(e, ConnectError::Refused { .. }), "{e}");
    assert_contains!(e.to_string(), &format!("localhost:{port}"), "{e}");
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "kept within the 2 s budget (+ one attempt)"
    );
}

#[tokio::test]
async fn a_tls_terminating_middlebox_is_caught_by_the_servers_own_word() {
    // The client completes a TLS handshake, but the server sees plaintext: only pg_stat_ssl
    // can tell, and the connection is then refused and closed.
    let plain = PgServer::shared(Flavor::PlaintextOnly).create_database();
    let middlebox = intowork_testkit::TlsTerminatingProxy::start(
        PgServer::shared(Flavor::PlaintextOnly).port(),
    );
    let url = plain.url_with_host_port("localhost", middlebox.port(), "sslmode=require");
    let e = connect(settings(&url, &[]).database()).await.unwrap_err();
    assert!(matches!(e, ConnectError::NotEncrypted { .. }), "{e}");
    assert_contains!(e.to_string(), "pg_stat_ssl", "{e}");

    // The pool applies the same proof to every connection it opens: none is handed out
    // (sqlx reports only a pool timeout; the cause is logged).
    let s = settings(&url, &[]);
    let route = intowork_db::route(s.database(), &intowork_db::SystemResolver)
        .await
        .unwrap();
    let pool = intowork_db::pool(s.database(), &route);
    assert!(
        pool.acquire().await.is_err(),
        "an unencrypted session must never be handed out"
    );
    pool.close(Duration::from_secs(5)).await;
    let count = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = '{}'",
        plain.name
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while PgServer::shared(Flavor::PlaintextOnly).psql("postgres", &count) != "0" {
        assert!(
            std::time::Instant::now() < deadline,
            "the unencrypted sessions were not closed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_reset_on_the_first_packet_is_the_reset_diagnosis() {
    let reset = intowork_testkit::ResetServer::start();
    let db = tls_only().create_database();
    let url = db.url_with_host_port("localhost", reset.port(), "sslmode=require");
    let e = connect(settings(&url, &[("DATABASE_CONNECT_TIMEOUT_SECS", "2")]).database())
        .await
        .unwrap_err();
    assert!(matches!(e, ConnectError::ResetDuringStartup { .. }), "{e}");
    assert_contains!(
        e.to_string(),
        "TCP proxy is enabled",
        "with TLS on, the hint looks past TLS: {e}"
    );
}

#[tokio::test]
async fn too_many_connections_is_retried_then_diagnosed() {
    // A role allowed no connection at all: PostgreSQL answers 53300, as when max_connections
    // is exhausted, which is transient (retried) until the budget runs out.
    let db = tls_only().create_database();
    tls_only().psql(
        "postgres",
        &format!("ALTER ROLE {} CONNECTION LIMIT 0", db.user),
    );
    let s = settings(
        &db.url("sslmode=require"),
        &[("DATABASE_CONNECT_TIMEOUT_SECS", "2")],
    );
    let start = Instant::now();
    let e = connect(s.database()).await.unwrap_err();
    assert!(matches!(e, ConnectError::TooManyConnections { .. }), "{e}");
    assert_contains!(e.to_string(), "DATABASE_MAX_CONNECTIONS", "{e}");
    assert!(
        start.elapsed() >= Duration::from_millis(500),
        "retried before giving up"
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "within the budget"
    );
}
