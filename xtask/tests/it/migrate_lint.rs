//! `cargo xtask migrate lint` on a corpus of bad migrations (one or more per rule): each gives
//! its finding and rewrite, and the rewrite, written as the lint printed it, passes the lint
//! (migrate_load.rs then runs each bad form and each rewrite beside a working release on a
//! real PostgreSQL server). Also: the repository's own migrations, exceptions, --json, exit
//! codes.

use std::path::Path;

use serde_json::Value;
use xshell::{Shell, cmd};

use crate::common::{Run, root};

/// A bad migration, the rule it must trip, the release that runs beside it, and what it does
/// to that release — which the load harness (migrate_load.rs) must see, and not see for the
/// rewrite.
pub(crate) struct Case {
    pub(crate) rule: &'static str,
    /// An earlier migration the case needs (a table to drop, an index to rebuild), if any.
    pub(crate) setup: Option<&'static str>,
    pub(crate) bad: &'static str,
    /// The release serving while the migration runs.
    pub(crate) service: Service,
    /// The release after it, beside which a rewrite's next-release files run (it no longer
    /// uses what they drop).
    pub(crate) next: Service,
    pub(crate) harm: Harm,
}

/// A release at work: one read and one write, each its own short transaction.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Service {
    pub(crate) read: &'static str,
    pub(crate) write: &'static str,
}

/// What a bad migration does to the release serving beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Harm {
    /// Holds a lock the release's reads or writes need while it works through the table.
    Blocks,
    /// Takes a lock that conflicts with the release's queries and waits for one already
    /// running: behind an open transaction, every later query queues behind it.
    Queues,
    /// Turns lock_timeout off: behind an open transaction it waits, and the release with
    /// it, for as long as that transaction lasts.
    WaitsForever,
    /// The release's statements fail once it commits (contract).
    Breaks,
    /// Fails at start-up: the new deployment crash-loops.
    FailsAtStart,
}

/// The reader's and the writer's statements: the current release's code on `job_offers`
/// (it reads and writes only what every rewrite keeps).
const READ: &str =
    "SELECT count(*) FROM (SELECT id, title FROM job_offers ORDER BY id DESC LIMIT 50) s";
const WRITE: &str = "INSERT INTO job_offers (company_id, title, location, salary_min, salary_max) SELECT id, 'w-' || gen_random_uuid(), 'Paris', 1000, 2000 FROM companies LIMIT 1";
const CURRENT: Service = Service {
    read: READ,
    write: WRITE,
};
/// The release that no longer uses `location` (the one that ships before its drop).
const NO_LOCATION: Service = Service {
    read: READ,
    write: "INSERT INTO job_offers (company_id, title) SELECT id, 'w-' || gen_random_uuid() FROM companies LIMIT 1",
};
/// A release that still reads `legacy_notes`.
const READS_NOTES: Service = Service {
    read: "SELECT count(*) FROM legacy_notes",
    write: WRITE,
};
/// A release that counts offer views.
const VIEWS: Service = Service {
    read: "SELECT count(*) FROM offer_views WHERE offer_id = 7",
    write: "INSERT INTO offer_views (offer_id, viewer) VALUES ((random() * 1e12)::bigint, 'w')",
};

/// An index the cases that drop or rebuild one start from.
const LOCATION_INDEX: &str = "-- no-transaction\nCREATE INDEX CONCURRENTLY job_offers_location_idx ON job_offers (location);";
/// A table without a primary key yet, with rows, for the cases that add one.
const OFFER_VIEWS: &str = "CREATE TABLE offer_views (offer_id bigint NOT NULL, viewer text NOT NULL, seen_at timestamptz NOT NULL DEFAULT now());\nINSERT INTO offer_views (offer_id, viewer) SELECT g, 'viewer ' || g FROM generate_series(1, 2000) g;";

/// A case whose release is the current one before and after.
const fn case(rule: &'static str, bad: &'static str, harm: Harm) -> Case {
    Case {
        rule,
        setup: None,
        bad,
        service: CURRENT,
        next: CURRENT,
        harm,
    }
}

