//! `cargo xtask prepare --check` against a throwaway TLS-only database: the committed `.sqlx/`
//! matches the queries, and a migration that changes a column a query uses fails with the
//! query's location.

use crate::common::Run;

use std::path::Path;

use xshell::{Shell, cmd};

fn prepare(args: &[&str]) -> Run {
    let sh = Shell::new().unwrap();
    let bin = env!("CARGO_BIN_EXE_xtask");
    let mut c = cmd!(sh, "{bin} prepare {args...}").ignore_status().quiet();
    for v in intowork_config::VARIABLES {
        c = c.env_remove(v.name);
    }
    Run::from(c.output().unwrap())
}

#[test]
fn check_passes_on_the_tree_and_names_the_query_a_migration_breaks() {
    let ok = prepare(&["--check"]);
    assert_eq!(ok.code, 0, "{}\n{}", ok.stdout, ok.stderr);
    assert_contains!(ok.stdout, "ok: .sqlx/ matches every query");

    // The real migrations plus one that renames a column the job-offer queries select.
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("migrations");
    for entry in std::fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    std::fs::write(
        dir.path().join("29991231000000_rename_offer_title.up.sql"),
        "ALTER TABLE job_offers RENAME COLUMN title TO headline;\n",
    )
    .unwrap();
    let broken = prepare(&["--check", "--source", dir.path().to_str().unwrap()]);
    assert_eq!(broken.code, 1, "{}\n{}", broken.stdout, broken.stderr);
    assert_contains!(broken.stderr, "backend/src/routes/jobs.rs:");
    assert_contains!(broken.stderr, "column o.title does not exist");
    assert_contains!(
        broken.stderr,
        "no longer compile against the migrations",
        "{}",
        broken.stderr
    );
}
