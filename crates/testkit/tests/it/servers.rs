//! The three server flavours, databases, and the stop/restart life cycle, checked with psql.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::panic;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::common::{SSL_IN_USE, expect_err, expect_ok, psql_direct};
use intowork_testkit::{Flavor, PgServer, free_port};
use sha2::{Digest, Sha256};
use x509_parser::pem::parse_x509_pem;

/// DER of the first certificate in a PEM file.
fn der_of(path: &std::path::Path) -> Vec<u8> {
    let pem = std::fs::read(path).expect("read a PEM file");
    parse_x509_pem(&pem).expect("a PEM certificate").1.contents
}

#[test]
fn tls_only_server_accepts_tls_and_rejects_plaintext() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();

    let encrypted = expect_ok(
        psql_direct(&db, "sslmode=require", SSL_IN_USE),
        "sslmode=require",
    );
    assert_eq!(encrypted, "t");
    expect_err(
        psql_direct(&db, "sslmode=disable", SSL_IN_USE),
        "no encryption",
        "sslmode=disable",
    );

    // The Railway-like certificate is its own root: verify-full works with it (libpq/OpenSSL).
    let root = server.root_cert_path().display().to_string();
    let verified = psql_direct(
        &db,
        &format!("sslmode=verify-full sslrootcert={root}"),
        SSL_IN_USE,
    );
    assert_eq!(
        expect_ok(verified, "verify-full with the self-signed certificate"),
        "t"
    );
    let wrong = server.wrong_ca_path().display().to_string();
    expect_err(
        psql_direct(
            &db,
            &format!("sslmode=verify-full sslrootcert={wrong}"),
            SSL_IN_USE,
        ),
        "certificate verify failed",
        "verify-full with an unrelated CA",
    );
}

#[test]
fn tls_only_certificate_is_a_ca_and_its_fingerprint_is_stable() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let fingerprint = server
        .cert_sha256()
        .expect("a TLS server has a fingerprint");
    assert_eq!(fingerprint.len(), 64);
    assert!(
        fingerprint
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "{fingerprint}"
    );
    assert_eq!(
        server.cert_sha256(),
        Some(fingerprint),
        "stable across calls"
    );

    // For TlsOnly the root file is the server certificate itself.
    let der = der_of(server.root_cert_path());
    let hex: String = Sha256::digest(&der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hex, fingerprint);
    let (_, cert) = x509_parser::parse_x509_certificate(&der).expect("X.509");
    assert!(cert.is_ca(), "Railway-like certificates carry CA:TRUE");
}

#[test]
fn verified_server_checks_the_chain() {
    let server = PgServer::shared(Flavor::Verified);
    let db = server.create_database();
    let root = server.root_cert_path().display().to_string();
    let wrong = server.wrong_ca_path().display().to_string();

    let verified = psql_direct(
        &db,
        &format!("sslmode=verify-full sslrootcert={root}"),
        SSL_IN_USE,
    );
    assert_eq!(expect_ok(verified, "verify-full with the test CA"), "t");
    expect_err(
        psql_direct(
            &db,
            &format!("sslmode=verify-full sslrootcert={wrong}"),
            SSL_IN_USE,
        ),
        "certificate verify failed",
        "verify-full with an unrelated CA",
    );
    expect_err(
        psql_direct(&db, "sslmode=disable", SSL_IN_USE),
        "no encryption",
        "sslmode=disable",
    );

    let ca_der = der_of(server.root_cert_path());
    let (_, ca) = x509_parser::parse_x509_certificate(&ca_der).expect("CA");
    assert!(ca.is_ca());
    let fingerprint = server
        .cert_sha256()
        .expect("a TLS server has a fingerprint");
    assert_eq!(fingerprint.len(), 64);
    assert_ne!(
        Some(fingerprint),
        PgServer::shared(Flavor::TlsOnly).cert_sha256()
    );
}

#[test]
fn plaintext_only_server_refuses_tls() {
    let server = PgServer::shared(Flavor::PlaintextOnly);
    assert_eq!(server.cert_sha256(), None);
    let db = server.create_database();
    expect_err(
        psql_direct(&db, "sslmode=require", SSL_IN_USE),
        "server does not support SSL",
        "sslmode=require",
    );
    assert_eq!(
        expect_ok(
            psql_direct(&db, "sslmode=disable", SSL_IN_USE),
            "sslmode=disable"
        ),
        "f"
    );
}

