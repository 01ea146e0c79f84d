//! `cargo xtask migrate lint` on a corpus of bad migrations (one or more per rule): each gives
//! its finding and rewrite; the rewrite, written as the lint printed it, passes the lint and,
//! applied on a real PostgreSQL server under a short lock_timeout while a reader/writer keeps
//! working on the table, never blocks it. A control shows the harness catches a migration
//! that does block. Also: the repository's own migrations, exceptions, --json, exit codes.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use intowork_testkit::{Flavor, PgServer, TestDb};
use serde_json::Value;
use sqlx::Connection;
use xshell::{Shell, cmd};

use crate::common::{Run, root};

/// A bad migration, the rule it must trip, and what the service keeps doing meanwhile.
struct Case {
    rule: &'static str,
    /// An earlier migration the case needs (a table to drop), if any.
    setup: Option<&'static str>,
    bad: &'static str,
    /// The writer of the release that runs beside the rewrite (`WRITE` unless the rewrite
    /// removes what it writes).
    write: &'static str,
}

/// The reader's and the writer's statements: the current release's code on `job_offers`
/// (it reads and writes only what every rewrite keeps).
const READ: &str =
    "SELECT count(*) FROM (SELECT id, title FROM job_offers ORDER BY id DESC LIMIT 50) s";
const WRITE: &str = "INSERT INTO job_offers (company_id, title, location, salary_min, salary_max) SELECT id, 'w-' || gen_random_uuid(), 'Paris', 1000, 2000 FROM companies LIMIT 1";
/// The writer of a release that no longer uses `location` (the one that ships before its drop).
const WRITE_NO_LOCATION: &str = "INSERT INTO job_offers (company_id, title) SELECT id, 'w-' || gen_random_uuid() FROM companies LIMIT 1";

/// An index the cases that drop or rebuild one start from.
const LOCATION_INDEX: &str =
    "-- no-transaction\nCREATE INDEX CONCURRENTLY job_offers_location_idx ON job_offers (location);";
/// A table without a primary key yet, with rows, for the cases that add one.
const OFFER_VIEWS: &str = "CREATE TABLE offer_views (offer_id bigint NOT NULL, viewer text NOT NULL, seen_at timestamptz NOT NULL DEFAULT now());\nINSERT INTO offer_views (offer_id, viewer) SELECT g, 'viewer ' || g FROM generate_series(1, 2000) g;";

