//! The safe rewrite of a finding: the exact migration files to write instead, in order, built
//! from the statement's own names (and, for a renamed column, its type from earlier files).

use squawk_syntax::ast::{self, AstNode};

use super::super::runner_rules::{concurrently, turns_lock_timeout_off};
use super::super::schema::Columns;
use super::super::statements::{last, span, text};
use super::super::{Rewrite, Step, When};
use super::Subject;

const NO_TX: &str = "-- no-transaction\n";

pub(super) fn for_rule(rule: &str, s: &Subject<'_, '_>, columns: &Columns) -> Option<Rewrite> {
    let t = &s.table;
    let c = s.column();
    let (note, mut steps) = match rule {
        "require-concurrent-index-creation" => concurrent_index(s)?,
        "require-concurrent-index-deletion" => concurrently_after(
            s,
            drop_index_keyword(s)?,
            "drop it CONCURRENTLY, alone in a migration outside a transaction: it waits for the queries using the index without blocking any (an index the previous release may still use is dropped one release later: the migration is contract)",
        )?,
        "require-concurrent-reindex" => concurrently_after(
            s,
            reindex_keyword(s)?,
            "rebuild it CONCURRENTLY, alone in a migration outside a transaction: reads and writes go on, and the old index serves until the new one is valid",
        )?,
        "adding-serial-primary-key-field" => primary_key(s)?,
        "disallowed-unique-constraint" => unique_using_index(s)?,
        "adding-field-with-default" => volatile_default(s)?,
        "adding-required-field" => (
            format!("add {c} nullable now; ship code that writes it on every INSERT and backfill old rows, then make it NOT NULL without a long lock (rule adding-not-nullable-field). If one constant suits every row, `ADD COLUMN {c} … NOT NULL DEFAULT <constant>` is instant instead"),
            vec![now(format!("ALTER TABLE {t} ADD COLUMN {c} {};", add_column_type(s)?))],
        ),
        "changing-column-type" => (
            format!("add a column of the new type; release N writes both {c} and {c}_new and backfills {c}_new in batches, release N+1 reads {c}_new, the release after drops {c} with a reviewed exception"),
            vec![now(format!("ALTER TABLE {t} ADD COLUMN {c}_new {};", new_type(s)?))],
        ),
        "adding-foreign-key-constraint" => foreign_key_not_valid(s)?,
        "constraint-missing-not-valid" => check_not_valid(s)?,
        "adding-not-nullable-field" => not_null_dance(s),
        "renaming-column" => {
            let new = renamed_to(s)?;
            let ty = columns.type_of(t, &c).map(str::to_owned).unwrap_or_else(|| format!("<type of {c}>"));
            (
                format!("keep {c}; add {new}: release N writes both and backfills {new} in batches, release N+1 reads {new}, the release after drops {c} with a reviewed exception"),
                vec![now(format!("ALTER TABLE {t} ADD COLUMN {new} {ty};"))],
            )
        }
        "renaming-table" => {
            let new = renamed_to(s)?;
            (
                format!("rename and keep the old name as an auto-updatable view in the same transaction: the previous release keeps reading and writing {t}; drop the view once no deployed release uses the old name"),
                vec![now(format!("ALTER TABLE {t} RENAME TO {new};\nCREATE VIEW {t} AS SELECT * FROM {new};"))],
            )
        }
        "ban-drop-column" => later_drop(s, "ban-drop-column", &format!("{t}.{c}")),
        "ban-drop-table" => later_drop(s, "ban-drop-table", t),
        "require-lock-timeout" => (
            "the runner already sets lock_timeout (MIGRATION_LOCK_TIMEOUT_SECS, default 5 s) on its session: drop the override; a statement that needs longer uses `SET LOCAL lock_timeout = '30s'`".to_owned(),
            vec![now(without(s, turns_lock_timeout_off))],
        ),
        "no-transaction-required" => (
            "give the statement a migration of its own whose first line is `-- no-transaction`".to_owned(),
            vec![now(format!("{NO_TX}{}", s.parsed.stmt_text(s.stmt)))],
        ),
        "no-transaction-one-statement" => (
            "one migration per statement; only those that need it run outside a transaction".to_owned(),
            one_per_statement(s),
        ),
        _ => return None,
    };
    if !matches!(
        rule,
        "require-lock-timeout" | "no-transaction-one-statement"
    ) {
        steps.splice(0..0, rest_of_file(s));
    }
    Some(Rewrite { note, steps })
}

