//! `cargo xtask migrate` with `DATABASE_URL` at a transaction-mode PgBouncer (the harness's
//! real one): refused with the explanation before anything is sent, or, with
//! `DATABASE_DIRECT_URL`, run on the database itself — `status` reads there too.

use intowork_testkit::{Flavor, PgBouncer, PgServer};

use crate::migrate_cli::migrate_env;

fn server() -> &'static PgServer {
    PgServer::shared(Flavor::TlsOnly)
}

#[test]
fn migrating_through_the_transaction_pooler_is_refused_with_the_fix() {
    let db = server().create_database();
    let bouncer = PgBouncer::start(server(), &[&db]);
    let pooled = bouncer.url(&db, "sslmode=require");
    let base = [
        ("DATABASE_URL", pooled.as_str()),
        ("DATABASE_POOL_MODE", "transaction"),
    ];
    // Start-up migrations on (the default): the configuration itself fails, on the variable.
    let run = migrate_env(&["run"], &base);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_contains!(run.stderr, "DATABASE_DIRECT_URL");
    assert_contains!(run.stderr, "session advisory lock");
    // Off: the configuration holds, and the migration itself refuses, before connecting.
    let off = [base[0], base[1], ("MIGRATE_ON_START", "false")];
    for action in [
        &["run"][..],
        &["run", "--dry-run"],
        &["status"],
        &["revert"],
    ] {
        let run = migrate_env(action, &off);
        assert_eq!(run.code, 1, "{action:?}: {}{}", run.stdout, run.stderr);
        assert_contains!(
            run.stderr,
            "refusing to migrate through the transaction pooler",
            "{action:?}: {}",
            run.stderr
        );
        assert_contains!(
            run.stderr,
            "Fix: set DATABASE_DIRECT_URL",
            "{action:?}: {}",
            run.stderr
        );
        assert_lacks!(run.stderr, &db.password);
        assert_lacks!(run.stdout, &db.password);
    }
    let json = migrate_env(&["run", "--json"], &off);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_contains!(
        doc["error"]["message"].as_str().unwrap(),
        "nothing was run",
        "{doc}"
    );
    assert_eq!(bouncer.logins(&db), 0, "something reached the pooler");
    let table = server().psql(&db.name, "SELECT to_regclass('_sqlx_migrations') IS NULL");
    assert_eq!(table, "t");
}

#[test]
fn with_a_direct_url_migrate_runs_and_reads_on_the_database_itself() {
    let db = server().create_database();
    server().log_ddl(&db);
    let bouncer = PgBouncer::start(server(), &[&db]);
    let pooled = bouncer.url(&db, "sslmode=require");
    let direct = db.url("sslmode=require&application_name=xtask-direct");
    let env = [
        ("DATABASE_URL", pooled.as_str()),
        ("DATABASE_POOL_MODE", "transaction"),
        ("DATABASE_DIRECT_URL", direct.as_str()),
    ];
    let run = migrate_env(&["run"], &env);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_contains!(run.stdout, "migrations applied in");
    let status = migrate_env(&["status", "--check"], &env);
    assert_eq!(status.code, 0, "{}{}", status.stdout, status.stderr);
    let again = migrate_env(&["run"], &env);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);

    let log = server().ddl_log(&db);
    assert!(!log.is_empty());
    assert!(
        log.iter().all(|c| c.application_name == "xtask-direct"),
        "{log:#?}"
    );
    let tables = log.iter().filter(|c| c.tag == "CREATE TABLE").count();
    let distinct: std::collections::BTreeSet<&str> = log
        .iter()
        .filter(|c| c.tag == "CREATE TABLE")
        .map(|c| c.object.as_str())
        .collect();
    assert_eq!(tables, distinct.len(), "a table was created twice");
    assert_eq!(bouncer.logins(&db), 0, "migrate connected to the pooler");
    for out in [&run, &status, &again] {
        assert_lacks!(out.stdout, &db.password);
        assert_lacks!(out.stderr, &db.password);
    }
}
