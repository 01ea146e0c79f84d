//! Each bad migration of the lint's corpus, and its rewrite, applied by `cargo xtask migrate
//! run` on a real PostgreSQL server while a release keeps working beside it (a reader and a
//! writer in a loop, each statement its own transaction with a short lock_timeout). The harness
//! must see what each bad form does — per case, the harm the corpus names — and see none of
//! it for the rewrite:
//! - **blocked**: a statement of the release gave up on its lock_timeout. The table has 2,000
//!   rows, which any statement scans in milliseconds; what a production-sized table costs is
//!   put back by an event trigger that, at the end of each DDL command, sleeps 1 ms per row
//!   that command read (at most 2 s) — *while the command still holds its locks*. A command
//!   that scans or rewrites under a lock the release needs blocks it; one that scans under a
//!   lock that lets reads and writes go on (`VALIDATE`, `CONCURRENTLY`) does not; one that
//!   reads nothing (metadata only) costs nothing. (A control without the trigger, on a table
//!   of 600,000 rows, shows the same block for real.)
//!   For locks that are short but conflict with everything (`DROP INDEX`, `REINDEX`), and for
//!   a lock_timeout turned off, a transaction of the release left open (an INSERT not yet
//!   committed, as a slow request holds) makes the lock queue form: the migration waits
//!   behind it, and every later statement of the release behind the migration.
//! - **broken**: a statement of the release failed otherwise (a renamed or dropped column or
//!   table): contract.
//! - **crashed**: the migration failed (the deployment would crash-loop) — a migration that
//!   gave up on its own lock_timeout is the runner doing its job, not a crash.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use intowork_testkit::{Flavor, PgServer, TestDb};
use serde_json::Value;
use sqlx::Connection;

use crate::common::Run;
use crate::migrate_lint::{
    CORPUS, Case, Harm, Service, finding_for, migrations_with, rewrite_files_of, setup_files, xtask,
};

/// Where a migration runs: how long the release's statements wait for a lock, the runner's
/// lock_timeout, and how long a transaction of the release stays open (none: no lock queue).
#[derive(Debug, Clone, Copy)]
struct Around {
    service_wait: Duration,
    migration_wait_secs: &'static str,
    open_for: Option<Duration>,
}

impl Around {
    fn of(harm: Harm) -> Around {
        match harm {
            // The migration queues behind the open transaction (1.5 s), within its own
            // lock_timeout, and the release's statements behind the migration.
            Harm::Queues => Around {
                service_wait: Duration::from_millis(500),
                migration_wait_secs: "5",
                open_for: Some(Duration::from_millis(1500)),
            },
            // The release tolerates a wait of 2 s; the runner's lock_timeout (1 s) gives up
            // before that, a migration that turned it off waits out the whole 3 s.
            Harm::WaitsForever => Around {
                service_wait: Duration::from_secs(2),
                migration_wait_secs: "1",
                open_for: Some(Duration::from_secs(3)),
            },
            Harm::Blocks | Harm::Breaks | Harm::FailsAtStart => Around {
                service_wait: Duration::from_millis(500),
                migration_wait_secs: "1",
                open_for: None,
            },
        }
    }
}

/// What the release saw, and how the migration ended.
#[derive(Debug, Default)]
struct Seen {
    reads: u32,
    writes: u32,
    /// Statements that gave up after waiting their lock_timeout.
    blocked: Vec<String>,
    /// Statements that failed otherwise (SQLSTATE and message).
    broken: Vec<String>,
    /// The migration's failure, unless it gave up on its own lock_timeout.
    crashed: Option<String>,
}

impl Seen {
    fn saw(&self, harm: Harm) -> bool {
        match harm {
            Harm::Blocks | Harm::Queues | Harm::WaitsForever => !self.blocked.is_empty(),
            Harm::Breaks => !self.broken.is_empty(),
            Harm::FailsAtStart => self.crashed.is_some(),
        }
    }

    fn nothing(&self) -> bool {
        self.blocked.is_empty() && self.broken.is_empty() && self.crashed.is_none()
    }
}

/// Rows each seeded table gets: enough for the trigger's 2 s, few enough to seed in a blink.
const ROWS: u32 = 2_000;