fn now(sql: String) -> Step {
    Step {
        when: When::ThisRelease,
        sql,
    }
}

/// The file without the statement the finding is about, when anything else is left: it stays
/// a migration of its own, before the rewrite.
fn rest_of_file(s: &Subject<'_, '_>) -> Vec<Step> {
    if s.parsed.stmts.len() < 2 {
        return Vec::new();
    }
    let i = s.stmt;
    vec![now(without(s, |stmt| {
        stmt.syntax().text_range() == s.parsed.stmts[i].0.syntax().text_range()
    }))]
}

/// The file's text without the statements `drop` picks (comments and the rest kept).
fn without(s: &Subject<'_, '_>, drop: impl Fn(&ast::Stmt) -> bool) -> String {
    let mut out = String::new();
    let mut at = 0;
    for (stmt, start, end) in &s.parsed.stmts {
        if drop(stmt) {
            out.push_str(&s.parsed.text[at..*start]);
            at = *end;
        }
    }
    out.push_str(&s.parsed.text[at..]);
    // Where a statement was cut out, one blank line at most remains.
    let mut tidy = String::new();
    for line in out.trim().lines() {
        let line = line.trim_end();
        if !(line.is_empty() && (tidy.is_empty() || tidy.ends_with("\n\n"))) {
            tidy.push_str(line);
            tidy.push('\n');
        }
    }
    tidy
}

fn create_index(s: &Subject<'_, '_>) -> Option<ast::CreateIndex> {
    match &s.parsed.stmts[s.stmt].0 {
        ast::Stmt::CreateIndex(c) => Some(c.clone()),
        _ => None,
    }
}

fn concurrent_index(s: &Subject<'_, '_>) -> Option<(String, Vec<Step>)> {
    let index = create_index(s)?;
    let (start, _) = span(index.syntax());
    let at = u32::from(index.index_token()?.text_range().end()) as usize - start;
    let sql = s.parsed.stmt_text(s.stmt);
    let concurrent = format!("{} CONCURRENTLY{}", &sql[..at], &sql[at..]);
    Some((
        "build it CONCURRENTLY, alone in a migration outside a transaction (writes go on meanwhile); if the build fails, the runner drops the invalid index so the next start retries".to_owned(),
        vec![now(format!("{NO_TX}{concurrent}"))],
    ))
}

/// The statement with `CONCURRENTLY` after `keyword`, alone in a `-- no-transaction` file.
fn concurrently_after(
    s: &Subject<'_, '_>,
    keyword: squawk_syntax::SyntaxToken,
    note: &str,
) -> Option<(String, Vec<Step>)> {
    let (start, _) = span(s.parsed.stmts[s.stmt].0.syntax());
    let at = u32::from(keyword.text_range().end()) as usize - start;
    let sql = s.parsed.stmt_text(s.stmt);
    Some((
        note.to_owned(),
        vec![now(format!(
            "{NO_TX}{} CONCURRENTLY{}",
            &sql[..at],
            &sql[at..]
        ))],
    ))
}

fn drop_index_keyword(s: &Subject<'_, '_>) -> Option<squawk_syntax::SyntaxToken> {
    match &s.parsed.stmts[s.stmt].0 {
        ast::Stmt::DropIndex(d) => d.index_token(),
        _ => None,
    }
}

/// `INDEX`, `TABLE`, `SCHEMA` or `DATABASE`: where `REINDEX … CONCURRENTLY` takes it.
fn reindex_keyword(s: &Subject<'_, '_>) -> Option<squawk_syntax::SyntaxToken> {
    let ast::Stmt::Reindex(r) = &s.parsed.stmts[s.stmt].0 else {
        return None;
    };
    match r.reindex_target()? {
        ast::ReindexTarget::ReindexTargetIndex(t) => t.index_token(),
        ast::ReindexTarget::ReindexTargetTable(t) => t.table_token(),
        ast::ReindexTarget::ReindexTargetSchema(t) => t.schema_token(),
        ast::ReindexTarget::ReindexTargetDatabase(t) => t.database_token(),
        ast::ReindexTarget::ReindexTargetSystem(_) => None,
    }
}

