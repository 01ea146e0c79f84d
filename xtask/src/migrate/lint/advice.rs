//! For each violation: what it costs in production (one sentence), whether it is contract or
//! only locking, and the exact rewrite ([`rewrite`]).

mod rewrite;

use squawk_syntax::ast::{self, AstNode};

use super::schema::Columns;
use super::statements::{Parsed, last, text};
use super::{Finding, Kind, Violation};

/// What a rule is about, from the statement it fired on.
pub(super) struct Subject<'p, 'a> {
    pub(super) parsed: &'p Parsed<'a>,
    pub(super) stmt: usize,
    pub(super) table: String,
    /// The ALTER TABLE action the violation points into, if any.
    pub(super) action: Option<ast::AlterTableAction>,
}

impl Subject<'_, '_> {
    /// The column an action names (added, altered, renamed or dropped).
    pub(super) fn column(&self) -> String {
        let name = match &self.action {
            Some(ast::AlterTableAction::AddColumn(c)) => c.column_name().map(|n| text(n.syntax())),
            Some(ast::AlterTableAction::AlterColumn(c)) => {
                c.column_name_ref().map(|n| last(n.syntax()))
            }
            Some(ast::AlterTableAction::RenameColumn(c)) => {
                c.column_name_ref().map(|n| last(n.syntax()))
            }
            Some(ast::AlterTableAction::DropColumn(c)) => {
                c.column_name_ref().map(|n| last(n.syntax()))
            }
            _ => None,
        };
        name.unwrap_or_else(|| "<column>".to_owned())
    }
}

pub(super) fn finding(parsed: &Parsed<'_>, columns: &Columns, v: Violation) -> Finding {
    let subject = Subject {
        parsed,
        stmt: v.stmt,
        table: parsed
            .target_table(v.stmt)
            .unwrap_or_else(|| "<table>".to_owned()),
        action: action_at(parsed, v.stmt, v.offset),
    };
    let (kind, impact) = impact(v.rule, &subject);
    Finding {
        rule: v.rule,
        line: parsed.line_of(v.offset),
        kind,
        impact,
        statement: parsed.stmt_text(v.stmt),
        rewrite: rewrite::for_rule(v.rule, &subject, columns),
        excepted: None,
    }
}

fn action_at(parsed: &Parsed<'_>, stmt: usize, offset: usize) -> Option<ast::AlterTableAction> {
    let ast::Stmt::AlterTable(alter) = &parsed.stmts[stmt].0 else {
        return None;
    };
    let actions: Vec<ast::AlterTableAction> = alter.actions().collect();
    actions
        .iter()
        .find(|a| {
            let r = a.syntax().text_range();
            (u32::from(r.start()) as usize..=u32::from(r.end()) as usize).contains(&offset)
        })
        .or(actions.first())
        .cloned()
}

/// One sentence of what the statement does to a live service, and its kind.
fn impact(rule: &str, s: &Subject<'_, '_>) -> (Kind, String) {
    let t = &s.table;
    let c = s.column();
    let locking = |text: String| (Kind::Locking, text);
    let contract = |text: String| (Kind::Contract, text);
    match rule {
        "require-concurrent-index-creation" => locking(format!("builds the index under a SHARE lock on {t}: every INSERT, UPDATE and DELETE on {t} waits until the whole index is built")),
        "require-concurrent-index-deletion" => locking("takes an ACCESS EXCLUSIVE lock on the index's table: every read and write of it waits, and while the drop itself waits for a running query, every later query queues behind it".to_owned()),
        "require-concurrent-reindex" => locking(format!("rebuilds under a SHARE lock on {} (every INSERT, UPDATE and DELETE waits) and an ACCESS EXCLUSIVE lock on the index (every query that would use it waits), for the whole rebuild", on_table(s))),
        "adding-serial-primary-key-field" => locking(format!("builds the primary key's unique index under an ACCESS EXCLUSIVE lock on {t} (a new serial column first rewrites the table): every read and write of {t} waits until it is built")),
        "disallowed-unique-constraint" => locking(format!("builds a unique index under an ACCESS EXCLUSIVE lock on {t}: every read and write of {t} waits until it is built")),
        "adding-field-with-default" => locking(format!("a volatile default (or a stored generated column) rewrites every row of {t} under an ACCESS EXCLUSIVE lock: every read and write of {t} waits for the whole rewrite")),
        "adding-required-field" => contract(format!("NOT NULL without a default fails outright on a non-empty {t}, and where it succeeds the previous release's INSERTs, which do not set {c}, fail")),
        "changing-column-type" => contract(format!("rewrites {t} and its indexes under an ACCESS EXCLUSIVE lock (every read and write waits), and the previous release reads and writes {c} as the old type")),
        "adding-foreign-key-constraint" => locking(format!("checks every row of {t} while holding a SHARE ROW EXCLUSIVE lock on {t} and on the referenced table: writes to both wait for the whole scan")),
        "constraint-missing-not-valid" if validating(s) => locking(format!("validating in the transaction that added the constraint keeps its ACCESS EXCLUSIVE lock for the whole scan: every read and write of {t} waits")),
        "constraint-missing-not-valid" => locking(format!("checks every row of {t} under an ACCESS EXCLUSIVE lock: every read and write of {t} waits for the whole scan")),
        "adding-not-nullable-field" => locking(format!("scans all of {t} under an ACCESS EXCLUSIVE lock to prove {c} holds no NULL: every read and write of {t} waits for the scan")),
        "renaming-column" => contract(format!("the previous release still reads and writes {t}.{c}: its queries fail the moment the rename commits, and so does a rollback to it")),
        "renaming-table" => contract(format!("the previous release still queries {t}: its requests fail the moment the rename commits, and so does a rollback to it")),
        "ban-drop-column" => contract(format!("the previous release still reads or writes {t}.{c}: its queries fail once the column is gone, and so does a rollback to it")),
        "ban-drop-table" => contract(format!("the previous release still queries {t}: its requests fail once the table is gone, and so does a rollback to it")),
        "require-lock-timeout" => locking(format!("with lock_timeout off, this statement queues behind any open transaction on {t} while every later query on {t} queues behind it: the table freezes for as long as that transaction lasts")),
        "no-transaction-required" => locking("`CONCURRENTLY` cannot run inside the transaction sqlx wraps this file in: the migration fails at start-up and the new deployment crash-loops".to_owned()),
        "no-transaction-one-statement" => locking("PostgreSQL runs the statements of one query string in one implicit transaction: `CONCURRENTLY` fails there, and a failure part-way leaves earlier statements applied with no record of the migration".to_owned()),
        other => locking(format!("{other}: see squawk's documentation")),
    }
}

/// The table when the statement names it (`REINDEX TABLE t`), else "the index's table".
fn on_table<'s>(s: &'s Subject<'_, '_>) -> &'s str {
    if s.table == "<table>" {
        "the index's table"
    } else {
        &s.table
    }
}

fn validating(s: &Subject<'_, '_>) -> bool {
    matches!(s.action, Some(ast::AlterTableAction::ValidateConstraint(_)))
}
