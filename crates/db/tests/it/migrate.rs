//! Migrations against real PostgreSQL: idempotence, drift, round trips, concurrency, faults,
//! lock timeouts and dry runs.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::*;
use intowork_db::migrate::{self, Limits, MIGRATOR, MigrateError, State, StepOutcome};
use intowork_testkit::{Flavor, PgServer, TestDb};
use sqlx::migrate::Migrator;
use sqlx::{Connection, Executor};
use xshell::{Shell, cmd};

fn server() -> &'static PgServer {
    PgServer::shared(Flavor::TlsOnly)
}

fn url(db: &TestDb) -> String {
    db.url("sslmode=require")
}

/// The embedded migrations copied to a temp dir, plus `extra` files, loaded at run time.
async fn migrator_with(
    extra: &[(&str, &str)],
    edit: Option<(&str, &str)>,
) -> (tempfile::TempDir, Migrator) {
    let dir = tempfile::tempdir().unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    for entry in std::fs::read_dir(source).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    for (name, sql) in extra {
        std::fs::write(dir.path().join(name), sql).unwrap();
    }
    if let Some((name, appended)) = edit {
        let path = dir.path().join(name);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(appended);
        std::fs::write(path, text).unwrap();
    }
    let migrator = Migrator::new(dir.path()).await.unwrap();
    (dir, migrator)
}

/// `pg_dump --schema-only` plus the bookkeeping rows, as the database's owner over TLS.
fn dump(db: &TestDb) -> String {
    let sh = Shell::new().unwrap();
    let conninfo = format!(
        "host=localhost port={} user={} dbname={} sslmode=require",
        db.port, db.user, db.name
    );
    let schema = cmd!(sh, "pg_dump --schema-only --no-owner {conninfo}")
        .env("PGPASSWORD", &db.password)
        .quiet()
        .read()
        .unwrap();
    let rows = cmd!(sh, "psql -X -A -t -d {conninfo} -c {BOOKKEEPING}")
        .env("PGPASSWORD", &db.password)
        .quiet()
        .ignore_stderr()
        .read()
        .unwrap_or_default();
    // pg_dump ≥ 15.14 brackets its output with a random `\restrict` key: not part of the schema.
    let schema: Vec<&str> = schema
        .lines()
        .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
        .collect();
    format!("{}\n-- rows\n{rows}", schema.join("\n"))
}

const BOOKKEEPING: &str = "SELECT version, description, installed_on, success, encode(checksum, 'hex'), execution_time FROM _sqlx_migrations ORDER BY version";

async fn status(db: &TestDb, migrator: &Migrator) -> migrate::Status {
    let s = settings(&url(db), &[]);
    let mut conn = intowork_db::connect(s.database()).await.unwrap().conn;
    migrate::status(&mut conn, migrator).await.unwrap()
}

fn versions(migrator: &Migrator) -> Vec<i64> {
    migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| m.version)
        .collect()
}

#[tokio::test]
async fn a_fresh_database_gets_everything_once() {
    let db = server().create_database();
    let s = settings(&url(&db), &[]);

    let st = status(&db, &MIGRATOR).await;
    assert!(
        !st.table_exists,
        "status must not create the migrations table"
    );
    assert_eq!(st.pending().len(), versions(&MIGRATOR).len());
    assert!(server().psql(&db.name, "SELECT to_regclass('_sqlx_migrations') IS NULL") == "t");

    let steps = migrate::run(s.database(), &MIGRATOR, Limits::default(), false)
        .await
        .unwrap();
    assert_eq!(
        steps.iter().map(|s| s.version).collect::<Vec<_>>(),
        versions(&MIGRATOR)
    );
    assert!(
        steps
            .iter()
            .all(|s| matches!(s.outcome, StepOutcome::Done { .. }))
    );

    let again = migrate::run(s.database(), &MIGRATOR, Limits::default(), false)
        .await
        .unwrap();
    assert!(again.is_empty(), "second run applies nothing");
    let st = status(&db, &MIGRATOR).await;
    assert!(st.up_to_date());
    assert!(
        st.entries
            .iter()
            .all(|e| matches!(e.state, State::Applied { .. }) && e.reversible)
    );
    // The real schema is there.
    assert_eq!(server().psql(&db.name, "SELECT count(*) FROM pg_tables WHERE tablename IN ('users','companies','job_offers','applications')"), "4");
}

