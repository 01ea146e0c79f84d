//! The backend behind the harness's real PgBouncer (issue 27, phase 1): its start-up
//! migrations, and `backend migrate`, run over `DATABASE_DIRECT_URL` — on the database
//! itself, once — and never through a transaction pooler.
//!
//! Serving through a transaction-mode PgBouncer under load, three replicas at once:
//! pooler_load.rs.

use std::time::Duration;

use intowork_testkit::{BouncerOptions, DdlCommand, Flavor, PgBouncer, PgServer, PoolMode, TestDb};

use crate::common::env;
use crate::common::process::Backend;

pub(crate) fn server() -> &'static PgServer {
    PgServer::shared(Flavor::TlsOnly)
}

const DIRECT_APP: &str = "backend-direct";
const POOLED_APP: &str = "backend-pooled";

pub(crate) fn variables(db: &TestDb, bouncer: &PgBouncer, mode: &str) -> Vec<(String, String)> {
    let pooled = bouncer.url(
        db,
        &format!("sslmode=require&application_name={POOLED_APP}"),
    );
    let direct = db.url(&format!("sslmode=require&application_name={DIRECT_APP}"));
    env(
        db,
        &[
            ("DATABASE_URL", &pooled),
            ("DATABASE_POOL_MODE", mode),
            ("DATABASE_DIRECT_URL", &direct),
        ],
    )
}

/// `n` backends started at once with `vars`, once each has migrated: every migration applied
/// by one of them (their logs' `applied` counts add up to `_sqlx_migrations`' rows), every
/// DDL command in a session of the direct URL, once.
pub(crate) fn start_together(n: usize, vars: &[(String, String)], db: &TestDb) -> Vec<Backend> {
    let replicas: Vec<Backend> = (0..n)
        .map(|_| Backend::spawn(&["serve", "--port", "0"], vars))
        .collect();
    let applied: u64 = replicas
        .iter()
        .map(|r| {
            let line = r.wait_for("migrations done", Duration::from_secs(120));
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            v["applied"].as_u64().unwrap()
        })
        .sum();
    let rows = server().psql(&db.name, "SELECT count(*) FROM _sqlx_migrations");
    assert_eq!(
        applied.to_string(),
        rows,
        "each migration applied by one replica"
    );
    assert_migrated_directly_once(&server().ddl_log(db));
    replicas
}

/// Every DDL command ran in a session opened with the direct URL, and none twice.
fn assert_migrated_directly_once(log: &[DdlCommand]) {
    assert!(!log.is_empty(), "no DDL was logged");
    for command in log {
        assert_eq!(command.application_name, DIRECT_APP, "{command:?}");
    }
    let created: Vec<_> = log
        .iter()
        .filter(|c| c.tag.starts_with("CREATE") && !c.object.is_empty())
        .map(|c| (c.tag.clone(), c.object.clone()))
        .collect();
    let distinct: std::collections::BTreeSet<_> = created.iter().collect();
    assert_eq!(created.len(), distinct.len(), "created twice: {log:#?}");
}

#[test]
fn start_up_migrates_over_the_direct_url_behind_a_transaction_pooler() {
    let db = server().create_database();
    server().log_ddl(&db);
    let bouncer = PgBouncer::start(server(), &[&db]);
    let mut backend = Backend::spawn(
        &["serve", "--port", "0"],
        &variables(&db, &bouncer, "transaction"),
    );
    let route = backend.wait_for("migration connection", Duration::from_secs(60));
    assert_contains!(route, "DATABASE_DIRECT_URL");
    assert_contains!(route, &format!("localhost:{}/{}", db.port, db.name));
    backend.wait_for("migrations done", Duration::from_secs(60));
    assert_migrated_directly_once(&server().ddl_log(&db));
    let pid = backend.pid();
    backend.signal("TERM");
    assert_eq!(
        backend.wait(Duration::from_secs(30)),
        Some(0),
        "{}",
        backend.output()
    );
    assert_lacks!(
        backend.output(),
        &db.password,
        "pid {pid} printed the password"
    );
}

#[test]
fn three_replicas_through_a_pooler_migrate_exactly_once_over_the_direct_url() {
    let db = server().create_database();
    server().log_ddl(&db);
    let session = BouncerOptions {
        pool_mode: PoolMode::Session,
        ..BouncerOptions::default()
    };
    let bouncer = PgBouncer::start_with(server(), &[&db], session);
    let vars = variables(&db, &bouncer, "session");
    let mut replicas = start_together(3, &vars, &db);
    for r in &mut replicas {
        r.signal("TERM");
        assert_eq!(r.wait(Duration::from_secs(30)), Some(0), "{}", r.output());
    }
}

#[test]
fn the_backend_refuses_to_migrate_through_a_transaction_pooler() {
    let db = server().create_database();
    let bouncer = PgBouncer::start(server(), &[&db]);
    let pooled = bouncer.url(&db, "sslmode=require");
    let transaction = [
        ("DATABASE_URL", pooled.as_str()),
        ("DATABASE_POOL_MODE", "transaction"),
    ];
    // Migrating at start-up (the default) without a direct URL: the configuration refuses
    // (exit 2, the backend's code for an invalid configuration).
    let mut serve = Backend::spawn(&["serve", "--port", "0"], &env(&db, &transaction));
    assert_eq!(
        serve.wait(Duration::from_secs(60)),
        Some(2),
        "{}",
        serve.output()
    );
    assert_contains!(serve.output(), "DATABASE_DIRECT_URL");
    // The pre-deploy command with start-up migrations off: the migration itself refuses.
    let off = [
        transaction[0],
        transaction[1],
        ("MIGRATE_ON_START", "false"),
    ];
    let mut migrate = Backend::spawn(&["migrate"], &env(&db, &off));
    assert_eq!(
        migrate.wait(Duration::from_secs(60)),
        Some(1),
        "{}",
        migrate.output()
    );
    let out = migrate.output();
    assert_contains!(out, "refusing to migrate through the transaction pooler");
    assert_contains!(out, "Fix: set DATABASE_DIRECT_URL");
    assert_lacks!(out, &db.password);
    assert_eq!(bouncer.logins(&db), 0, "something reached the pooler");
    assert_eq!(
        server().psql(&db.name, "SELECT to_regclass('_sqlx_migrations') IS NULL"),
        "t"
    );
}
