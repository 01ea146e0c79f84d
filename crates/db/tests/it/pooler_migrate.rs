//! Migrations never go through a transaction pooler (issue 27): pointed at one without a
//! direct route they are refused before anything is sent; with `DATABASE_DIRECT_URL` they
//! run on the database itself, once, however many replicas start together. Against the
//! harness's real PgBouncer in transaction mode.

use intowork_db::migrate::{self, Limits, MIGRATOR, MigrateError};
use intowork_testkit::{Flavor, PgBouncer, PgServer, TestDb};

use crate::common::settings;

fn server() -> &'static PgServer {
    PgServer::shared(Flavor::TlsOnly)
}

/// What PgBouncer's `SHOW STATS` counted for `db`: (transactions, queries).
fn pooled_work(bouncer: &PgBouncer, db: &TestDb) -> (u64, u64) {
    let stats = bouncer.show("SHOW STATS");
    let row = stats.iter().find(|r| r["database"] == db.name);
    let count = |key: &str| row.map_or(0, |r| r[key].parse().unwrap());
    (count("total_xact_count"), count("total_query_count"))
}

#[tokio::test]
async fn a_migration_pointed_at_a_transaction_pooler_is_refused_before_anything_is_sent() {
    let db = server().create_database();
    let bouncer = PgBouncer::start(server(), &[&db]);
    let pooled = bouncer.url(&db, "sslmode=require");
    // Start-up migrations off, so that the configuration itself lets the service run.
    let s = settings(
        &pooled,
        &[
            ("DATABASE_POOL_MODE", "transaction"),
            ("MIGRATE_ON_START", "false"),
        ],
    );
    let refusals = [
        migrate::run(s.database(), &MIGRATOR, Limits::default(), false)
            .await
            .unwrap_err(),
        migrate::run(s.database(), &MIGRATOR, Limits::default(), true)
            .await
            .unwrap_err(),
        migrate::revert(s.database(), &MIGRATOR, Limits::default(), 0, false)
            .await
            .unwrap_err(),
        migrate::connect(s.database()).await.unwrap_err(),
    ];
    for err in refusals {
        assert!(matches!(err, MigrateError::Route(_)), "{err:?}");
        let text = err.to_string();
        for said in [
            "refusing to migrate through the transaction pooler",
            &format!("localhost:{}/{}", bouncer.port(), db.name),
            "session advisory lock",
            "SET lock_timeout/statement_timeout",
            "nothing was run",
            "Fix: set DATABASE_DIRECT_URL",
        ] {
            assert_contains!(text, said, "`{said}` missing from: {text}");
        }
        assert_lacks!(text, &db.password);
    }
    // Nothing reached the pooler, let alone the database.
    assert_eq!(bouncer.logins(&db), 0, "a client logged in to PgBouncer");
    assert_eq!(pooled_work(&bouncer, &db), (0, 0));
    let table = server().psql(&db.name, "SELECT to_regclass('_sqlx_migrations') IS NULL");
    assert_eq!(table, "t", "the bookkeeping table exists: something ran");
}

/// Three replicas' migrators start together, their `DATABASE_URL` the pooler: every DDL
/// command runs once, in a session opened with the direct URL's application name, and the
/// pooler sees no query at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_direct_url_migrations_run_on_the_database_itself_exactly_once() {
    let db = server().create_database();
    server().log_ddl(&db);
    let bouncer = PgBouncer::start(server(), &[&db]);
    let pooled = bouncer.url(&db, "sslmode=require&application_name=via-pgbouncer");
    let direct = db.url("sslmode=require&application_name=direct-migrations");
    let s = settings(
        &pooled,
        &[
            ("DATABASE_POOL_MODE", "transaction"),
            ("DATABASE_DIRECT_URL", &direct),
        ],
    );
    let replicas = (0..3).map(|_| {
        let db = s.database().clone();
        tokio::spawn(async move { migrate::run(&db, &MIGRATOR, Limits::default(), false).await })
    });
    let mut applied = Vec::new();
    for replica in replicas {
        applied.push(replica.await.unwrap().unwrap().len());
    }
    let ups = MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .count();
    applied.sort_unstable();
    assert_eq!(applied, [0, 0, ups], "one replica applies everything");

    let log = server().ddl_log(&db);
    assert!(!log.is_empty(), "the event trigger saw the migrations");
    for command in &log {
        assert_eq!(
            command.application_name, "direct-migrations",
            "{command:?} ran outside the direct connection"
        );
    }
    let mut objects: Vec<(&str, &str)> = log
        .iter()
        .filter(|c| c.tag.starts_with("CREATE") && !c.object.is_empty())
        .map(|c| (c.tag.as_str(), c.object.as_str()))
        .collect();
    let created = objects.len();
    objects.sort_unstable();
    objects.dedup();
    assert_eq!(
        objects.len(),
        created,
        "an object was created twice: {log:#?}"
    );
    let rows = server().psql(&db.name, "SELECT count(*) FROM _sqlx_migrations");
    assert_eq!(rows, ups.to_string());
    assert_eq!(
        pooled_work(&bouncer, &db),
        (0, 0),
        "a migration went through the pooler"
    );
}