#[tokio::test]
async fn an_edited_applied_migration_is_drift_and_run_refuses() {
    let db = server().create_database();
    let s = settings(&url(&db), &[]);
    migrate::run(s.database(), &MIGRATOR, Limits::default(), false)
        .await
        .unwrap();

    let (_dir, edited) = migrator_with(
        &[],
        Some(("20261127000002_companies.up.sql", "\n-- edited\n")),
    )
    .await;
    let st = status(&db, &edited).await;
    let drifted: Vec<_> = st
        .problems()
        .iter()
        .map(|e| (e.version, e.state.clone()))
        .collect();
    assert_eq!(drifted.len(), 1);
    assert_eq!(drifted[0].0, 20261127000002);
    assert!(matches!(drifted[0].1, State::Drifted { .. }));

    let before = dump(&db);
    let e = migrate::run(s.database(), &edited, Limits::default(), false)
        .await
        .unwrap_err();
    assert!(
        matches!(e, MigrateError::Drift { ref versions } if versions == &[20261127000002]),
        "{e}"
    );
    assert_contains!(
        e.to_string(),
        "add a new migration instead of editing an applied one",
        "{e}"
    );
    assert_eq!(dump(&db), before, "a refused run changes nothing");
}

#[tokio::test]
async fn revert_then_run_round_trips_to_the_same_schema() {
    let db = server().create_database();
    let s = settings(&url(&db), &[]);
    migrate::run(s.database(), &MIGRATOR, Limits::default(), false)
        .await
        .unwrap();
    let full = dump(&db);
    let schema_only = |d: &str| d.split("-- rows").next().unwrap().to_owned();

    let reverted = migrate::revert(
        s.database(),
        &MIGRATOR,
        Limits::default(),
        20261127000002,
        false,
    )
    .await
    .unwrap();
    let later: Vec<i64> = versions(&MIGRATOR)
        .into_iter()
        .filter(|&v| v > 20261127000002)
        .collect();
    assert_eq!(
        reverted.iter().map(|s| s.version).collect::<Vec<_>>(),
        later.iter().rev().copied().collect::<Vec<_>>(),
        "newest first"
    );
    let st = status(&db, &MIGRATOR).await;
    assert_eq!(
        st.pending().iter().map(|e| e.version).collect::<Vec<_>>(),
        later
    );

    migrate::run(s.database(), &MIGRATOR, Limits::default(), false)
        .await
        .unwrap();
    assert_eq!(schema_only(&dump(&db)), schema_only(&full));

    // Everything, then back again.
    migrate::revert(s.database(), &MIGRATOR, Limits::default(), 0, false)
        .await
        .unwrap();
    assert_eq!(server().psql(&db.name, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_sqlx_migrations'"), "0");
    migrate::run(s.database(), &MIGRATOR, Limits::default(), false)
        .await
        .unwrap();
    assert_eq!(schema_only(&dump(&db)), schema_only(&full));

    let e = migrate::revert(s.database(), &MIGRATOR, Limits::default(), 12345, false)
        .await
        .unwrap_err();
    assert!(
        matches!(e, MigrateError::UnknownTarget { target: 12345 }),
        "{e}"
    );
}

#[tokio::test]
async fn eight_migrators_at_once_apply_each_migration_exactly_once() {
    let db = server().create_database();
    let s = settings(&url(&db), &[]);
    let limits = Limits {
        lock_wait: Duration::from_secs(60),
        ..Limits::default()
    };
    let runs = (0..8).map(|_| {
        let s = s.clone();
        tokio::spawn(async move { migrate::run(s.database(), &MIGRATOR, limits, false).await })
    });
    let results = tokio::time::timeout(Duration::from_secs(90), futures_join(runs.collect()))
        .await
        .expect("no migrator hangs");
    let mut applied = Vec::new();
    for r in results {
        applied.extend(
            r.unwrap()
                .expect("every migrator succeeds")
                .into_iter()
                .map(|s| s.version),
        );
    }
    applied.sort_unstable();
    assert_eq!(
        applied,
        versions(&MIGRATOR),
        "each migration applied by exactly one migrator"
    );
    assert_eq!(
        server().psql(&db.name, "SELECT count(*) FROM _sqlx_migrations"),
        versions(&MIGRATOR).len().to_string()
    );
    assert_eq!(
        server().psql(
            &db.name,
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
        "0",
        "no lock left"
    );
}

async fn futures_join<T>(
    handles: Vec<tokio::task::JoinHandle<T>>,
) -> Vec<Result<T, tokio::task::JoinError>> {
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await);
    }
    out
}

/// Sleeps only while the table `hold_migrations` exists, so the same file completes later.
const SLOW: &str = "CREATE TABLE slow_marker (id int);
SELECT pg_sleep(CASE WHEN to_regclass('hold_migrations') IS NULL THEN 0 ELSE 60 END);
";

#[tokio::test]
async fn a_connection_killed_mid_migration_leaves_no_partial_schema_and_no_lock() {
    let db = server().create_database();
    let s = settings(&url(&db), &[]);
    let (_dir, slow) = migrator_with(
        &[
            ("29990101000000_slow.up.sql", SLOW),
            ("29990101000000_slow.down.sql", "DROP TABLE slow_marker;"),
        ],
        None,
    )
    .await;
    migrate::run(s.database(), &MIGRATOR, Limits::default(), false)
        .await
        .unwrap();
    server().psql(
        &db.name,
        &format!(
            "CREATE TABLE hold_migrations (); ALTER TABLE hold_migrations OWNER TO {}",
            db.user
        ),
    );

    let task = {
        let s = s.clone();
        let slow = Box::leak(Box::new(slow));
        tokio::spawn(
            async move { migrate::run(s.database(), slow, Limits::default(), false).await },
        )
    };
    let find = format!(
        "SELECT pid FROM pg_stat_activity WHERE datname = '{}' AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()",
        db.name
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let pid = loop {
        let pid = server().psql(&db.name, &find);
        if !pid.is_empty() {
            break pid;
        }
        assert!(
            Instant::now() < deadline,
            "the slow migration never started"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    server().psql("postgres", &format!("SELECT pg_terminate_backend({pid})"));
    let e = task.await.unwrap().unwrap_err();
    assert!(matches!(e, MigrateError::ConnectionLost(_)), "{e}");

    assert_eq!(
        server().psql(&db.name, "SELECT to_regclass('slow_marker') IS NULL"),
        "t",
        "no partial schema"
    );
    assert_eq!(
        server().psql(
            &db.name,
            "SELECT count(*) FROM _sqlx_migrations WHERE version = 29990101000000"
        ),
        "0"
    );
    assert_eq!(
        server().psql(
            &db.name,
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
        "0",
        "no leaked lock"
    );

    server().psql(&db.name, "DROP TABLE hold_migrations");
    let (_dir2, slow_again) = migrator_with(
        &[
            ("29990101000000_slow.up.sql", SLOW),
            ("29990101000000_slow.down.sql", "DROP TABLE slow_marker;"),
        ],
        None,
    )
    .await;
    let steps = tokio::time::timeout(
        Duration::from_secs(30),
        migrate::run(s.database(), &slow_again, Limits::default(), false),
    )
    .await
    .expect("the next run does not hang")
    .unwrap();
    assert_eq!(
        steps.iter().map(|s| s.version).collect::<Vec<_>>(),
        [29990101000000]
    );
}

#[tokio::test]
async fn a_migration_blocked_by_a_lock_fails_within_lock_timeout() {
    let db = server().create_database();
    let s = settings(&url(&db), &[]);
    migrate::run(s.database(), &MIGRATOR, Limits::default(), false)
        .await
        .unwrap();
    let (_dir, more) = migrator_with(
        &[(
            "29990101000001_users_phone.up.sql",
            "ALTER TABLE users ADD COLUMN phone TEXT;",
        )],
        None,
    )
    .await;

    // Another session holds the table while a migration wants it.
    let mut holder = intowork_db::connect(s.database()).await.unwrap().conn;
    let mut tx = holder.begin().await.unwrap();
    tx.execute("LOCK TABLE users IN ACCESS SHARE MODE")
        .await
        .unwrap();

    let limits = Limits {
        lock_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let start = Instant::now();
    let e = tokio::time::timeout(
        Duration::from_secs(30),
        migrate::run(s.database(), &more, limits, false),
    )
    .await
    .expect("does not hang")
    .unwrap_err();
    assert!(
        matches!(
            e,
            MigrateError::LockTimeout {
                version: 29990101000001,
                ..
            }
        ),
        "{e}"
    );
    assert_contains!(
        e.to_string(),
        "waited longer than lock_timeout (1s) for a lock held by another session",
        "{e}"
    );
    assert!(start.elapsed() < Duration::from_secs(10));
    tx.rollback().await.unwrap();
    assert_eq!(server().psql(&db.name, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'phone'"), "0");
}

#[tokio::test]
async fn dry_runs_change_nothing_byte_for_byte() {
    let db = server().create_database();
    let s = settings(&url(&db), &[]);

    // On a fresh database: nothing created, not even the bookkeeping table.
    let fresh = dump(&db);
    let steps = migrate::run(s.database(), &MIGRATOR, Limits::default(), true)
        .await
        .unwrap();
    assert_eq!(steps.len(), versions(&MIGRATOR).len());
    match &steps[0].outcome {
        StepOutcome::WouldDo { changes, .. } => {
            let shown: Vec<String> = changes.iter().map(ToString::to_string).collect();
            assert!(shown.contains(&"+ table users".to_owned()), "{shown:?}");
            assert!(
                shown.contains(&"+ index users_email_key".to_owned()),
                "{shown:?}"
            );
            assert!(shown.contains(&"+ type user_role".to_owned()), "{shown:?}");
        }
        other => panic!("expected a rehearsal, got {other:?}"),
    }
    assert_eq!(dump(&db), fresh);
    assert_eq!(
        server().psql(&db.name, "SELECT to_regclass('_sqlx_migrations') IS NULL"),
        "t"
    );

    // Half-way: a dry run of the rest and of a revert leave schema and bookkeeping as they were.
    migrate::run(s.database(), &MIGRATOR, Limits::default(), false)
        .await
        .unwrap();
    migrate::revert(
        s.database(),
        &MIGRATOR,
        Limits::default(),
        20261127000002,
        false,
    )
    .await
    .unwrap();
    let half = dump(&db);
    let later = versions(&MIGRATOR)
        .into_iter()
        .filter(|&v| v > 20261127000002)
        .count();
    let steps = migrate::run(s.database(), &MIGRATOR, Limits::default(), true)
        .await
        .unwrap();
    assert_eq!(steps.len(), later);
    let steps = migrate::revert(s.database(), &MIGRATOR, Limits::default(), 0, true)
        .await
        .unwrap();
    assert_eq!(steps.len(), 2, "the two applied migrations");
    assert_eq!(dump(&db), half);
}

#[tokio::test]
async fn no_transaction_migrations_are_reported_not_skipped() {
    let db = server().create_database();
    let s = settings(&url(&db), &[]);
    let (_dir, m) = migrator_with(
        &[
            ("29990101000002_idx.up.sql", "-- no-transaction\nCREATE INDEX CONCURRENTLY users_created_at_idx ON users (created_at);"),
            ("29990101000003_after.up.sql", "ALTER TABLE users ADD COLUMN note TEXT;"),
        ],
        None,
    )
    .await;
    let steps = migrate::run(s.database(), &m, Limits::default(), true)
        .await
        .unwrap();
    let outcomes: Vec<_> = steps
        .iter()
        .map(|s| (s.version, std::mem::discriminant(&s.outcome)))
        .collect();
    let embedded = versions(&MIGRATOR).len();
    assert_eq!(outcomes.len(), embedded + 2);
    // The first `-- no-transaction` file (20261206000001 builds its index CONCURRENTLY) stops
    // the rehearsal; everything after it is reported as not checked.
    let first = MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .position(|m| m.no_tx)
        .expect("the embedded set has a no-transaction migration");
    assert_eq!(steps[first].outcome, StepOutcome::NotDryRunnable);
    assert!(
        steps[..first]
            .iter()
            .all(|s| matches!(s.outcome, StepOutcome::WouldDo { .. }))
    );
    assert!(
        steps[first + 1..]
            .iter()
            .all(|s| s.outcome == StepOutcome::NotChecked)
    );
    // And for real, it applies.
    let applied = migrate::run(s.database(), &m, Limits::default(), false)
        .await
        .unwrap();
    assert_eq!(applied.len(), embedded + 2);
}
