//! The real `backend` binary: exit codes, signals, concurrent start-up, logs.

use std::time::Duration;

use crate::common::process::Backend;
use crate::common::{self, *};
use intowork_testkit::{Flavor, PgServer, free_port};

#[test]
fn version_names_the_commit() {
    let b = &mut Backend::spawn(&["--version"], &[]);
    assert_eq!(b.wait(Duration::from_secs(10)), Some(0));
    let out = b.output();
    assert!(
        out.starts_with(&format!("backend {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{out}"
    );
}

#[test]
fn a_bad_configuration_exits_2_listing_every_problem_before_binding() {
    let port = free_port();
    let env = vec![
        ("DATABASE_URL".to_owned(), "postgresql://postgres:pw-Fake1234@interchange.proxy.rlwy.net:41234/railway?ssl=disable".to_owned()),
        ("NEXTAUTH_SECRET".to_owned(), "short".to_owned()),
        ("PORT".to_owned(), port.to_string()),
        ("ENVIRONMENT".to_owned(), "production".to_owned()),
    ];
    let mut b = Backend::spawn(&[], &env);
    assert_eq!(b.wait(Duration::from_secs(10)), Some(2), "{}", b.output());
    let out = b.output();
    for var in [
        "DATABASE_URL",
        "NEXTAUTH_SECRET",
        "ALLOWED_ORIGINS",
        "FRONTEND_URL",
    ] {
        assert_contains!(out, var, "{var} not listed:\n{out}");
    }
    assert_contains!(out, "Connection reset by peer");
    assert_lacks!(out, "listening on");
    assert_lacks!(out, "pw-Fake1234");
    // Nothing ever held the port.
    std::net::TcpListener::bind(("0.0.0.0", port)).expect("the port was never bound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_slow_request_finish_then_exits_0() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let env = env(&db, &[("SHUTDOWN_GRACE_SECS", "20")]);
    let mut b = Backend::spawn(&["serve", "--port", "0"], &env);
    let port = b.port();
    b.wait_for("application startup complete", Duration::from_secs(30));
    seed(server, &db, 2);

    // A request made slow for real: it waits on a table lock held here.
    let lock = TableLock::take(&settings(&db, &[])).await;
    let in_flight =
        tokio::task::spawn_blocking(move || common::http::get(port, "/api/jobs").unwrap());
    lock.wait_for_waiter(server, &db).await;

    b.signal("TERM");
    b.wait_for("shutdown requested", Duration::from_secs(5));
    // New connections are refused while the old request drains.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        common::http::get(port, "/health").is_err(),
        "still accepting after SIGTERM"
    );
    assert_eq!(
        b.wait(Duration::from_millis(200)),
        None,
        "must wait for the in-flight request"
    );

    lock.release().await;
    let response = in_flight.await.unwrap();
    assert_eq!(response.status, 200, "the in-flight request completes");
    assert_eq!(b.wait(Duration::from_secs(20)), Some(0), "{}", b.output());
    let out = b.output();
    assert_contains!(out, "in-flight requests drained");
    assert_contains!(out, "shutdown complete");
    assert_no_secrets!(out, valid_env(&db));
}

#[test]
fn four_backends_at_once_migrate_once_and_all_become_ready() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let env = env(&db, &[]);
    let mut backends: Vec<Backend> = (0..4)
        .map(|_| Backend::spawn(&["serve", "--port", "0"], &env))
        .collect();
    let mut applied = 0;
    for b in &backends {
        b.wait_for("application startup complete", Duration::from_secs(60));
        let line = b.wait_for("migrations done", Duration::from_secs(1));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        applied += v["applied"].as_u64().unwrap();
        let ready = common::http::get(b.port(), "/health/ready").unwrap();
        assert_eq!(ready.status, 200, "{}", ready.body);
    }
    let migrations = intowork_db::migrate::MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .count();
    assert_eq!(
        applied as usize, migrations,
        "each migration applied by exactly one backend"
    );
    assert_eq!(
        server.psql(
            &db.name,
            "SELECT count(*) FROM _sqlx_migrations WHERE success"
        ),
        migrations.to_string()
    );
    for b in &mut backends {
        b.signal("TERM");
        assert_eq!(b.wait(Duration::from_secs(30)), Some(0));
        assert_no_secrets!(b.output(), valid_env(&db));
    }
}

#[test]
fn json_logs_on_stdout_carry_level_message_and_timestamp() {
    let db = PgServer::shared(Flavor::TlsOnly).create_database();
    let mut b = Backend::spawn(&["serve", "--port", "0"], &env(&db, &[("RUST_LOG", "")]));
    let port = b.port();
    b.wait_for("application startup complete", Duration::from_secs(30));
    let _ = common::http::request(
        port,
        "GET",
        "/api/jobs/999",
        &[("x-request-id", "test-req-42")],
    )
    .unwrap();
    // A fast success is Railway's edge log's business: DEBUG, not printed by default.
    let _ =
        common::http::request(port, "GET", "/health", &[("x-request-id", "fast-ok-7")]).unwrap();
    b.signal("TERM");
    assert_eq!(b.wait(Duration::from_secs(30)), Some(0));
    let lines = b.lines.lock().unwrap().clone();
    assert!(lines.len() >= 5, "{lines:?}");
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        for key in ["level", "message", "timestamp"] {
            assert!(v.get(key).is_some(), "no `{key}` in {line}");
        }
    }
    let messages: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.split("\"message\":\"").nth(1)?.split('"').next())
        .collect();
    for expected in [
        "configuration loaded",
        "database connected",
        "migrations done",
        "application startup complete",
    ] {
        assert!(
            messages.contains(&expected),
            "no `{expected}` in {messages:?}"
        );
    }
    let failed = lines
        .iter()
        .find(|l| l.contains("test-req-42"))
        .unwrap_or_else(|| panic!("a failed request is logged with its id: {lines:#?}"));
    for field in [
        "\"level\":\"INFO\"",
        "\"status\":404",
        "\"path\":\"/api/jobs/999\"",
    ] {
        assert_contains!(failed, field, "no {field} in {failed}");
    }
    assert!(
        !lines.iter().any(|l| l.contains("fast-ok-7")),
        "a fast 200 is not logged at the default level: {lines:#?}"
    );
    assert!(
        b.stderr.lock().unwrap().is_empty(),
        "nothing on stderr: Railway shows it as errors"
    );
    assert_no_secrets!(b.output(), valid_env(&db));
}

