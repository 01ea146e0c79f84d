//! `cargo xtask migrate lint`: every migration judged before it ships, by squawk's linter used
//! as a library, plus what squawk cannot know about our runner (sqlx's `-- no-transaction`, the
//! session `lock_timeout` the runner sets). Each finding says what it blocks in production, the
//! exact statements to write instead, and whether it is *contract* (the previous release may
//! break) or only *locking*. Each migration is classified expand or contract (see [`class`]).
//!
//! It lives in xtask, not in `intowork-db`: the backend never lints, and squawk's parser
//! (~1 minute of CPU to compile) stays out of the backend's build and image.

mod advice;
mod allow;
pub(crate) mod class;
pub(crate) mod files;
pub(crate) mod output;
mod released;
mod runner_rules;
mod schema;
mod squawk;
mod statements;

use std::fmt;

pub(crate) use files::MigrationFile;
use schema::Columns;

/// What a finding costs if shipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Reads or writes wait (or the deployment fails to start) while it runs.
    Locking,
    /// The previous release may break against the new schema.
    Contract,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Locking => "locking",
            Kind::Contract => "contract",
        }
    }
}

/// When a step of a rewrite ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    /// In this release, as its own migration file.
    ThisRelease,
    /// One release later, once no deployed code needs what it removes.
    NextRelease,
}

/// One migration file of a rewrite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Step {
    pub(crate) when: When,
    /// The file's whole text (starting with `-- no-transaction` when it must run outside one).
    pub(crate) sql: String,
}

/// The safe way to write it: the exact files, in order, and a sentence on the release plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rewrite {
    pub(crate) note: String,
    pub(crate) steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    pub(crate) rule: &'static str,
    pub(crate) line: usize,
    pub(crate) kind: Kind,
    /// One sentence: what it blocks or breaks in production.
    pub(crate) impact: String,
    /// The offending statement, as written.
    pub(crate) statement: String,
    pub(crate) rewrite: Option<Rewrite>,
    /// The reviewed exception's reason, when the file carries one for this finding.
    pub(crate) excepted: Option<String>,
}

/// A problem with the file itself (an exception without a reason, SQL that does not parse):
/// never excepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) rule: &'static str,
    pub(crate) line: usize,
    pub(crate) message: String,
}

/// One migration, judged.
#[derive(Debug, Clone)]
pub(crate) struct Judged {
    pub(crate) file: MigrationFile,
    pub(crate) class: class::Class,
    pub(crate) findings: Vec<Finding>,
    pub(crate) problems: Vec<Problem>,
}

impl Judged {
    /// Findings without a reviewed exception, and problems: what fails the lint.
    pub(crate) fn failures(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.excepted.is_none())
            .count()
            + self.problems.len()
    }
}

/// The rule ids, for `allow` comments and the docs.
pub(crate) const RULES: &[&str] = &[
    "require-concurrent-index-creation",
    "require-concurrent-index-deletion",
    "require-concurrent-reindex",
    "adding-serial-primary-key-field",
    "disallowed-unique-constraint",
    "adding-field-with-default",
    "adding-required-field",
    "changing-column-type",
    "adding-foreign-key-constraint",
    "constraint-missing-not-valid",
    "adding-not-nullable-field",
    "renaming-column",
    "renaming-table",
    "ban-drop-column",
    "ban-drop-table",
    "require-lock-timeout",
    "no-transaction-required",
    "no-transaction-one-statement",
];

/// Judges every up migration of a set, oldest first (later files see the columns earlier ones
/// created, for rewrites that need a column's type).
pub(crate) fn judge_all(files: &[MigrationFile]) -> Vec<Judged> {
    let mut columns = Columns::default();
    files
        .iter()
        .map(|file| {
            let judged = judge(file, &columns);
            columns.learn(&file.sql);
            judged
        })
        .collect()
}

fn judge(file: &MigrationFile, columns: &Columns) -> Judged {
    let parsed = statements::Parsed::new(&file.sql);
    let mut problems: Vec<Problem> = parsed
        .syntax_errors()
        .into_iter()
        .map(|(line, message)| Problem {
            rule: "syntax-error",
            line,
            message: format!(
                "squawk's parser cannot read this SQL ({message}): the lint cannot judge it"
            ),
        })
        .collect();
    let mut raw = squawk::violations(&parsed, file.no_tx);
    raw.extend(runner_rules::violations(&parsed, file.no_tx));
    let mut findings: Vec<Finding> = raw
        .into_iter()
        .map(|v| advice::finding(&parsed, columns, v))
        .collect();
    findings.sort_by_key(|f| f.line);
    problems.extend(allow::apply(&parsed, &mut findings));
    problems.extend(released::apply(file, &mut findings));
    Judged {
        file: file.clone(),
        class: class::classify(&parsed),
        findings,
        problems,
    }
}

/// A violation before advice: which rule, where, on which statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    pub(crate) rule: &'static str,
    /// Byte offset of what the rule points at.
    pub(crate) offset: usize,
    /// Index of the statement in the file.
    pub(crate) stmt: usize,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