/// The cost of rows read by a DDL command, put back while it holds its locks (see the top).
/// The backend's not-yet-reported table counters (`pg_stat_get_xact_*`) are read when the
/// command starts and when it ends: what it read is the difference (the counters are
/// reported only between queries, never during one).
const ROW_COST: &str = "
CREATE FUNCTION xtask_test_rows_read() RETURNS bigint LANGUAGE sql AS $$
  SELECT coalesce(sum(pg_stat_get_xact_tuples_returned(c.oid) + pg_stat_get_xact_tuples_fetched(c.oid)), 0)::bigint
    FROM pg_class c
   WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND c.relname <> '_sqlx_migrations'
$$;
CREATE FUNCTION xtask_test_command_starts() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('xtask_test.rows_before', xtask_test_rows_read()::text, false);
END $$;
CREATE FUNCTION xtask_test_row_cost() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE
  before bigint := coalesce(nullif(current_setting('xtask_test.rows_before', true), '')::bigint, 0);
  read bigint := xtask_test_rows_read() - before;
BEGIN
  IF read > 0 THEN
    PERFORM pg_sleep(least(2.0, read * 0.001));
  END IF;
END $$;
CREATE EVENT TRIGGER xtask_test_command_starts ON ddl_command_start EXECUTE FUNCTION xtask_test_command_starts();
CREATE EVENT TRIGGER xtask_test_row_cost ON ddl_command_end EXECUTE FUNCTION xtask_test_row_cost();";