/// A primary key without the long lock: its unique index built CONCURRENTLY, then attached
/// (instant when the key's columns are already NOT NULL). A new serial column comes first,
/// without the key: its sequence, the rows backfilled in batches, NOT NULL proven by a CHECK.
fn primary_key(s: &Subject<'_, '_>) -> Option<(String, Vec<Step>)> {
    let t = &s.table;
    let name = format!("{t}_pkey");
    let attach = |columns: &str| {
        vec![
            now(format!(
                "{NO_TX}CREATE UNIQUE INDEX CONCURRENTLY {name} ON {t} {columns};"
            )),
            now(format!(
                "ALTER TABLE {t} ADD CONSTRAINT {name} PRIMARY KEY USING INDEX {name};"
            )),
        ]
    };
    if let Some(constraint) = add_constraint(s) {
        let ast::Constraint::PrimaryKeyConstraint(pk) = &constraint else {
            return None;
        };
        let body = body_from(&constraint, pk.primary_token())?;
        let columns = body["PRIMARY KEY".len().min(body.len())..]
            .trim()
            .to_owned();
        return Some((
            "build the key's unique index CONCURRENTLY in its own migration, then attach it as the primary key (instant once the key's columns are NOT NULL: if one is not, prove it first as rule adding-not-nullable-field shows, or attaching it scans the table)".to_owned(),
            attach(&columns),
        ));
    }
    let Some(ast::AlterTableAction::AddColumn(add)) = &s.action else {
        return None;
    };
    let c = s.column();
    let written = text(add.ty()?.syntax());
    let ty = match written.to_ascii_lowercase().as_str() {
        "smallserial" | "serial2" => "smallint",
        "serial" | "serial4" => "integer",
        "bigserial" | "serial8" => "bigint",
        _ => return None,
    };
    let seq = format!("{t}_{c}_seq");
    let mut steps = vec![
        now(format!(
            "ALTER TABLE {t} ADD COLUMN {c} {ty};\nCREATE SEQUENCE {seq} AS {ty} OWNED BY {t}.{c};\nALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT nextval('{seq}');"
        )),
        now(backfill(t, &c, &format!("nextval('{seq}')"))),
    ];
    steps.extend(not_null_dance(s).1);
    steps.extend(attach(&format!("({c})")));
    Some((
        format!(
            "add {c} as a plain {ty} with its sequence as the default (instant), backfill existing rows in committed batches, prove NOT NULL with a CHECK, then build the key's unique index CONCURRENTLY and attach it"
        ),
        steps,
    ))
}

/// A DO block that fills `c` with `value` where it is NULL, in batches of 1000 rows that each
/// commit (row locks last one batch).
fn backfill(t: &str, c: &str, value: &str) -> String {
    format!(
        "{NO_TX}-- Backfill in batches of 1000 rows, each committed: row locks last one batch.\n\
         DO $$\nDECLARE\n  batch bigint;\nBEGIN\n  LOOP\n    UPDATE {t} SET {c} = {value}\n     WHERE ctid IN (SELECT ctid FROM {t} WHERE {c} IS NULL LIMIT 1000 FOR UPDATE SKIP LOCKED);\n    GET DIAGNOSTICS batch = ROW_COUNT;\n    EXIT WHEN batch = 0;\n    COMMIT;\n  END LOOP;\nEND $$;"
    )
}

fn add_constraint(s: &Subject<'_, '_>) -> Option<ast::Constraint> {
    match &s.action {
        Some(ast::AlterTableAction::AddConstraint(a)) => a.constraint(),
        _ => None,
    }
}

/// The constraint's name, or PostgreSQL's default one for it.
fn constraint_name(
    constraint: &ast::Constraint,
    table: &str,
    columns: &str,
    suffix: &str,
) -> String {
    let named = match constraint {
        ast::Constraint::CheckConstraint(k) => k.constraint_name_clause(),
        ast::Constraint::ForeignKeyConstraint(k) => k.constraint_name_clause(),
        ast::Constraint::UniqueConstraint(k) => k.constraint_name_clause(),
        _ => None,
    };
    named
        .and_then(|n| n.constraint_name())
        .map(|n| text(n.syntax()))
        .unwrap_or_else(|| {
            let cols: Vec<&str> = columns
                .split(|c: char| c == ',' || c == '(' || c == ')' || c.is_whitespace())
                .filter(|w| !w.is_empty())
                .collect();
            format!("{table}_{}_{suffix}", cols.join("_"))
        })
}