#[test]
fn every_request_is_logged_at_debug_with_its_id_status_and_latency() {
    let db = PgServer::shared(Flavor::TlsOnly).create_database();
    let debug = [("RUST_LOG", "info,intowork_backend=debug")];
    let mut b = Backend::spawn(&["serve", "--port", "0"], &env(&db, &debug));
    let port = b.port();
    b.wait_for("application startup complete", Duration::from_secs(30));
    let _ =
        common::http::request(port, "GET", "/health", &[("x-request-id", "fast-ok-8")]).unwrap();
    b.signal("TERM");
    assert_eq!(b.wait(Duration::from_secs(30)), Some(0));
    let lines = b.lines.lock().unwrap().clone();
    let line = lines
        .iter()
        .find(|l| l.contains("fast-ok-8") && l.contains("request completed"))
        .unwrap_or_else(|| panic!("no DEBUG line for the request: {lines:#?}"));
    for field in [
        "\"level\":\"DEBUG\"",
        "\"status\":200",
        "\"path\":\"/health\"",
        "\"latency_ms\":",
    ] {
        assert_contains!(line, field, "no {field} in {line}");
    }
}

#[test]
fn migrate_subcommand_is_a_pre_deploy_command_and_serve_can_skip_migrating() {
    let db = PgServer::shared(Flavor::TlsOnly).create_database();
    // Without migrations and with MIGRATE_ON_START=false, the service is alive but not ready.
    let mut b = Backend::spawn(
        &["serve", "--port", "0"],
        &env(&db, &[("MIGRATE_ON_START", "false")]),
    );
    let port = b.port();
    let ready = common::http::get(port, "/health/ready").unwrap();
    assert_eq!(ready.status, 503);
    assert!(
        ready.json()["checks"]["migrations"]
            .as_str()
            .unwrap()
            .ends_with("pending"),
        "{}",
        ready.body
    );

    let mut m = Backend::spawn(&["migrate"], &env(&db, &[]));
    assert_eq!(m.wait(Duration::from_secs(60)), Some(0), "{}", m.output());
    assert_contains!(m.output(), "migrations done");
    assert_eq!(
        common::http::get(port, "/health/ready").unwrap().status,
        200
    );

    let mut again = Backend::spawn(&["migrate"], &env(&db, &[]));
    assert_eq!(again.wait(Duration::from_secs(60)), Some(0));
    b.signal("TERM");
    assert_eq!(b.wait(Duration::from_secs(30)), Some(0));

    // A database that refuses the client: exit 1 with the diagnosis.
    let mut bad = Backend::spawn(
        &["migrate"],
        &env(&db, &[("DATABASE_URL", &db.url("sslmode=disable"))]),
    );
    assert_eq!(
        bad.wait(Duration::from_secs(60)),
        Some(1),
        "{}",
        bad.output()
    );
    assert_contains!(bad.output(), "no encryption");
}
