//! Checks for `verify` and `deploy`'s pre-flight, in the checklist's terms:
//! - `migrations.lint` (offline): the lint on this checkout;
//! - `schema.applied`: the production database's applied migrations against the files about
//!   to ship — an edited applied migration (drift), or one missing from them, would make the
//!   new deployment refuse to start: caught before the deploy, not in a crash loop;
//! - `schema.lint`: the migrations that will run at start-up (not applied yet) lint clean,
//!   reviewed exceptions aside. Where the database cannot be read, every file counts as new.

use intowork_config::{Check, Status};
use intowork_db::migrate::State;
use sqlx::migrate::Migrator;
use xshell::Shell;

use super::super::lint::{self, Judged};
use super::{applied, checkout, files, production};
use crate::railway::{Target, Variables};

/// Which migration files a deploy ships.
#[derive(Debug, Clone)]
pub(crate) enum Shipped {
    /// This checkout (`deploy --up`, and the checkout CI deploys).
    Checkout,
    /// A commit of the repository (`deploy --commit SHA`), read from git.
    Commit(String),
}

impl Shipped {
    /// The migration files, read now.
    pub(crate) fn migrator(&self, sh: &Shell) -> anyhow::Result<Migrator> {
        match self {
            Shipped::Checkout => checkout(sh),
            Shipped::Commit(sha) => lint::files::at_commit(sh, sha),
        }
    }
}

/// `schema.lint` without the database (`deploy --skip-verify`): every migration about to ship,
/// offline — which are new is not known, so all of them, reviewed exceptions aside.
pub(crate) fn offline_lint(sh: &Shell, shipped: &Shipped) -> Check {
    match shipped.migrator(sh) {
        Ok(m) => lint_verdict(
            "schema.lint",
            &lint::judge_all(&files(&m)),
            "every migration about to ship (offline: the database was not read)",
        ),
        Err(e) => Check::new(
            "schema.files",
            Status::Fail,
            format!("the migrations about to ship cannot be read: {e:#}"),
        ),
    }
}

/// `migrations.lint`: every migration of this checkout, offline.
pub(crate) fn lint_check(sh: &Shell) -> Check {
    let judged = match checkout(sh) {
        Ok(m) => lint::judge_all(&files(&m)),
        Err(e) => return Check::new("migrations.lint", Status::Fail, format!("{e:#}")),
    };
    lint_verdict("migrations.lint", &judged, "every migration")
}

pub(crate) fn checks(
    sh: &Shell,
    variables: &Variables,
    target: &Target,
    shipped: &Shipped,
) -> Vec<Check> {
    let migrator = match shipped.migrator(sh) {
        Ok(m) => m,
        Err(e) => {
            return vec![Check::new(
                "schema.files",
                Status::Fail,
                format!("the migrations about to ship cannot be read: {e:#}"),
            )];
        }
    };
    let judged = lint::judge_all(&files(&migrator));
    let (applied_check, pending) = compare(variables, target, &migrator);
    let new: Vec<Judged> = judged
        .into_iter()
        .filter(|j| pending.as_ref().is_none_or(|p| p.contains(&j.file.version)))
        .collect();
    let scope = if pending.is_some() {
        "the migrations that will run at start-up"
    } else {
        "every migration (the database could not be read)"
    };
    vec![applied_check, lint_verdict("schema.lint", &new, scope)]
}

/// `schema.applied`, and the versions still pending (None when the database was not read).
fn compare(
    variables: &Variables,
    target: &Target,
    migrator: &Migrator,
) -> (Check, Option<Vec<i64>>) {
    let id = "schema.applied";
    let settings = match production(variables, target) {
        Ok(s) => s,
        Err(why) => {
            let check = Check::new(id, Status::Warn, format!("applied migrations not compared with the files about to ship: {why}"))
                .hint("without it, a migration edited after it was applied is only found when the new deployment refuses to start");
            return (check, None);
        }
    };
    let st = match applied(&settings, migrator) {
        Ok(st) => st,
        Err(why) => return (Check::new(id, Status::Fail, why), None),
    };
    let pending: Vec<i64> = st.pending().iter().map(|e| e.version).collect();
    let problems: Vec<String> = st
        .problems()
        .iter()
        .map(|e| match e.state {
            State::Drifted { .. } => format!("migration {} ({}) was edited after production applied it (checksum differs)", e.version, e.description),
            State::Missing => format!("migration {} ({}) is applied in production but missing from the files about to ship", e.version, e.description),
            _ => format!("migration {} ({}) failed part-way in production (dirty)", e.version, e.description),
        })
        .collect();
    let check = if problems.is_empty() {
        Check::new(
            id,
            Status::Pass,
            format!(
                "the {} migrations production applied match the files about to ship (checksums); {} new",
                st.entries.len() - pending.len(),
                pending.len()
            ),
        )
    } else {
        Check::new(id, Status::Fail, format!("{}: the new deployment would refuse to start", problems.join("; ")))
            .hint("restore an edited migration from git and put the change in a new one; deploy a commit that contains every applied migration")
    };
    (check, Some(pending))
}

fn lint_verdict(id: &str, judged: &[Judged], scope: &str) -> Check {
    let mut failing = Vec::new();
    for j in judged {
        for f in j.findings.iter().filter(|f| f.excepted.is_none()) {
            failing.push(format!(
                "{}:{}: {} [{}]",
                j.file.path, f.line, f.rule, f.kind
            ));
        }
        for p in &j.problems {
            failing.push(format!("{}:{}: {}", j.file.path, p.line, p.rule));
        }
    }
    let classes: Vec<String> = judged
        .iter()
        .map(|j| format!("{} {}", j.file.version, j.class.as_str()))
        .collect();
    if failing.is_empty() {
        let listed = if classes.is_empty() {
            "none".to_owned()
        } else {
            classes.join(", ")
        };
        Check::new(id, Status::Pass, format!("{scope} lint clean: {listed}"))
    } else {
        Check::new(id, Status::Fail, format!("{scope}: {}", failing.join("; ")))
            .hint("`cargo xtask migrate lint` prints what each finding blocks in production and the exact rewrite; a reviewed exception is `-- migrate-lint: allow <rule> — <why>` above the statement")
    }
}