/// A database with the repository's migrations, `setup` and `rows` offers applied, and (with
/// `row_cost`) the trigger above.
fn seeded(setup: &[(String, String)], rows: u32, row_cost: bool) -> TestDb {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let dir = migrations_with(setup);
    let url = db.url("sslmode=require");
    let run = xtask(
        &["run", "--source", dir.path().to_str().unwrap()],
        &[("DATABASE_URL", &url)],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    server.psql(
        &db.name,
        &format!(
            "INSERT INTO users (email, full_name, role) VALUES ('boss@intowork.example', 'Boss', 'employer');
             INSERT INTO companies (owner_id, name, slug) SELECT id, 'Acme', 'acme' FROM users;
             INSERT INTO job_offers (company_id, title, location, salary_min, salary_max)
                  SELECT c.id, 'Offer ' || g || ' ' || md5(g::text), 'City ' || (g % 50), 1000, 2000
                    FROM companies c, generate_series(1, {rows}) g;
             ANALYZE;"
        ),
    );
    if row_cost {
        server.psql(&db.name, ROW_COST);
    }
    db
}

/// The release at work until stopped; a statement waits at most `wait` for a lock.
fn start_service(
    url: String,
    service: Service,
    wait: Duration,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Seen> {
    std::thread::spawn(move || {
        runtime().block_on(async move {
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            let set = format!("SET lock_timeout = '{}ms'", wait.as_millis());
            sqlx::query(&set).execute(&mut conn).await.unwrap();
            let mut seen = Seen::default();
            while !stop.load(Ordering::Relaxed) {
                for (sql, is_write) in [(service.read, false), (service.write, true)] {
                    match sqlx::query(sql).execute(&mut conn).await {
                        Ok(_) if is_write => seen.writes += 1,
                        Ok(_) => seen.reads += 1,
                        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("55P03") => {
                            seen.blocked.push(sql.to_owned())
                        }
                        Err(sqlx::Error::Database(e)) => seen.broken.push(format!(
                            "{}: {}",
                            e.code().unwrap_or_default(),
                            e.message()
                        )),
                        Err(e) => panic!("the release's `{sql}` failed: {e}"),
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            seen
        })
    })
}

/// A transaction of the release left open for `hold` (its write done, not committed: what a
/// slow request holds); returns once the write is done.
fn hold_open(url: String, write: &'static str, hold: Duration) -> std::thread::JoinHandle<()> {
    let (ready, wait) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        runtime().block_on(async move {
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            let mut tx = conn.begin().await.unwrap();
            sqlx::query(write).execute(&mut *tx).await.unwrap();
            ready.send(()).unwrap();
            tokio::time::sleep(hold).await;
            tx.commit().await.unwrap();
        })
    });
    wait.recv().expect("the open transaction wrote");
    holder
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Applies `dir` with `migrate run` while `service` works, in the situation `around` names.
fn run_beside(db: &TestDb, dir: &Path, service: Service, around: Around) -> (Run, Seen) {
    let url = db.url("sslmode=require");
    let stop = Arc::new(AtomicBool::new(false));
    let worker = start_service(url.clone(), service, around.service_wait, stop.clone());
    std::thread::sleep(Duration::from_millis(200));
    let holder = around
        .open_for
        .map(|hold| hold_open(url.clone(), service.write, hold));
    let run = xtask(
        &["run", "--source", dir.to_str().unwrap()],
        &[
            ("DATABASE_URL", &url),
            ("MIGRATION_LOCK_TIMEOUT_SECS", around.migration_wait_secs),
        ],
    );
    if let Some(holder) = holder {
        holder.join().expect("the open transaction commits");
    }
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let mut seen = worker.join().expect("the release's thread ends");
    let gave_up = run.stderr.contains("waited longer than lock_timeout");
    if run.code != 0 && !gave_up {
        seen.crashed = Some(format!("exit {}: {}{}", run.code, run.stdout, run.stderr));
    }
    (run, seen)
}

/// The bad form, beside the release it hurts.
fn bad(case: &Case) -> Seen {
    let setup = setup_files(case);
    let db = seeded(&setup, ROWS, true);
    let mut files = setup.clone();
    files.push(("29990101000001_bad.up.sql".to_owned(), case.bad.to_owned()));
    let dir = migrations_with(&files);
    run_beside(&db, dir.path(), case.service, Around::of(case.harm)).1
}

/// The rewrite: this release's files beside the current release, then the next release's
/// files beside the next one. What each phase saw, with the migration's exit code.
fn rewrite(case: &Case, finding: &Value) -> Vec<(Run, Seen)> {
    let setup = setup_files(case);
    let db = seeded(&setup, ROWS, true);
    let mut files = setup.clone();
    let mut phases = Vec::new();
    for (release, service) in [("this", case.service), ("next", case.next)] {
        let steps = rewrite_files_of(finding, Some(release));
        if steps.is_empty() {
            continue;
        }
        files.extend(steps);
        let dir = migrations_with(&files);
        let (run, seen) = run_beside(&db, dir.path(), service, Around::of(case.harm));
        phases.push((run, seen));
    }
    phases
}

#[test]
fn each_bad_form_is_caught_beside_a_working_release_and_its_rewrite_is_not() {
    for case in CORPUS {
        let finding = finding_for(case);
        let seen = bad(case);
        assert!(
            seen.saw(case.harm),
            "{} ({:?}): the harness must see the bad form's harm:\n{}\n{seen:#?}",
            case.rule,
            case.harm,
            case.bad
        );
        for (run, seen) in rewrite(case, &finding) {
            let code = run.code;
            assert!(
                seen.nothing() && seen.reads > 0 && seen.writes > 0,
                "{}: the rewrite neither blocks nor breaks the release, and applies:\n{}\n{seen:#?}\n{}",
                case.rule,
                case.bad,
                run.stdout
            );
            // Only a migration that gave up on the runner's lock_timeout may end non-zero.
            assert!(
                code == 0 || case.harm == Harm::WaitsForever,
                "{}: exit {code}",
                case.rule
            );
        }
    }
}

#[test]
fn a_production_sized_table_blocks_for_real_without_the_row_cost() {
    // The control of the row cost: the bad CREATE INDEX itself, on a table large enough that
    // building the index takes longer than the release waits for a lock.
    let case = &CORPUS[0];
    let db = seeded(&[], 600_000, false);
    let dir = migrations_with(&[("29990101000001_bad.up.sql".to_owned(), case.bad.to_owned())]);
    // A release that waits at most 50 ms for a lock: sorting 600 000 titles takes several
    // times that on any machine, while 500 ms (the corpus's wait) was within reach of an
    // idle 2-core machine's parallel index build — the control must not depend on the load.
    let around = Around {
        service_wait: Duration::from_millis(50),
        ..Around::of(Harm::Blocks)
    };
    let (run, seen) = run_beside(&db, dir.path(), case.service, around);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        seen.blocked.iter().any(|s| s == case.service.write),
        "the plain CREATE INDEX blocked the writer: {seen:?}"
    );
}
