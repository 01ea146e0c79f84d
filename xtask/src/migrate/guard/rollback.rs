//! Before a rollback: which migrations did the production database apply that the target
//! deployment's commit does not know? A rollback does not revert them, so the earlier build
//! runs against them: fine when every one is *expand*, broken when one is *contract*.
//! Every piece of information must be there (the target's commit from Railway, its migration
//! files from git, the applied migrations from the database, the SQL of each one applied
//! since); anything missing is a refusal with the reason, never a silent pass.

use xshell::Shell;

use super::super::lint::{self, MigrationFile, class::Class};
use super::preflight::Shipped;
use super::{applied, applied_versions, checkout, files, production};
use crate::railway::{Deployment, Target, Variables};
use crate::release::Say;
use crate::util::exit::Reported;

/// The judgement on a rollback's schema.
#[derive(Debug)]
pub(crate) enum Judgement {
    /// Nothing applied since, or only expand migrations: `(version, description)`.
    Expand(Vec<(i64, String)>),
    /// A migration applied since is contract: the earlier build may break.
    Contract(String),
    /// Something needed to judge is missing.
    Unknown(String),
}

impl Judgement {
    /// Why a rollback would be refused; `None` when it may go.
    pub(crate) fn refusal(&self) -> Option<String> {
        match self {
            Judgement::Expand(_) => None,
            Judgement::Contract(why) => Some(why.clone()),
            Judgement::Unknown(why) => Some(format!("the schema cannot be judged: {why}")),
        }
    }
}

/// Judges a rollback to `target` (the migrations' files from `files`); `Ok` to go ahead (and
/// says why), a refusal otherwise unless `accept` (`--accept-schema`), which goes ahead loudly.
pub(crate) fn check(
    sh: &Shell,
    target: &Deployment,
    (variables, railway): (&Variables, &Target),
    files: Upcoming<'_>,
    accept: bool,
    say: Say,
) -> anyhow::Result<()> {
    let judgement = judge(sh, target, variables, railway, files);
    let Some(why) = judgement.refusal() else {
        say.line(&format!(
            "schema: {}",
            expand_note(&judgement, target, false)
        ));
        return Ok(());
    };
    if accept {
        eprintln!("WARNING: --accept-schema: rolling back although {why}");
        return Ok(());
    }
    Err(Reported(format!(
        "rollback refused before touching anything: {why}. Roll forward instead (fix the code and `cargo xtask deploy` it), or, after reading why, rerun with --accept-schema"
    ))
    .into())
}

/// What an expand judgement means for the earlier build (`upcoming`: counting those a
/// deploy will apply).
pub(crate) fn expand_note(judgement: &Judgement, target: &Deployment, upcoming: bool) -> String {
    let applied = if upcoming {
        "applied or shipped"
    } else {
        "applied"
    };
    match judgement {
        Judgement::Expand(since) if since.is_empty() => format!(
            "the production database has {applied} no migration that {} does not know: the earlier build runs against the schema it was built for",
            target.id
        ),
        Judgement::Expand(since) => {
            let list: Vec<String> = since.iter().map(|(v, d)| format!("{v} {d}")).collect();
            format!(
                "{} migration{} {applied} since {}'s commit, all expand ({}): the earlier build keeps working against them, and they stay applied",
                since.len(),
                if since.len() == 1 { "" } else { "s" },
                target.id,
                list.join(", ")
            )
        }
        _ => String::new(),
    }
}