/// A constraint's text from its keyword on (without `CONSTRAINT name`).
fn body_from(
    constraint: &ast::Constraint,
    keyword: Option<squawk_syntax::SyntaxToken>,
) -> Option<String> {
    let node = constraint.syntax();
    let from = u32::from(keyword?.text_range().start()) - u32::from(node.text_range().start());
    Some(text(node)[from as usize..].trim().to_owned())
}

fn unique_using_index(s: &Subject<'_, '_>) -> Option<(String, Vec<Step>)> {
    let constraint = add_constraint(s)?;
    let ast::Constraint::UniqueConstraint(u) = &constraint else {
        return None;
    };
    let body = body_from(&constraint, u.unique_token())?;
    let columns = body.trim_start_matches(|c: char| c.is_alphabetic() || c.is_whitespace());
    let t = &s.table;
    let name = constraint_name(&constraint, t, columns, "key");
    Some((
        "build the unique index CONCURRENTLY in its own migration, then attach it as the constraint (instant)".to_owned(),
        vec![
            now(format!("{NO_TX}CREATE UNIQUE INDEX CONCURRENTLY {name} ON {t} {columns};")),
            now(format!("ALTER TABLE {t} ADD CONSTRAINT {name} UNIQUE USING INDEX {name};")),
        ],
    ))
}

fn not_valid_then_validate(t: &str, name: &str, add: String) -> Vec<Step> {
    vec![
        now(add),
        now(format!("ALTER TABLE {t} VALIDATE CONSTRAINT {name};")),
    ]
}

fn foreign_key_not_valid(s: &Subject<'_, '_>) -> Option<(String, Vec<Step>)> {
    let t = &s.table;
    let note = "add it NOT VALID (instant; new rows are checked), then VALIDATE it in a later migration: validation takes a lock that lets reads and writes go on".to_owned();
    if let Some(constraint) = add_constraint(s) {
        let ast::Constraint::ForeignKeyConstraint(fk) = &constraint else {
            return None;
        };
        let body = body_from(&constraint, fk.foreign_token())?;
        let columns = body
            .split(')')
            .next()
            .unwrap_or("")
            .trim_start_matches(|c: char| c != '(');
        let name = constraint_name(&constraint, t, columns, "fkey");
        let add = format!("ALTER TABLE {t} ADD CONSTRAINT {name} {body} NOT VALID;");
        return Some((note, not_valid_then_validate(t, &name, add)));
    }
    // `ADD COLUMN c type REFERENCES other (id)`: the column first, the key NOT VALID.
    let Some(ast::AlterTableAction::AddColumn(add)) = &s.action else {
        return None;
    };
    let references = add.constraints().find_map(|k| match k {
        ast::Constraint::ReferencesConstraint(r) => Some(r),
        _ => None,
    })?;
    let refs = text(references.syntax());
    let refs = &refs[refs.to_ascii_uppercase().find("REFERENCES")?..];
    let c = s.column();
    let name = format!("{t}_{c}_fkey");
    let ty = text(add.ty()?.syntax());
    // The column keeps its default (a constant one is instant; the key checks its rows later).
    let default = add
        .constraints()
        .find_map(|k| match k {
            ast::Constraint::DefaultConstraint(d) => Some(format!(" {}", text(d.syntax()))),
            _ => None,
        })
        .unwrap_or_default();
    let add = format!(
        "ALTER TABLE {t} ADD COLUMN {c} {ty}{default};\nALTER TABLE {t} ADD CONSTRAINT {name} FOREIGN KEY ({c}) {refs} NOT VALID;"
    );
    Some((note, not_valid_then_validate(t, &name, add)))
}

fn check_not_valid(s: &Subject<'_, '_>) -> Option<(String, Vec<Step>)> {
    let t = &s.table;
    if matches!(s.action, Some(ast::AlterTableAction::ValidateConstraint(_))) {
        return Some((
            "VALIDATE in a migration of its own, after the one that adds the constraint NOT VALID has committed".to_owned(),
            vec![now(s.parsed.stmt_text(s.stmt))],
        ));
    }
    let constraint = add_constraint(s)?;
    let ast::Constraint::CheckConstraint(check) = &constraint else {
        return None;
    };
    let body = body_from(&constraint, check.check_token())?;
    let name = constraint_name(&constraint, t, &s.column(), "check");
    Some((
        "add it NOT VALID (instant; new rows are checked), then VALIDATE it in a later migration: validation takes a lock that lets reads and writes go on".to_owned(),
        not_valid_then_validate(t, &name, format!("ALTER TABLE {t} ADD CONSTRAINT {name} {body} NOT VALID;")),
    ))
}