pub(crate) const CORPUS: &[Case] = &[
    case(
        "require-concurrent-index-creation",
        "CREATE INDEX job_offers_title_idx ON job_offers (title);",
        Harm::Blocks,
    ),
    Case {
        setup: Some(LOCATION_INDEX),
        ..case(
            "require-concurrent-index-deletion",
            "DROP INDEX job_offers_location_idx;",
            Harm::Queues,
        )
    },
    Case {
        setup: Some(LOCATION_INDEX),
        ..case(
            "require-concurrent-reindex",
            "REINDEX INDEX job_offers_location_idx;",
            Harm::Queues,
        )
    },
    Case {
        setup: Some(OFFER_VIEWS),
        service: VIEWS,
        next: VIEWS,
        ..case(
            "adding-serial-primary-key-field",
            "ALTER TABLE offer_views ADD PRIMARY KEY (offer_id);",
            Harm::Blocks,
        )
    },
    Case {
        setup: Some(OFFER_VIEWS),
        service: VIEWS,
        next: VIEWS,
        ..case(
            "adding-serial-primary-key-field",
            "ALTER TABLE offer_views ADD COLUMN id bigserial PRIMARY KEY;",
            Harm::Blocks,
        )
    },
    case(
        "disallowed-unique-constraint",
        "ALTER TABLE job_offers ADD CONSTRAINT job_offers_title_key UNIQUE (title);",
        Harm::Blocks,
    ),
    case(
        "adding-field-with-default",
        "ALTER TABLE job_offers ADD COLUMN token uuid DEFAULT gen_random_uuid();",
        Harm::Blocks,
    ),
    case(
        "adding-required-field",
        "ALTER TABLE job_offers ADD COLUMN views bigint NOT NULL;",
        Harm::FailsAtStart,
    ),
    case(
        "changing-column-type",
        "ALTER TABLE job_offers ALTER COLUMN salary_min TYPE bigint;",
        Harm::Blocks,
    ),
    case(
        "adding-foreign-key-constraint",
        "ALTER TABLE job_offers ADD CONSTRAINT job_offers_company_fk FOREIGN KEY (company_id) REFERENCES companies (id);",
        Harm::Blocks,
    ),
    // With a default every existing row holds a value to check (without one the new column
    // is all NULL and PostgreSQL checks nothing: not a finding, see the lint's exemptions).
    case(
        "adding-foreign-key-constraint",
        "ALTER TABLE job_offers ADD COLUMN reviewer_id bigint DEFAULT 1 REFERENCES users (id);",
        Harm::Blocks,
    ),
    case(
        "constraint-missing-not-valid",
        "ALTER TABLE job_offers ADD CONSTRAINT job_offers_salary_cap CHECK (salary_max < 10000000);",
        Harm::Blocks,
    ),
    case(
        "constraint-missing-not-valid",
        "ALTER TABLE job_offers ADD CONSTRAINT job_offers_title_short CHECK (length(title) < 500) NOT VALID;\nALTER TABLE job_offers VALIDATE CONSTRAINT job_offers_title_short;",
        Harm::Blocks,
    ),
    case(
        "adding-not-nullable-field",
        "ALTER TABLE job_offers ALTER COLUMN location SET NOT NULL;",
        Harm::Blocks,
    ),
    case(
        "renaming-column",
        "ALTER TABLE job_offers RENAME COLUMN location TO city;",
        Harm::Breaks,
    ),
    case(
        "renaming-table",
        "ALTER TABLE job_offers RENAME TO offers;",
        Harm::Breaks,
    ),
    Case {
        next: NO_LOCATION,
        ..case(
            "ban-drop-column",
            "ALTER TABLE job_offers DROP COLUMN location;",
            Harm::Breaks,
        )
    },
    Case {
        setup: Some("CREATE TABLE legacy_notes (id bigint PRIMARY KEY, body text);"),
        service: READS_NOTES,
        ..case("ban-drop-table", "DROP TABLE legacy_notes;", Harm::Breaks)
    },
    case(
        "require-lock-timeout",
        "SET lock_timeout = 0;\nALTER TABLE job_offers ADD COLUMN note text;",
        Harm::WaitsForever,
    ),
    case(
        "no-transaction-required",
        "CREATE INDEX CONCURRENTLY job_offers_location_idx ON job_offers (location);",
        Harm::FailsAtStart,
    ),
    case(
        "no-transaction-one-statement",
        "-- no-transaction\nCREATE INDEX CONCURRENTLY job_offers_location_idx ON job_offers (location);\nCREATE INDEX CONCURRENTLY job_offers_remote_idx ON job_offers (remote);",
        Harm::FailsAtStart,
    ),
];