/// Which migration files the applied ones are judged from, and whether those not applied yet
/// count.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Upcoming<'a> {
    /// A rollback now: this checkout's files, the applied migrations only.
    None,
    /// After a deploy of these files (`--rollback-on-failure` after cutover): the files it
    /// shipped, the applied migrations only.
    Deployed(&'a Shipped),
    /// Before a deploy of these files (`--rollback-on-failure`'s pre-flight: could the deploy
    /// be rolled back if it fails?): the applied migrations and those it will apply.
    Shipped(&'a Shipped),
}

pub(crate) fn judge(
    sh: &Shell,
    target: &Deployment,
    variables: &Variables,
    railway: &Target,
    upcoming: Upcoming<'_>,
) -> Judgement {
    let Some(commit) = target.commit() else {
        return Judgement::Unknown(format!(
            "deployment {} carries no commit (meta.commitHash), so which migrations its build knows is unknown",
            target.id
        ));
    };
    let known: Vec<i64> = match lint::files::at_commit(sh, &commit) {
        Ok(m) => files(&m).iter().map(|f| f.version).collect(),
        Err(e) => return Judgement::Unknown(format!("{e:#}")),
    };
    let settings = match production(variables, railway) {
        Ok(s) => s,
        Err(why) => return Judgement::Unknown(why),
    };
    let here = match upcoming {
        Upcoming::None => checkout(sh),
        Upcoming::Deployed(shipped) | Upcoming::Shipped(shipped) => shipped.migrator(sh),
    };
    let here = match here {
        Ok(m) => m,
        Err(e) => return Judgement::Unknown(format!("{e:#}")),
    };
    let st = match applied(&settings, &here) {
        Ok(st) => st,
        Err(why) => return Judgement::Unknown(why),
    };
    let mut since: Vec<i64> = applied_versions(&st);
    if let Upcoming::Shipped(_) = upcoming {
        since.extend(st.pending().iter().map(|e| e.version));
    }
    since.retain(|v| !known.contains(v));
    since.sort_unstable();
    judge_since(&files(&here), &st, &since, &commit)
}

/// Classifies each migration applied since, from this checkout's file of it — which must be
/// the very file that was applied (same checksum).
fn judge_since(
    here: &[MigrationFile],
    st: &intowork_db::migrate::Status,
    since: &[i64],
    commit: &str,
) -> Judgement {
    use intowork_db::migrate::State;
    let judged = lint::judge_all(here);
    let mut expand = Vec::new();
    for v in since {
        let entry = st.entries.iter().find(|e| e.version == *v);
        match entry.map(|e| &e.state) {
            // Pending: one the deploy will apply (only ever asked for with `Upcoming`).
            Some(State::Applied { .. } | State::Pending) => {}
            Some(State::Drifted { .. }) => {
                return Judgement::Unknown(format!(
                    "migration {v} in this checkout differs from the one the database applied (checksum), so it cannot be judged: check out the commit that is deployed"
                ));
            }
            Some(State::Dirty) => {
                return Judgement::Unknown(format!(
                    "migration {v} failed part-way in the database (dirty)"
                ));
            }
            _ => {
                return Judgement::Unknown(format!(
                    "migration {v} is applied in the database but not in this checkout, so its SQL cannot be judged: check out (or fetch) the commit that is deployed"
                ));
            }
        }
        // Never counted as expand: what was not judged is unknown.
        let Some(j) = judged.iter().find(|j| j.file.version == *v) else {
            return Judgement::Unknown(format!(
                "migration {v} is applied in the database, but this checkout has no up migration file for it to judge"
            ));
        };
        match &j.class {
            Class::Expand => expand.push((*v, j.file.description.clone())),
            Class::Contract(statements) => {
                let first = &statements[0];
                let when = if entry.is_some_and(|e| e.state == State::Pending) {
                    "would be applied by this deploy"
                } else {
                    "was applied"
                };
                return Judgement::Contract(format!(
                    "migration {} ({}) {when} after {commit} and is contract: `{}` at {}:{} {}; the earlier build would run against that schema{}",
                    v,
                    j.file.description,
                    first.statement,
                    j.file.path,
                    first.line,
                    first.why,
                    reviewed(j)
                ));
            }
        }
    }
    Judgement::Expand(expand)
}

/// The reviewed exceptions a contract migration carries, quoted: the two-release workflow
/// drops a column with one naming the release that stopped using it, and whoever rolls back
/// judges from it whether the target is that release or a later one.
fn reviewed(j: &lint::Judged) -> String {
    let quoted: Vec<String> = j
        .findings
        .iter()
        .filter_map(|f| {
            let why = f.excepted.as_deref()?;
            Some(format!("{} at {}:{}: «{why}»", f.rule, j.file.path, f.line))
        })
        .collect();
    if quoted.is_empty() {
        return String::new();
    }
    format!(
        ". Its reviewed exception{} say{}: {}. If the target's build is that release or a later one, it no longer uses what was removed: then --accept-schema is expected here, after reading this",
        if quoted.len() == 1 { "" } else { "s" },
        if quoted.len() == 1 { "s" } else { "" },
        quoted.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use intowork_db::migrate::{Entry, State, Status};

    fn applied(version: i64) -> Entry {
        Entry {
            version,
            description: "x".into(),
            state: State::Applied {
                installed_on: "2026-12-01 00:00:00".into(),
                execution_ms: 1,
            },
            no_tx: false,
            reversible: false,
        }
    }

    fn file(version: i64, sql: &str) -> MigrationFile {
        MigrationFile {
            version,
            description: "x".into(),
            path: format!("migrations/{version}_x.up.sql"),
            sql: sql.into(),
            no_tx: false,
            checksum: Vec::new(),
        }
    }

    #[test]
    fn a_migration_applied_since_without_a_judged_file_is_unknown_not_expand() {
        let st = Status {
            entries: vec![applied(1), applied(2)],
            table_exists: true,
        };
        let here = [file(1, "ALTER TABLE t ADD COLUMN c text;")];
        match judge_since(&here, &st, &[1], "abc") {
            Judgement::Expand(since) => assert_eq!(since, [(1, "x".to_owned())]),
            other => panic!("{other:?}"),
        }
        match judge_since(&here, &st, &[1, 2], "abc") {
            Judgement::Unknown(why) => assert!(
                why.contains("migration 2 is applied in the database, but this checkout has no up migration file"),
                "{why}"
            ),
            other => panic!("never a silent expand: {other:?}"),
        }
    }

    #[test]
    fn a_contract_refusal_quotes_the_reviewed_exception_only_when_there_is_one() {
        let st = Status {
            entries: vec![applied(1)],
            table_exists: true,
        };
        let drop = "ALTER TABLE job_offers DROP COLUMN location;";
        let reviewed = format!(
            "-- migrate-lint: allow ban-drop-column — release 41 stopped reading and writing it\n{drop}\n"
        );
        for (sql, quoted) in [(reviewed.as_str(), true), (drop, false)] {
            let Judgement::Contract(why) = judge_since(&[file(1, sql)], &st, &[1], "abc") else {
                panic!("{sql}: contract");
            };
            assert_eq!(
                why.contains(
                    "Its reviewed exception says: ban-drop-column at migrations/1_x.up.sql:2: «release 41 stopped reading and writing it»"
                ),
                quoted,
                "{why}"
            );
            assert_eq!(
                why.contains("--accept-schema is expected here"),
                quoted,
                "{why}"
            );
        }
    }
}
