//! Three replicas starting together on a database where one of them builds an index
//! CONCURRENTLY (the embedded `-- no-transaction` migration 20261206000001): all become ready
//! and the index is valid. The well-known deadlock: `CREATE INDEX CONCURRENTLY` waits for every
//! transaction whose snapshot is older than its own, and a replica blocked in
//! `pg_advisory_lock` (sqlx's migration lock) holds one while waiting for the builder's lock.
//! Here the build is held at its first wait (a writer on `applications`) until the other
//! replicas are waiting for the migration lock, so they are waiting across the whole build.

use std::time::{Duration, Instant};

use intowork_testkit::{Flavor, PgServer};
use sqlx::Connection;
use sqlx::migrate::Migrator;

use crate::common::env;
use crate::common::process::Backend;

/// The embedded set's concurrent index.
const CONCURRENT: i64 = 20261206000001;

#[test]
fn three_replicas_starting_together_all_become_ready_and_the_concurrent_index_is_valid() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let url = db.url("sslmode=require");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    // Everything before the concurrent index, as the previous release left it.
    let dir = tempfile::tempdir().unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    for entry in std::fs::read_dir(source).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let version: i64 = name.split('_').next().unwrap().parse().unwrap();
        if version < CONCURRENT {
            std::fs::copy(entry.path(), dir.path().join(&name)).unwrap();
        }
    }
    let settings = crate::common::settings(&db, &[]);
    rt.block_on(async {
        let earlier = Migrator::new(dir.path()).await.unwrap();
        intowork_db::migrate::run(settings.database(), &earlier, Default::default(), false)
            .await
            .unwrap();
    });

    // A request of the old release writing to applications, still open: the build waits for it.
    let mut writer = rt.block_on(sqlx::PgConnection::connect(&url)).unwrap();
    rt.block_on(async {
        sqlx::query("BEGIN").execute(&mut writer).await.unwrap();
        sqlx::query("LOCK TABLE applications IN ROW EXCLUSIVE MODE")
            .execute(&mut writer)
            .await
            .unwrap();
    });

    let vars = env(&db, &[("MIGRATION_LOCK_TIMEOUT_SECS", "60")]);
    let mut replicas: Vec<Backend> = (0..3)
        .map(|_| Backend::spawn(&["serve", "--port", "0"], &vars))
        .collect();

    // One replica's build waits for the writer; the other two are connected and waiting for
    // the migration lock.
    let waiting = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = '{}' AND query LIKE '%CREATE INDEX CONCURRENTLY%' AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
        db.name
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.psql(&db.name, &waiting) != "1" {
        assert!(
            Instant::now() < deadline,
            "no replica started the concurrent build"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    for r in &replicas {
        r.wait_for("database connected", Duration::from_secs(60));
    }
    std::thread::sleep(Duration::from_millis(500));
    rt.block_on(sqlx::query("COMMIT").execute(&mut writer))
        .unwrap();

    for r in &replicas {
        r.wait_for("application startup complete", Duration::from_secs(90));
    }
    let applied: Vec<usize> = replicas
        .iter()
        .map(|r| {
            let line = r.wait_for("migrations done", Duration::from_secs(1));
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            v["applied"].as_u64().unwrap() as usize
        })
        .collect();
    assert_eq!(
        applied.iter().sum::<usize>(),
        1,
        "exactly one replica built the index: {applied:?}"
    );
    assert_eq!(
        server.psql(
            &db.name,
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'applications_offer_created_idx'::regclass"
        ),
        "t",
        "the index is valid"
    );
    assert_eq!(
        server.psql(
            &db.name,
            &format!("SELECT success FROM _sqlx_migrations WHERE version = {CONCURRENT}")
        ),
        "t"
    );
    for r in &mut replicas {
        r.signal("TERM");
        assert_eq!(r.wait(Duration::from_secs(30)), Some(0));
    }
}