/// `xtask migrate ARGS` with exactly `env` (plus a test secret).
pub(crate) fn xtask(args: &[&str], env: &[(&str, &str)]) -> Run {
    crate::migrate_cli::migrate_env(args, env)
}

fn lint(dir: &Path) -> (Run, Value) {
    let run = xtask(&["lint", "--json", "--source", dir.to_str().unwrap()], &[]);
    let doc = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("one JSON document ({e}):\n{}\n{}", run.stdout, run.stderr));
    (run, doc)
}

/// The repository's migrations plus `extra` files, in a temporary directory.
pub(crate) fn migrations_with(extra: &[(String, String)]) -> tempfile::TempDir {
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

pub(crate) fn setup_files(case: &Case) -> Vec<(String, String)> {
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
    rewrite_files_of(finding, None)
}

/// The rewrite's files that ship in `release` (`this` or `next`; all with `None`), each named
/// by its place in the whole rewrite.
pub(crate) fn rewrite_files_of(finding: &Value, release: Option<&str>) -> Vec<(String, String)> {
    finding["rewrite"]["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, m)| release.is_none_or(|r| m["release"] == r))
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
pub(crate) fn finding_for(case: &Case) -> Value {
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
    assert_contains!(
        run.stdout,
        &format!(
            "{label}/29990101000001_bad.up.sql:1: require-concurrent-index-creation [locking]"
        )
    );
    assert_contains!(
        run.stdout,
        "in production: builds the index under a SHARE lock on job_offers"
    );
    assert_contains!(
        run.stdout,
        "-- no-transaction\n      CREATE INDEX CONCURRENTLY job_offers_title_idx ON job_offers (title);"
    );
    // Every rule the lint knows has a case here, and a line in docs/migrations.md.
    let doc = crate::common::read("docs/migrations.md");
    let rules = rules();
    assert!(rules.len() >= 15, "{rules:?}");
    for rule in &rules {
        assert!(
            rules_seen.contains(&rule.as_str()),
            "no corpus case for {rule}"
        );
        assert_contains!(
            doc,
            &format!("`{rule}`"),
            "docs/migrations.md does not document {rule}"
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
    assert_lacks!(
        text,
        "migrate-lint:",
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
    assert_contains!(problem, "released-file-edited");
    assert_contains!(problem, "put the change in a new migration");
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
    assert_contains!(
        lint["message"].as_str().unwrap(),
        "every migration lint clean: 20261127000001 expand",
        "{lint}"
    );
}

/// A foreign key on a column the same statement adds, without a default: every row holds
/// NULL, which PostgreSQL does not check (no scan; the locks are those of the `NOT VALID`
/// rewrite) — not a finding. With a default it is one (the corpus has that form).
#[test]
fn a_foreign_key_on_a_new_column_without_a_default_is_not_a_finding() {
    let sql = "ALTER TABLE job_offers ADD COLUMN reviewer_id bigint REFERENCES users (id);";
    let dir = migrations_with(&[("29990101000001_x.up.sql".into(), sql.into())]);
    let (run, doc) = lint(dir.path());
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        findings_of(&doc, "29990101000001_x.up.sql"),
        &Vec::<Value>::new()
    );
}