fn not_null_dance(s: &Subject<'_, '_>) -> (String, Vec<Step>) {
    let t = &s.table;
    let c = s.column();
    let n = format!("{t}_{c}_not_null");
    (
        "prove it with a CHECK first: add it NOT VALID, VALIDATE it in a later migration (reads and writes go on), then SET NOT NULL, which PostgreSQL 12+ accepts without a scan".to_owned(),
        vec![
            now(format!(
                "ALTER TABLE {t} ADD CONSTRAINT {n} CHECK ({c} IS NOT NULL) NOT VALID;"
            )),
            now(format!(
                "ALTER TABLE {t} VALIDATE CONSTRAINT {n};\nALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;\nALTER TABLE {t} DROP CONSTRAINT {n};"
            )),
        ],
    )
}

fn add_column_type(s: &Subject<'_, '_>) -> Option<String> {
    match &s.action {
        Some(ast::AlterTableAction::AddColumn(c)) => Some(text(c.ty()?.syntax())),
        _ => None,
    }
}

fn new_type(s: &Subject<'_, '_>) -> Option<String> {
    let Some(ast::AlterTableAction::AlterColumn(a)) = &s.action else {
        return None;
    };
    match a.option()? {
        ast::AlterColumnOption::SetType(t) => Some(text(t.ty()?.syntax())),
        _ => None,
    }
}

fn renamed_to(s: &Subject<'_, '_>) -> Option<String> {
    match &s.action {
        Some(ast::AlterTableAction::RenameColumn(r)) => Some(text(r.column_name()?.syntax())),
        Some(ast::AlterTableAction::TableRenameTo(r)) => Some(last(r.table_name()?.syntax())),
        _ => None,
    }
}

/// A volatile default: add the column bare, give new rows the default, backfill old rows in
/// batches that each commit (row locks held for one batch only).
fn volatile_default(s: &Subject<'_, '_>) -> Option<(String, Vec<Step>)> {
    let Some(ast::AlterTableAction::AddColumn(add)) = &s.action else {
        return None;
    };
    let default = add.constraints().find_map(|k| match k {
        ast::Constraint::DefaultConstraint(d) => d.expr().map(|e| text(e.syntax())),
        _ => None,
    })?;
    let (t, c) = (&s.table, s.column());
    let ty = text(add.ty()?.syntax());
    let backfill = backfill(t, &c, &default);
    Some((
        format!(
            "add {c} without a default (instant), give new rows the default (instant), then backfill existing rows in committed batches"
        ),
        vec![
            now(format!(
                "ALTER TABLE {t} ADD COLUMN {c} {ty};\nALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {default};"
            )),
            now(backfill),
        ],
    ))
}

/// A contract drop: the same statement, one release after the code stopped using it.
fn later_drop(s: &Subject<'_, '_>, rule: &str, what: &str) -> (String, Vec<Step>) {
    let inserts = if rule == "ban-drop-column" {
        " (if it is NOT NULL without a default, drop NOT NULL or add a default in that release, so its INSERTs can leave it out)"
    } else {
        ""
    };
    (
        format!(
            "first ship a release that neither reads nor writes {what}{inserts}; drop it one release later, with a reviewed exception naming that release"
        ),
        vec![Step {
            when: When::NextRelease,
            sql: format!(
                "-- migrate-lint: allow {rule} — release N stopped reading and writing {what}\n{}",
                s.parsed.stmt_text(s.stmt)
            ),
        }],
    )
}

fn one_per_statement(s: &Subject<'_, '_>) -> Vec<Step> {
    (0..s.parsed.stmts.len())
        .map(|i| {
            let stmt = &s.parsed.stmts[i].0;
            let own_tx_control = matches!(stmt, ast::Stmt::Do(_))
                && text(stmt.syntax()).to_ascii_uppercase().contains("COMMIT");
            let sql = s.parsed.stmt_text(i);
            now(if concurrently(stmt) || own_tx_control {
                format!("{NO_TX}{sql}")
            } else {
                sql
            })
        })
        .collect()
}
