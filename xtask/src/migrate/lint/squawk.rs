//! squawk's linter, as a library, with the rules that matter for a service that keeps serving
//! while a migration runs. What is ours: the set of rules, the PostgreSQL version, sqlx's
//! transaction per file, and the exemptions squawk does not make.

use squawk_linter::{Linter, LinterSettings, Rule};

use super::statements::Parsed;
use super::{RULES, Violation};

/// squawk rules we run. Its style rules (bigint over int, text over varchar…) are left out:
/// they say nothing about a live deployment.
const SQUAWK_RULES: &[Rule] = &[
    Rule::RequireConcurrentIndexCreation,
    Rule::RequireConcurrentIndexDeletion,
    Rule::RequireConcurrentReindex,
    Rule::AddingSerialPrimaryKeyField,
    Rule::DisallowedUniqueConstraint,
    Rule::AddingFieldWithDefault,
    Rule::AddingRequiredField,
    Rule::ChangingColumnType,
    Rule::AddingForeignKeyConstraint,
    Rule::ConstraintMissingNotValid,
    Rule::AddingNotNullableField,
    Rule::RenamingColumn,
    Rule::RenamingTable,
    Rule::BanDropColumn,
    Rule::BanDropTable,
];

/// Railway's PostgreSQL image is 16 or newer; rules that changed with versions (volatile
/// defaults since 11, SET NOT NULL over a validated CHECK since 12) are judged for it.
const PG_VERSION: &str = "16";

pub(crate) fn violations(parsed: &Parsed<'_>, no_tx: bool) -> Vec<Violation> {
    let mut linter = Linter::with_rules(&[], &[]);
    linter.rules = SQUAWK_RULES.iter().copied().collect();
    linter.settings = LinterSettings {
        pg_version: PG_VERSION.parse().expect("a version squawk parses"),
        // sqlx runs every file in one transaction unless it starts with `-- no-transaction`.
        assume_in_transaction: !no_tx,
    };
    let found: Vec<Violation> = linter
        .lint(&parsed.parse, parsed.text)
        .into_iter()
        .filter_map(|v| {
            let offset = u32::from(v.text_range.start()) as usize;
            let rule = id(v.code)?;
            Some(Violation {
                rule,
                offset,
                stmt: parsed.stmt_at(offset),
            })
        })
        .collect();
    found
        .iter()
        .filter(|v| !exempt(parsed, no_tx, v, &found))
        .cloned()
        .collect()
}

/// Our id for a squawk rule (the same spelling squawk uses).
fn id(rule: Rule) -> Option<&'static str> {
    let name = rule.to_string();
    RULES.iter().copied().find(|r| *r == name)
}

fn exempt(parsed: &Parsed<'_>, no_tx: bool, v: &Violation, all: &[Violation]) -> bool {
    let table = parsed.target_table(v.stmt);
    // A table created earlier in the same transaction: nothing else can be waiting on it.
    if !no_tx
        && table
            .as_ref()
            .is_some_and(|t| parsed.created_before(v.stmt).contains(t))
    {
        return true;
    }
    // A foreign key on a column added by the same statement without a default: every row
    // holds NULL, which PostgreSQL does not check (no scan; the locks are those of the
    // `NOT VALID` rewrite) — nothing to gain.
    if v.rule == "adding-foreign-key-constraint" && on_new_null_column(parsed, v) {
        return true;
    }
    // `ALTER TABLE a RENAME TO b; CREATE VIEW a AS SELECT * FROM b;` in one transaction: the
    // previous release keeps reading and writing `a` through the (auto-updatable) view.
    if v.rule == "renaming-table" && table.is_some_and(|t| parsed.view_created_after(v.stmt, &t)) {
        return true;
    }
    // One finding per statement for a constraint: the more precise rule speaks.
    v.rule == "constraint-missing-not-valid"
        && all.iter().any(|o| {
            o.stmt == v.stmt
                && matches!(
                    o.rule,
                    "adding-foreign-key-constraint" | "disallowed-unique-constraint"
                )
        })
}

/// Whether the violation points into `ADD COLUMN … REFERENCES …` without a default.
fn on_new_null_column(parsed: &Parsed<'_>, v: &Violation) -> bool {
    use squawk_syntax::ast::{self, AstNode};
    let ast::Stmt::AlterTable(alter) = &parsed.stmts[v.stmt].0 else {
        return false;
    };
    alter.actions().any(|action| {
        let r = action.syntax().text_range();
        let inside =
            (u32::from(r.start()) as usize..=u32::from(r.end()) as usize).contains(&v.offset);
        let ast::AlterTableAction::AddColumn(add) = action else {
            return false;
        };
        inside
            && !add.constraints().any(|k| {
                matches!(
                    k,
                    ast::Constraint::DefaultConstraint(_) | ast::Constraint::GeneratedConstraint(_)
                )
            })
    })
}