const CORPUS: &[Case] = &[
    Case {
        rule: "require-concurrent-index-creation",
        setup: None,
        bad: "CREATE INDEX job_offers_title_idx ON job_offers (title);",
        write: WRITE,
    },
    Case {
        rule: "require-concurrent-index-deletion",
        setup: Some(LOCATION_INDEX),
        bad: "DROP INDEX job_offers_location_idx;",
        write: WRITE,
    },
    Case {
        rule: "require-concurrent-reindex",
        setup: Some(LOCATION_INDEX),
        bad: "REINDEX INDEX job_offers_location_idx;",
        write: WRITE,
    },
    Case {
        rule: "adding-serial-primary-key-field",
        setup: Some(OFFER_VIEWS),
        bad: "ALTER TABLE offer_views ADD PRIMARY KEY (offer_id);",
        write: WRITE,
    },
    Case {
        rule: "adding-serial-primary-key-field",
        setup: Some(OFFER_VIEWS),
        bad: "ALTER TABLE offer_views ADD COLUMN id bigserial PRIMARY KEY;",
        write: WRITE,
    },
    Case {
        rule: "disallowed-unique-constraint",
        setup: None,
        bad: "ALTER TABLE job_offers ADD CONSTRAINT job_offers_title_key UNIQUE (title);",
        write: WRITE,
    },
    Case {
        rule: "adding-field-with-default",
        setup: None,
        bad: "ALTER TABLE job_offers ADD COLUMN token uuid DEFAULT gen_random_uuid();",
        write: WRITE,
    },
    Case {
        rule: "adding-required-field",
        setup: None,
        bad: "ALTER TABLE job_offers ADD COLUMN views bigint NOT NULL;",
        write: WRITE,
    },
    Case {
        rule: "changing-column-type",
        setup: None,
        bad: "ALTER TABLE job_offers ALTER COLUMN salary_min TYPE bigint;",
        write: WRITE,
    },
    Case {
        rule: "adding-foreign-key-constraint",
        setup: None,
        bad: "ALTER TABLE job_offers ADD CONSTRAINT job_offers_company_fk FOREIGN KEY (company_id) REFERENCES companies (id);",
        write: WRITE,
    },
    Case {
        rule: "adding-foreign-key-constraint",
        setup: None,
        bad: "ALTER TABLE job_offers ADD COLUMN reviewer_id bigint REFERENCES users (id);",
        write: WRITE,
    },
    Case {
        rule: "constraint-missing-not-valid",
        setup: None,
        bad: "ALTER TABLE job_offers ADD CONSTRAINT job_offers_salary_cap CHECK (salary_max < 10000000);",
        write: WRITE,
    },
    Case {
        rule: "constraint-missing-not-valid",
        setup: None,
        bad: "ALTER TABLE job_offers ADD CONSTRAINT job_offers_title_short CHECK (length(title) < 500) NOT VALID;\nALTER TABLE job_offers VALIDATE CONSTRAINT job_offers_title_short;",
        write: WRITE,
    },
    Case {
        rule: "adding-not-nullable-field",
        setup: None,
        bad: "ALTER TABLE job_offers ALTER COLUMN location SET NOT NULL;",
        write: WRITE,
    },
    Case {
        rule: "renaming-column",
        setup: None,
        bad: "ALTER TABLE job_offers RENAME COLUMN location TO city;",
        write: WRITE,
    },
    Case {
        rule: "renaming-table",
        setup: None,
        bad: "ALTER TABLE job_offers RENAME TO offers;",
        write: WRITE,
    },
    Case {
        rule: "ban-drop-column",
        setup: None,
        bad: "ALTER TABLE job_offers DROP COLUMN location;",
        write: WRITE_NO_LOCATION,
    },
    Case {
        rule: "ban-drop-table",
        setup: Some("CREATE TABLE legacy_notes (id bigint PRIMARY KEY, body text);"),
        bad: "DROP TABLE legacy_notes;",
        write: WRITE,
    },
    Case {
        rule: "require-lock-timeout",
        setup: None,
        bad: "SET lock_timeout = 0;\nALTER TABLE job_offers ADD COLUMN note text;",
        write: WRITE,
    },
    Case {
        rule: "no-transaction-required",
        setup: None,
        bad: "CREATE INDEX CONCURRENTLY job_offers_location_idx ON job_offers (location);",
        write: WRITE,
    },
    Case {
        rule: "no-transaction-one-statement",
        setup: None,
        bad: "-- no-transaction\nCREATE INDEX CONCURRENTLY job_offers_location_idx ON job_offers (location);\nCREATE INDEX CONCURRENTLY job_offers_remote_idx ON job_offers (remote);",
        write: WRITE,
    },
];

/// `xtask migrate ARGS` with exactly `env` (plus a test secret).
fn xtask(args: &[&str], env: &[(&str, &str)]) -> Run {
    crate::migrate_cli::migrate_env(args, env)
}

fn lint(dir: &Path) -> (Run, Value) {
    let run = xtask(&["lint", "--json", "--source", dir.to_str().unwrap()], &[]);
    let doc = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("one JSON document ({e}):\n{}\n{}", run.stdout, run.stderr));
    (run, doc)
}

