//! The harness's PgBouncer: TLS on both sides, transaction pooling as Railway's PgBouncer does
//! it, and no process left behind. Checked with psql (libpq), the reference client.

use crate::common::{SSL_IN_USE, expect_err, expect_ok, psql};
use intowork_testkit::process::processes;
use intowork_testkit::{BouncerOptions, Flavor, PgBouncer, PgServer, PoolMode};

#[test]
fn a_query_goes_through_over_tls_on_both_sides() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let bouncer = PgBouncer::start(server, &[&db]);

    // Client → PgBouncer: TLS, verified against PgBouncer's own (generated) certificate.
    let root = bouncer.root_cert_path().display().to_string();
    let verified = format!("sslmode=verify-full sslrootcert={root}");
    // PgBouncer → PostgreSQL: what the server says about the session it serves.
    let server_side = psql(&db, bouncer.host(), bouncer.port(), &verified, SSL_IN_USE);
    assert_eq!(expect_ok(server_side, "a query through PgBouncer"), "t");
    let name = psql(
        &db,
        bouncer.host(),
        bouncer.port(),
        "sslmode=require",
        "SELECT current_database()",
    );
    assert_eq!(expect_ok(name, "current_database()"), db.name);

    // Plaintext is refused at the door, as the TLS-only server refuses it.
    expect_err(
        psql(
            &db,
            bouncer.host(),
            bouncer.port(),
            "sslmode=disable",
            "SELECT 1",
        ),
        "SSL required",
        "plaintext to PgBouncer",
    );
    let config = bouncer.show("SHOW CONFIG");
    let setting = |key: &str| {
        config
            .iter()
            .find(|row| row["key"] == key)
            .map(|row| row["value"].clone())
    };
    assert_eq!(setting("pool_mode").as_deref(), Some("transaction"));
    assert_eq!(
        setting("server_tls_sslmode").as_deref(),
        Some("verify-full")
    );
    assert_eq!(setting("client_tls_sslmode").as_deref(), Some("require"));
}

/// The hazard migrations must never meet: a session advisory lock taken through the pooler
/// stays on the *server* connection when the client goes, so the next client handed that
/// connection "holds" it too, and nobody can release it from outside.
#[test]
fn transaction_pooling_hands_session_state_to_the_next_client() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let one_server_connection = BouncerOptions {
        default_pool_size: 1,
        ..BouncerOptions::default()
    };
    let bouncer = PgBouncer::start_with(server, &[&db], one_server_connection);
    let via = |sql: &str| {
        let out = psql(&db, bouncer.host(), bouncer.port(), "sslmode=require", sql);
        expect_ok(out, sql)
    };

    let first = via("SELECT pg_advisory_lock(4242), pg_backend_pid()");
    let second = via("SELECT pg_try_advisory_lock(4242), pg_backend_pid()");
    // Two client connections, one after the other: the same server session.
    assert_eq!(
        first.split('|').nth(1),
        second.split('|').nth(1),
        "{first} / {second}"
    );
    assert!(
        second.starts_with("t|"),
        "the second client got the first one's lock: {second}"
    );
    // From outside the pooler, the lock is held by PgBouncer's idle server connection.
    let direct = psql(
        &db,
        server.host(),
        server.port(),
        "sslmode=require",
        "SELECT pg_try_advisory_lock(4242)",
    );
    assert_eq!(expect_ok(direct, "the lock from outside"), "f");

    let pools = bouncer.show("SHOW POOLS");
    let pool = pools
        .iter()
        .find(|p| p["database"] == db.name)
        .expect("a pool for the database");
    assert_eq!(pool["pool_mode"], "transaction", "{pool:?}");
    assert_eq!(pool["cl_active"], "0", "no client left: {pool:?}");
}

#[test]
fn session_pooling_is_there_for_comparison() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let session = BouncerOptions {
        pool_mode: PoolMode::Session,
        default_pool_size: 1,
        ..BouncerOptions::default()
    };
    let bouncer = PgBouncer::start_with(server, &[&db], session);
    let lock = psql(
        &db,
        bouncer.host(),
        bouncer.port(),
        "sslmode=require",
        "SELECT pg_advisory_lock(4343)",
    );
    expect_ok(lock, "lock");
    // Session pooling resets the server connection (`DISCARD ALL`) when the client goes.
    let after = psql(
        &db,
        server.host(),
        server.port(),
        "sslmode=require",
        "SELECT pg_try_advisory_lock(4343)",
    );
    assert_eq!(expect_ok(after, "the lock from outside"), "t");
}

#[test]
fn stopping_leaves_no_process_behind() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let bouncer = PgBouncer::start(server, &[&db]);
    let pid = bouncer.pid();
    let running = |pid: u32| processes().iter().any(|p| p.pid == pid);
    assert!(running(pid));
    let command = processes()
        .into_iter()
        .find(|p| p.pid == pid)
        .unwrap()
        .command_line;
    assert!(command.contains("pgbouncer"), "{command}");
    bouncer.stop();
    assert!(!running(pid), "PgBouncer {pid} still runs after stop()");
    bouncer.stop();
    let dropped = PgBouncer::start(server, &[&db]);
    let pid = dropped.pid();
    drop(dropped);
    assert!(!running(pid), "PgBouncer {pid} still runs after drop");
}