#[test]
fn databases_are_unique_and_owned_by_their_password_protected_role() {
    let server = PgServer::shared(Flavor::PlaintextOnly);
    let (first, second) = (server.create_database(), server.create_database());
    assert_ne!(first.name, second.name);
    assert_ne!(first.password, second.password);
    assert_eq!(first.password.len(), 32);
    assert!(first.password.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert!(
        !format!("{first:?}").contains(&first.password),
        "Debug must not show the password"
    );

    let owner = server.psql(
        "postgres",
        &format!(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{}'",
            first.name
        ),
    );
    assert_eq!(owner, first.user);
    let verifier = server.psql(
        "postgres",
        &format!(
            "SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = '{}'",
            first.user
        ),
    );
    assert_eq!(verifier, "SCRAM-SHA-256$");

    let mut wrong = first.clone();
    wrong.password = second.password.clone();
    expect_err(
        psql_direct(&wrong, "sslmode=disable", "SELECT 1"),
        "password authentication failed",
        "wrong password",
    );
    // The role can create objects in its database (what migrations need).
    let created = psql_direct(
        &first,
        "sslmode=disable",
        "CREATE TABLE t (id int); INSERT INTO t VALUES (7); SELECT id FROM t",
    );
    assert_eq!(expect_ok(created, "create a table"), "7");

    assert_eq!(
        first.url(""),
        format!(
            "postgres://{0}:{1}@localhost:{2}/{0}",
            first.name,
            first.password,
            server.port()
        )
    );
    assert_eq!(
        first.url_with_host_port("127.0.0.1", 6000, "sslmode=require"),
        format!(
            "postgres://{0}:{1}@127.0.0.1:6000/{0}?sslmode=require",
            first.name, first.password
        )
    );
}

#[test]
#[should_panic(expected = "syntax error")]
fn psql_panics_with_the_server_error() {
    PgServer::shared(Flavor::PlaintextOnly).psql("postgres", "SELEC 1");
}

#[test]
fn dedicated_server_stops_restarts_on_the_same_port_and_cleans_up() {
    let server = PgServer::start(Flavor::TlsOnly);
    let db = server.create_database();
    let port = server.port();
    assert_eq!(
        expect_ok(
            psql_direct(&db, "sslmode=require", SSL_IN_USE),
            "before stop"
        ),
        "t"
    );

    server.stop();
    expect_err(
        psql_direct(&db, "sslmode=require", "SELECT 1"),
        "Connection refused",
        "after stop",
    );
    server.stop(); // stopping a stopped server is a no-op

    server.restart();
    assert_eq!(server.port(), port);
    assert_eq!(
        expect_ok(
            psql_direct(&db, "sslmode=require", SSL_IN_USE),
            "after restart"
        ),
        "t"
    );

    let log = server.log_path();
    assert!(log.exists());
    drop(server);
    assert!(!log.exists(), "drop removes the cluster's files");
    assert!(
        TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(),
        "drop stops the server"
    );
}

#[test]
fn server_can_come_up_on_a_port_chosen_before() {
    let port = free_port();
    assert!(
        TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(),
        "nothing listens yet"
    );
    let server = PgServer::start_on_port(Flavor::PlaintextOnly, port);
    assert_eq!(server.port(), port);
    let db = server.create_database();
    assert_eq!(
        expect_ok(
            psql_direct(&db, "sslmode=disable", "SELECT 1"),
            "on the chosen port"
        ),
        "1"
    );
}

#[test]
fn a_taken_port_fails_with_the_server_log() {
    let squatter = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let port = squatter.local_addr().expect("address").port();
    let failure = panic::catch_unwind(|| PgServer::start_on_port(Flavor::PlaintextOnly, port))
        .expect_err("must fail");
    let message = failure
        .downcast_ref::<String>()
        .expect("a formatted panic message");
    assert!(
        message.contains(&format!("port {port}) could not listen")),
        "{message}"
    );
    assert!(
        message.contains("Address already in use"),
        "the log tail is included: {message}"
    );
}

#[test]
fn a_dedicated_server_is_stopped_and_removed_when_its_test_panics() {
    let mut seen = None;
    let outcome = panic::catch_unwind(panic::AssertUnwindSafe(|| {
        let server = PgServer::start(Flavor::PlaintextOnly);
        seen = Some((server.port(), server.log_path()));
        panic!("the test fails while the server runs");
    }));
    assert!(outcome.is_err());
    let (port, log) = seen.expect("the server started");
    assert!(
        TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(),
        "unwinding stopped the server"
    );
    assert!(!log.exists(), "unwinding removed the cluster's files");
}

#[test]
fn a_certificate_expiring_in_ten_days_is_served_and_says_so() {
    let server = PgServer::start_with_cert_expiring_in_days(Flavor::TlsOnly, 10);
    let db = server.create_database();
    assert_eq!(
        expect_ok(
            psql_direct(&db, "sslmode=require", SSL_IN_USE),
            "sslmode=require"
        ),
        "t"
    );
    // verify-full with the certificate as its own root passes only if the server presents
    // this very certificate (and it has not expired).
    let root = server.root_cert_path().display().to_string();
    assert_eq!(
        expect_ok(
            psql_direct(
                &db,
                &format!("sslmode=verify-full sslrootcert={root}"),
                SSL_IN_USE
            ),
            "verify-full with the expiring certificate"
        ),
        "t"
    );

    let der = der_of(server.root_cert_path());
    let hex: String = Sha256::digest(&der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(server.cert_sha256(), Some(hex.as_str()));
    let (_, cert) = x509_parser::parse_x509_certificate(&der).expect("X.509");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let days_left =
        (cert.validity().not_after.timestamp() - i64::try_from(now).expect("i64")) / (24 * 60 * 60);
    assert!((9..=11).contains(&days_left), "expires in {days_left} days");
}

#[test]
fn an_expired_certificate_is_still_served_but_fails_verification() {
    let server = PgServer::start_with_cert_expiring_in_days(Flavor::TlsOnly, -1);
    let db = server.create_database();
    assert_eq!(
        expect_ok(
            psql_direct(&db, "sslmode=require", SSL_IN_USE),
            "sslmode=require does not check dates"
        ),
        "t"
    );
    // libpq does not say why; the ten-day test passes verify-full the same way, so the date
    // is what fails here.
    let root = server.root_cert_path().display().to_string();
    expect_err(
        psql_direct(
            &db,
            &format!("sslmode=verify-full sslrootcert={root}"),
            SSL_IN_USE,
        ),
        "certificate verify failed",
        "verify-full with an expired certificate",
    );
}

#[test]
#[should_panic(expected = "PlaintextOnly serves no certificate")]
fn a_plaintext_server_has_no_certificate_to_expire() {
    PgServer::start_with_cert_expiring_in_days(Flavor::PlaintextOnly, 10);
}