/// The repository's migrations plus `extra` files, in a temporary directory.
fn migrations_with(extra: &[(String, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(root().join("migrations")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    for (name, sql) in extra {
        std::fs::write(dir.path().join(name), sql).unwrap();
    }
    dir
}

fn setup_files(case: &Case) -> Vec<(String, String)> {
    case.setup
        .map(|sql| vec![("29990101000000_setup.up.sql".to_owned(), sql.to_owned())])
        .unwrap_or_default()
}

/// The findings the lint reports for the file named `file`.
fn findings_of<'a>(doc: &'a Value, file: &str) -> &'a Vec<Value> {
    doc["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["file"].as_str().unwrap().ends_with(file))
        .unwrap_or_else(|| panic!("no {file} in {doc:#}"))["findings"]
        .as_array()
        .unwrap()
}

/// The rewrite's migration files, named to run after the setup, in the lint's order.
fn rewrite_files(finding: &Value) -> Vec<(String, String)> {
    finding["rewrite"]["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(n, m)| {
            (
                format!("2999010100001{n}_rewrite_{n}.up.sql"),
                m["sql"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Lints the bad migration: the expected rule fires with everything a finding must carry,
/// and exit 1. Returns the finding.
fn finding_for(case: &Case) -> Value {
    let mut files = setup_files(case);
    files.push(("29990101000001_bad.up.sql".to_owned(), case.bad.to_owned()));
    let dir = migrations_with(&files);
    let (run, doc) = lint(dir.path());
    assert_eq!(
        run.code, 1,
        "{}: a finding fails the lint\n{}",
        case.rule, run.stdout
    );
    let found = findings_of(&doc, "29990101000001_bad.up.sql");
    let f = found
        .iter()
        .find(|f| f["rule"] == case.rule)
        .unwrap_or_else(|| panic!("{} did not fire on {:?}: {found:#?}", case.rule, case.bad))
        .clone();
    assert!(f["line"].as_u64().unwrap() >= 1, "{f}");
    assert!(
        ["locking", "contract"].contains(&f["kind"].as_str().unwrap()),
        "{f}"
    );
    assert!(
        f["impact"].as_str().unwrap().len() > 40,
        "one sentence of impact: {f}"
    );
    assert!(
        !f["rewrite"]["migrations"].as_array().unwrap().is_empty(),
        "{f}"
    );
    assert!(f["excepted"].is_null());
    f
}

#[test]
fn every_rule_gives_its_finding_and_a_rewrite_that_passes_the_lint() {
    let mut rules_seen: Vec<&str> = Vec::new();
    for case in CORPUS {
        let f = finding_for(case);
        let mut files = setup_files(case);
        files.extend(rewrite_files(&f));
        let dir = migrations_with(&files);
        let (run, doc) = lint(dir.path());
        assert_eq!(
            (run.code, doc["failing"].as_u64()),
            (0, Some(0)),
            "{}: the rewrite passes the lint:\n{files:#?}\n{}",
            case.rule,
            run.stdout
        );
        rules_seen.push(case.rule);
    }
    // The text form carries the same verdict, with file:line.
    let dir = migrations_with(&[("29990101000001_bad.up.sql".into(), CORPUS[0].bad.into())]);
    let run = xtask(&["lint", "--source", dir.path().to_str().unwrap()], &[]);
    assert_eq!(run.code, 1);
    let label = dir.path().display().to_string();
    assert!(
        run.stdout.contains(&format!("{label}/29990101000001_bad.up.sql:1: require-concurrent-index-creation [locking]"))
            && run.stdout.contains("in production: builds the index under a SHARE lock on job_offers")
            && run.stdout.contains("-- no-transaction\n      CREATE INDEX CONCURRENTLY job_offers_title_idx ON job_offers (title);"),
        "{}",
        run.stdout
    );
    // Every rule the lint knows has a case here, and a line in the README.
    let readme = crate::common::read("README.md");
    let rules = rules();
    assert!(rules.len() >= 15, "{rules:?}");
    for rule in &rules {
        assert!(
            rules_seen.contains(&rule.as_str()),
            "no corpus case for {rule}"
        );
        assert!(
            readme.contains(&format!("`{rule}`")),
            "README.md does not document {rule}"
        );
    }
}

/// The lint's rules, as it lists them when an exception names one it does not know.
fn rules() -> Vec<String> {
    let sql = "-- migrate-lint: allow no-such-rule — asking for the list\nSELECT 1;";
    let dir = migrations_with(&[("29990101000001_x.up.sql".into(), sql.into())]);
    let (_, doc) = lint(dir.path());
    let problems = doc["migrations"].as_array().unwrap().last().unwrap()["problems"].clone();
    let message = problems[0]["message"].as_str().unwrap().to_owned();
    let list = message.split("the rules are: ").nth(1).unwrap();
    list.split(", ").map(str::to_owned).collect()
}

/// What the reader/writer saw while a migration ran.
#[derive(Debug, Default)]
struct Tally {
    reads: u32,
    writes: u32,
    /// Statements that gave up after waiting `BUSY_LOCK_TIMEOUT` for a lock.
    blocked: Vec<String>,
}

/// How long the service's own statements wait for a lock before counting as blocked.
const BUSY_LOCK_TIMEOUT: &str = "500ms";

/// The current release at work: reads and writes `job_offers` in a loop, each statement its
/// own transaction with a short lock_timeout, until stopped.
fn start_service(
    url: String,
    write: &'static str,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Tally> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query(&format!("SET lock_timeout = '{BUSY_LOCK_TIMEOUT}'"))
                .execute(&mut conn)
                .await
                .unwrap();
            let mut tally = Tally::default();
            while !stop.load(Ordering::Relaxed) {
                for (sql, is_write) in [(READ, false), (write, true)] {
                    match sqlx::query(sql).execute(&mut conn).await {
                        Ok(_) if is_write => tally.writes += 1,
                        Ok(_) => tally.reads += 1,
                        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("55P03") => {
                            tally.blocked.push(sql.to_owned())
                        }
                        Err(e) => panic!("the service's `{sql}` failed: {e}"),
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            tally
        })
    })
}

/// A database with the repository's migrations and `setup` applied and `rows` offers, for
/// `run_under_load`.
fn seeded(setup: &[(String, String)], rows: u32) -> (&'static PgServer, TestDb, tempfile::TempDir) {
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
             ANALYZE job_offers;"
        ),
    );
    (server, db, dir)
}

/// Applies `dir` with `migrate run` (lock_timeout 1 s) while the service works; returns the
/// run and what the service saw.
fn run_under_load(db: &TestDb, dir: &Path, write: &'static str) -> (Run, Tally) {
    let url = db.url("sslmode=require");
    let stop = Arc::new(AtomicBool::new(false));
    let service = start_service(url.clone(), write, stop.clone());
    std::thread::sleep(Duration::from_millis(200));
    let run = xtask(
        &["run", "--source", dir.to_str().unwrap()],
        &[("DATABASE_URL", &url), ("MIGRATION_LOCK_TIMEOUT_SECS", "1")],
    );
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    (run, service.join().expect("the service thread ends"))
}

#[test]
fn each_rewrite_runs_on_real_postgresql_without_blocking_a_reader_or_writer() {
    for case in CORPUS {
        let f = finding_for(case);
        let setup = setup_files(case);
        let (_server, db, _applied) = seeded(&setup, 20_000);
        let mut files = setup.clone();
        files.extend(rewrite_files(&f));
        let dir = migrations_with(&files);
        let (run, tally) = run_under_load(&db, dir.path(), case.write);
        assert_eq!(
            run.code, 0,
            "{}: the rewrite applies under a 1 s lock_timeout while the service works:\n{files:#?}\n{}{}",
            case.rule, run.stdout, run.stderr
        );
        assert!(
            tally.blocked.is_empty() && tally.reads > 0 && tally.writes > 0,
            "{}: the service was never blocked for {BUSY_LOCK_TIMEOUT}: {tally:?}",
            case.rule
        );
    }
}

#[test]
fn the_harness_catches_a_migration_that_blocks_writers() {
    // The control: the bad CREATE INDEX itself, on a table large enough that building the
    // index takes longer than the service waits for a lock.
    let case = &CORPUS[0];
    let (_server, db, _applied) = seeded(&[], 600_000);
    let dir = migrations_with(&[("29990101000001_bad.up.sql".to_owned(), case.bad.to_owned())]);
    let (run, tally) = run_under_load(&db, dir.path(), WRITE);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        tally.blocked.iter().any(|s| s == WRITE),
        "the plain CREATE INDEX blocked the writer for {BUSY_LOCK_TIMEOUT}: {tally:?}"
    );
}

#[test]
fn the_repositorys_migrations_pass_without_exceptions() {
    let run = xtask(&["lint", "--json"], &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    for m in doc["migrations"].as_array().unwrap() {
        // One file shipped before the lint (an index on a then-new table): it cannot be edited
        // (applied checksums), so its review is pinned by checksum in the lint, not written
        // in the file. Nothing else may carry a finding.
        if m["version"] == 20261201000002_i64 {
            let findings = m["findings"].as_array().unwrap();
            assert_eq!(findings.len(), 1, "{m}");
            assert_eq!(
                findings[0]["rule"], "require-concurrent-index-creation",
                "{m}"
            );
            let reason = findings[0]["excepted"].as_str().unwrap_or_default();
            assert!(
                reason.starts_with("(reviewed at release, by checksum)"),
                "{m}"
            );
        } else {
            assert_eq!(m["findings"], Value::Array(vec![]), "{m}");
        }
        assert_eq!(m["problems"], Value::Array(vec![]), "{m}");
        assert_eq!(m["class"], "expand", "{m}");
    }
    let text = std::fs::read_dir(root().join("migrations"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect::<String>();
    assert!(
        !text.contains("migrate-lint:"),
        "no exception in the repository's migrations"
    );
}

#[test]
fn a_released_migration_edited_since_is_refused() {
    let path = "20261201000002_applications_by_candidate.up.sql";
    let released = std::fs::read_to_string(root().join("migrations").join(path)).unwrap();
    // Even the reviewed exception a new file would carry changes the checksum.
    let edited = format!(
        "-- migrate-lint: allow require-concurrent-index-creation — small table\n{released}"
    );
    let dir = migrations_with(&[]);
    std::fs::write(dir.path().join(path), edited).unwrap();
    let (run, doc) = lint(dir.path());
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let problem = doc["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["version"] == 20261201000002_i64)
        .map(|m| m["problems"].to_string())
        .unwrap();
    assert!(problem.contains("released-file-edited"), "{problem}");
    assert!(
        problem.contains("put the change in a new migration"),
        "{problem}"
    );
}

#[test]
fn exceptions_need_a_reason_a_known_rule_and_a_finding_to_cover() {
    let drop = "ALTER TABLE job_offers DROP COLUMN location;";
    let cases = [
        (
            format!(
                "-- migrate-lint: allow ban-drop-column — release 41 stopped reading it\n{drop}"
            ),
            0,
            None,
        ),
        (
            format!("{drop} -- migrate-lint: allow ban-drop-column: release 41 stopped reading it"),
            0,
            None,
        ),
        (
            format!("-- migrate-lint: allow ban-drop-column\n{drop}"),
            1,
            Some("exception-without-reason"),
        ),
        (
            format!("-- migrate-lint: allow ban-drop-column —   \n{drop}"),
            1,
            Some("exception-without-reason"),
        ),
        (
            format!("-- migrate-lint: allow ban-drop-columns — typo\n{drop}"),
            1,
            Some("unknown-rule"),
        ),
        (
            format!("-- migrate-lint: allow ban-drop-table — wrong rule\n{drop}"),
            1,
            Some("unused-exception"),
        ),
        (
            format!("-- migrate-lint: ignore ban-drop-column — not the syntax\n{drop}"),
            1,
            Some("malformed-exception"),
        ),
    ];
    for (sql, code, problem) in cases {
        let dir = migrations_with(&[("29990101000001_x.up.sql".into(), sql.clone())]);
        let (run, doc) = lint(dir.path());
        assert_eq!(run.code, code, "{sql}\n{}", run.stdout);
        let m = doc["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["version"] == 29990101000001_i64)
            .unwrap();
        match problem {
            None => {
                let f = &m["findings"][0];
                assert_eq!(f["excepted"], "release 41 stopped reading it", "{m}");
            }
            Some(rule) => assert!(
                m["problems"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["rule"] == rule),
                "{sql}: {m}"
            ),
        }
        assert_eq!(
            m["class"], "contract",
            "an exception does not change the class"
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(xtask(&["lint", "--source", "/no/such/dir"], &[]).code, 2);
    assert_eq!(xtask(&["lint", "--sideways"], &[]).code, 2);
}

#[test]
fn verify_runs_the_lint_offline() {
    let sh = Shell::new().unwrap();
    let bin = env!("CARGO_BIN_EXE_xtask");
    let out = cmd!(sh, "{bin} verify --offline --json --no-env-file")
        .env_clear()
        .ignore_status()
        .quiet()
        .output()
        .unwrap();
    let run = Run::from(out);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let lint = crate::common::check(&doc, "migrations.lint");
    assert_eq!(lint["status"], "pass", "{lint}");
    assert!(
        lint["message"]
            .as_str()
            .unwrap()
            .contains("every migration lint clean: 20261127000001 expand"),
        "{lint}"
    );
}
