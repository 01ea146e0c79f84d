//! Why the migration lock is polled with `pg_try_advisory_lock` and never waited for with
//! `pg_advisory_lock` (sqlx's way): a replica blocked in `pg_advisory_lock` keeps a snapshot
//! while it waits, `CREATE INDEX CONCURRENTLY` waits for every older snapshot, and each waits
//! for the other. This control shows the deadlock on a real server; the backend's
//! `replicas_migrate` test shows three replicas with our lock all becoming ready.

use std::time::{Duration, Instant};

use crate::common::*;
use intowork_config::Settings;
use intowork_db::migrate::{self, Limits, MIGRATOR};
use intowork_testkit::{Flavor, PgServer};
use sqlx::migrate::Migrator;
use sqlx::{Connection, PgConnection};

const CONCURRENT: i64 = 20261206000001;

async fn wait_until(server: &PgServer, db: &str, sql: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.psql(db, sql) != "t" {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A database migrated up to (not including) the concurrent index, and a writer holding a
/// ROW EXCLUSIVE lock on `applications` in an open transaction: a concurrent build waits for it.
async fn before_the_build() -> (
    &'static PgServer,
    intowork_testkit::TestDb,
    Settings,
    PgConnection,
) {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let url = db.url("sslmode=require");
    let s = settings(&url, &[]);
    let dir = tempfile::tempdir().unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    for entry in std::fs::read_dir(source).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if name.split('_').next().unwrap().parse::<i64>().unwrap() < CONCURRENT {
            std::fs::copy(entry.path(), dir.path().join(&name)).unwrap();
        }
    }
    let earlier = Migrator::new(dir.path()).await.unwrap();
    migrate::run(s.database(), &earlier, Limits::default(), false)
        .await
        .unwrap();

    let mut writer = PgConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut writer).await.unwrap();
    sqlx::query("LOCK TABLE applications IN ROW EXCLUSIVE MODE")
        .execute(&mut writer)
        .await
        .unwrap();
    (server, db, s, writer)
}

#[tokio::test]
async fn a_replica_blocked_in_pg_advisory_lock_deadlocks_a_concurrent_build() {
    let (server, db, s, mut writer) = before_the_build().await;
    let url = db.url("sslmode=require");
    // The build waits for the writer, so a second migrator arrives in the middle of it.
    let limits = Limits {
        lock_timeout: Duration::from_secs(60),
        ..Limits::default()
    };
    let builder = {
        let s = s.clone();
        tokio::spawn(async move { migrate::run(s.database(), &MIGRATOR, limits, false).await })
    };
    let build = format!(
        "SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE '%CREATE INDEX CONCURRENTLY%' AND wait_event_type = 'Lock' AND pid <> pg_backend_pid() AND datname = '{}'",
        db.name
    );
    wait_until(server, &db.name, &build, "the build never started").await;

    // sqlx's migrator: wait for the lock the builder holds, inside one statement.
    let key = server.psql(&db.name, "SELECT (classid::bigint << 32) | objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())");
    let blocked = {
        let url = url.clone();
        tokio::spawn(async move {
            let mut conn = PgConnection::connect(&url).await.unwrap();
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(key.parse::<i64>().unwrap())
                .execute(&mut conn)
                .await
                .map(|_| ())
        })
    };
    let advisory = format!(
        "SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event = 'advisory' AND datname = '{}'",
        db.name
    );
    wait_until(server, &db.name, &advisory, "sqlx's migrator never waited").await;
    sqlx::query("COMMIT").execute(&mut writer).await.unwrap();

    let (built, waited) = tokio::time::timeout(Duration::from_secs(60), async {
        (builder.await.unwrap(), blocked.await.unwrap())
    })
    .await
    .expect("PostgreSQL's deadlock detector ends it");
    let deadlock = |e: &str| e.contains("deadlock detected");
    assert!(
        built.as_ref().is_err_and(|e| deadlock(&all_forms(e)))
            || waited.as_ref().is_err_and(|e| deadlock(&e.to_string())),
        "one side was killed as a deadlock: build {built:?}, sqlx's lock {waited:?}"
    );
}

#[tokio::test]
async fn after_a_concurrent_build_timed_out_the_next_start_drops_the_invalid_index_and_builds_it() {
    let (server, db, s, mut writer) = before_the_build().await;
    let index = "SELECT count(*) FROM pg_class WHERE relname = 'applications_offer_created_idx'";
    let valid = "SELECT indisvalid FROM pg_index WHERE indexrelid = 'applications_offer_created_idx'::regclass";
    let limits = Limits {
        lock_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let e = migrate::run(s.database(), &MIGRATOR, limits, false)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            migrate::MigrateError::LockTimeout {
                version: CONCURRENT,
                ..
            }
        ),
        "{e}"
    );
    // Left INVALID: dropping it waits for the same writer, so that is the next start's job.
    assert_eq!(server.psql(&db.name, index), "1");
    assert_eq!(server.psql(&db.name, valid), "f");
    sqlx::query("COMMIT").execute(&mut writer).await.unwrap();

    // The next start drops the invalid index, then builds it (without that, the build fails
    // on "relation already exists").

    let steps = migrate::run(s.database(), &MIGRATOR, limits, false)
        .await
        .unwrap();
    assert_eq!(
        steps.iter().map(|s| s.version).collect::<Vec<_>>(),
        [CONCURRENT]
    );
    assert_eq!(server.psql(&db.name, valid), "t");
}
