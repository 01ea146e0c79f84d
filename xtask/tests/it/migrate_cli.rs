//! `cargo xtask migrate` end to end: the real binary against a real TLS-only server.

use crate::common::Run;

use intowork_testkit::{Flavor, PgServer, TestDb};
use serde_json::Value;
use xshell::{Shell, cmd};

const SECRET: &str = "migrate-cli-secret-5e4d3c2b1a09f8e7d6c5b4a39281";

fn xtask(db: &TestDb, args: &[&str]) -> Run {
    xtask_with(db, &db.url("sslmode=require"), args)
}

fn xtask_with(db: &TestDb, url: &str, args: &[&str]) -> Run {
    let run = migrate_env(args, &[("DATABASE_URL", url)]);
    assert_lacks!(run.stdout, &db.password, "password leaked");
    assert_lacks!(run.stderr, &db.password, "password leaked");
    run
}

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{}", run.stdout))
}

fn migrations_count() -> usize {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".up.sql")
        })
        .count()
}

#[test]
fn run_status_and_check_on_a_fresh_database() {
    let db = PgServer::shared(Flavor::TlsOnly).create_database();
    let n = migrations_count();

    let st = xtask(&db, &["status", "--check"]);
    assert_eq!(st.code, 1, "pending migrations fail --check: {}", st.stdout);
    assert_contains!(st.stdout, "pending", "{}{}", st.stdout, st.stderr);
    assert_contains!(
        st.stderr,
        "migrate status --check: pending",
        "{}{}",
        st.stdout,
        st.stderr
    );

    let run = xtask(&db, &["run"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_contains!(run.stdout, &format!("{n} migrations applied in"));
    assert_contains!(run.stdout, "applied 20261127000001 users (");

    let again = xtask(&db, &["run", "--json"]);
    assert_eq!(again.code, 0);
    let doc = json(&again);
    assert_eq!(
        (doc["ok"].as_bool(), doc["steps"].as_array().map(Vec::len)),
        (Some(true), Some(0))
    );

    let st = xtask(&db, &["status", "--check", "--json"]);
    assert_eq!(st.code, 0, "{}", st.stdout);
    let doc = json(&st);
    assert_eq!(doc["up_to_date"], true);
    let migrations = doc["migrations"].as_array().unwrap();
    assert_eq!(migrations.len(), n);
    assert!(
        migrations.iter().all(|m| m["state"] == "applied"
            && m["execution_ms"].is_i64()
            && m["reversible"] == true)
    );
}

#[test]
fn dry_run_reports_changes_and_revert_walks_back() {
    let db = PgServer::shared(Flavor::TlsOnly).create_database();
    let dry = xtask(&db, &["run", "--dry-run", "--json"]);
    assert_eq!(dry.code, 0, "{}{}", dry.stdout, dry.stderr);
    let doc = json(&dry);
    assert_eq!(doc["dry_run"], true);
    let first = &doc["steps"][0];
    assert_eq!(first["outcome"], "would");
    assert!(
        first["changes"]
            .as_array()
            .unwrap()
            .contains(&Value::from("+ table users")),
        "{first}"
    );
    assert_eq!(
        xtask(&db, &["status", "--check"]).code,
        1,
        "a dry run applies nothing"
    );

    assert_eq!(xtask(&db, &["run"]).code, 0);
    let one = xtask(&db, &["revert"]);
    assert_eq!(one.code, 0, "{}{}", one.stdout, one.stderr);
    assert_contains!(one.stdout, "reverted 20261206000001 applications by offer");
    assert_contains!(
        one.stdout,
        "1 migration reverted",
        "only the newest by default: {}",
        one.stdout
    );

    let all = xtask(&db, &["revert", "--target", "0", "--dry-run"]);
    assert_eq!(all.code, 0);
    assert_contains!(all.stdout, "would revert 20261127000001 users");
    assert_contains!(all.stdout, "- table users");
    let all = xtask(&db, &["revert", "--target", "0"]);
    assert_eq!(all.code, 0);
    assert_contains!(all.stdout, "6 migrations reverted");

    let bad = xtask(&db, &["revert", "--target", "42", "--json"]);
    assert_eq!(bad.code, 1);
    let doc = json(&bad);
    assert_eq!(doc["ok"], false);
    assert_contains!(
        doc["error"]["message"].as_str().unwrap(),
        "42 is not a known migration",
        "{doc}"
    );
}

#[test]
fn failures_are_diagnosed_with_exit_1_and_usage_with_2() {
    let db = PgServer::shared(Flavor::TlsOnly).create_database();
    // TLS refused by a hostssl-only server: the diagnosis, not a hang.
    let run = xtask_with(&db, &db.url("sslmode=disable"), &["run", "--json"]);
    assert_eq!(run.code, 1);
    let doc = json(&run);
    assert_eq!(doc["error"]["kind"], "hba_rejected", "{doc}");
    assert_contains!(
        doc["error"]["message"].as_str().unwrap(),
        "use `sslmode=require`"
    );

    let run = xtask_with(
        &db,
        "postgres://nobody@db.example.com/x?sslmode=disable",
        &["status"],
    );
    assert_eq!(run.code, 1);
    assert_contains!(run.stderr, "DATABASE_URL");
    assert_contains!(run.stderr, "Connection reset by peer");

    assert_eq!(xtask(&db, &["revert", "--target", "abc"]).code, 2);
    assert_eq!(xtask(&db, &["sideways"]).code, 2);
    assert_eq!(xtask(&db, &["add", "no/slashes"]).code, 2);
}

#[test]
fn add_writes_a_reversible_pair_named_like_sqlx_cli() {
    let db = PgServer::shared(Flavor::TlsOnly).create_database();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("20991231235959_future.up.sql"), "").unwrap();
    let d = dir.path().to_str().unwrap();
    let first = xtask(&db, &["add", "add job tags", "--dir", d]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let second = xtask(&db, &["add", "add job tags", "--dir", d]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    // Versions stay strictly increasing even behind a file from the future.
    assert_eq!(
        names,
        [
            "20991231235959_future.up.sql",
            "20991231235960_add_job_tags.down.sql",
            "20991231235960_add_job_tags.up.sql",
            "20991231235961_add_job_tags.down.sql",
            "20991231235961_add_job_tags.up.sql",
        ]
    );
}

/// `migrate` with exactly `env` (plus the test secret), no database needed.
pub(crate) fn migrate_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let sh = Shell::new().unwrap();
    let bin = env!("CARGO_BIN_EXE_xtask");
    let out = cmd!(sh, "{bin} migrate {args...}")
        .env_clear()
        .env("NEXTAUTH_SECRET", SECRET)
        .envs(env.iter().copied())
        .ignore_status()
        .quiet()
        .output()
        .unwrap();
    Run::from(out)
}

/// #12.1: the corrected URL in `migrate --json`'s "fix: use …" keeps every secret masked.
#[test]
fn the_json_fix_hint_masks_secret_parameters() {
    let secret = "sslpw-Fake9Example";
    for param in intowork_config::SECRET_PARAMS {
        let url =
            format!("postgresql://u:pw-Fake3@db.example.com/app?{param}={secret}&sslmode=disable");
        for action in [
            &["run", "--json"][..],
            &["status", "--json"],
            &["revert", "--json"],
        ] {
            let run = migrate_env(action, &[("DATABASE_URL", &url)]);
            assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
            let doc = json(&run);
            let message = doc["error"]["message"].as_str().unwrap();
            assert_eq!(doc["error"]["kind"], "configuration");
            assert_contains!(
                message,
                &format!(
                    "fix: use postgresql://u:****@db.example.com/app?{param}=****&sslmode=require"
                )
            );
            for shown in [secret, "pw-Fake3"] {
                assert_lacks!(
                    run.stdout,
                    shown,
                    "{shown} leaked:\n{}{}",
                    run.stdout,
                    run.stderr
                );
                assert_lacks!(
                    run.stderr,
                    shown,
                    "{shown} leaked:\n{}{}",
                    run.stdout,
                    run.stderr
                );
            }
        }
    }
}

/// #12.4: with DATABASE_URL missing, migrate still names every other database problem.
#[test]
fn migrate_lists_every_problem_even_without_a_url() {
    let run = migrate_env(
        &["status"],
        &[
            ("PGSSLMODE", "requir"),
            ("DATABASE_TLS_FINGERPRINT", "zz"),
            (
                "DATABASE_PUBLIC_URL",
                "postgresql://u:pw-Fake4@x.proxy.rlwy.net:1/railway?ssl=disable",
            ),
        ],
    );
    assert_eq!(run.code, 1);
    assert_contains!(run.stderr, "invalid configuration (4 problems)");
    for var in [
        "DATABASE_URL: is not set",
        "PGSSLMODE: `requir`",
        "DATABASE_TLS_FINGERPRINT:",
        "DATABASE_PUBLIC_URL:",
    ] {
        assert_contains!(run.stderr, var, "{var}: {}", run.stderr);
    }
    assert_lacks!(run.stderr, "pw-Fake4");
}

/// A secret parameter in a working URL: migrations run, and nothing shows it.
#[test]
fn a_secret_parameter_in_a_working_url_never_shows() {
    let db = PgServer::shared(Flavor::TlsOnly).create_database();
    let secret = "oauth-Fake-Secret-71";
    let url = db.url(&format!(
        "sslmode=require&oauth_client_secret={secret}&sslpassword={secret}"
    ));
    for args in [&["run", "--json"][..], &["status"], &["status", "--json"]] {
        let run = xtask_with(&db, &url, args);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        assert_lacks!(run.stdout, secret);
        assert_lacks!(run.stderr, secret);
    }
}

/// `migrate status` shows each migration's class: the repository's are expand; a pending
/// drop of a column the previous release reads is contract, in the table and in the JSON.
#[test]
fn status_shows_each_migrations_expand_or_contract_class() {
    let db = PgServer::shared(Flavor::TlsOnly).create_database();
    let dir = tempfile::tempdir().unwrap();
    let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    for entry in std::fs::read_dir(migrations).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    for (file, sql) in [
        (
            "29990101000001_offer_notes.up.sql",
            "ALTER TABLE job_offers ADD COLUMN note text;\n",
        ),
        (
            "29990101000002_drop_location.up.sql",
            "ALTER TABLE job_offers DROP COLUMN location;\n",
        ),
    ] {
        std::fs::write(dir.path().join(file), sql).unwrap();
    }
    let source = dir.path().to_str().unwrap();
    assert_eq!(xtask(&db, &["run"]).code, 0, "the repository's migrations");
    let st = xtask(&db, &["status", "--source", source]);
    assert_eq!(st.code, 0, "{}{}", st.stdout, st.stderr);
    let row = |version: &str| -> Vec<String> {
        let line = st
            .stdout
            .lines()
            .find(|l| l.starts_with(version))
            .unwrap_or_else(|| panic!("no {version} in:\n{}", st.stdout));
        line.split_whitespace().map(str::to_owned).collect()
    };
    assert_contains!(
        st.stdout.lines().next().unwrap(),
        " class ",
        "{}",
        st.stdout
    );
    assert_eq!(row("20261127000001")[2..4], ["expand", "applied"]);
    assert_eq!(row("29990101000001")[3..5], ["expand", "pending"]);
    assert_eq!(row("29990101000002")[3..5], ["contract", "pending"]);

    let doc = json(&xtask(&db, &["status", "--source", source, "--json"]));
    let class = |version: i64| {
        doc["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["version"] == version)
            .map(|m| m["class"].clone())
            .unwrap_or_else(|| panic!("no {version} in {doc:#}"))
    };
    assert_eq!(class(20261127000001), "expand");
    assert_eq!(class(29990101000001), "expand");
    assert_eq!(class(29990101000002), "contract");
}
