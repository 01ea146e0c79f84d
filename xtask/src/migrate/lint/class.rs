//! Expand or contract: can the previous release keep running against the schema after this
//! migration? *Expand* adds (tables, nullable or defaulted columns, indexes, `NOT VALID`
//! constraints, views) or loosens; *contract* removes, renames or retypes something a release
//! may read or write, or makes old INSERTs fail. Judged per statement; one contract statement
//! makes the migration contract. Objects the same file creates are exempt, as in the lint.

use squawk_syntax::ast::{self, AstNode};

use super::statements::{Parsed, last, text};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Class {
    Expand,
    Contract(Vec<ContractStatement>),
}

impl Class {
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            Class::Expand => "expand",
            Class::Contract(_) => "contract",
        }
    }
}

/// A statement that makes a migration contract, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContractStatement {
    pub(crate) line: usize,
    pub(crate) statement: String,
    pub(crate) why: String,
}

pub(crate) fn classify(parsed: &Parsed<'_>) -> Class {
    let mut found = Vec::new();
    for (i, (stmt, start, _)) in parsed.stmts.iter().enumerate() {
        let created = parsed.created_before(i);
        let table = parsed.target_table(i);
        if table.as_ref().is_some_and(|t| created.contains(t)) {
            continue;
        }
        let why = match stmt {
            ast::Stmt::AlterTable(a) => {
                let t = table.clone().unwrap_or_default();
                let keeps_old_name = parsed.view_created_after(i, &t);
                a.actions().find_map(|action| action_why(&t, &action, keeps_old_name))
            }
            ast::Stmt::DropTable(_) => Some(format!(
                "drops table {}, which the previous release may read or write",
                table.unwrap_or_default()
            )),
            ast::Stmt::DropIndex(_) => Some("drops an index the previous release may need (an ON CONFLICT target, or a query that is only fast with it)".to_owned()),
            ast::Stmt::DropView(_) | ast::Stmt::DropType(_) | ast::Stmt::DropFunction(_) | ast::Stmt::DropSequence(_) | ast::Stmt::DropSchema(_) => {
                Some("drops an object the previous release may use".to_owned())
            }
            ast::Stmt::AlterType(t) if text(t.syntax()).to_ascii_uppercase().contains(" RENAME ") => {
                Some("renames a type or one of its values, which the previous release may use".to_owned())
            }
            _ => None,
        };
        if let Some(why) = why {
            found.push(ContractStatement {
                line: parsed.line_of(*start),
                statement: parsed.stmt_text(i),
                why,
            });
        }
    }
    if found.is_empty() {
        Class::Expand
    } else {
        Class::Contract(found)
    }
}

fn action_why(table: &str, action: &ast::AlterTableAction, keeps_old_name: bool) -> Option<String> {
    let column = |c: Option<ast::ColumnNameRef>| {
        c.map(|c| format!("{table}.{}", last(c.syntax())))
            .unwrap_or_else(|| table.to_owned())
    };
    match action {
        ast::AlterTableAction::DropColumn(d) => Some(format!(
            "drops column {}, which the previous release may read or write",
            column(d.column_name_ref())
        )),
        ast::AlterTableAction::RenameColumn(r) => Some(format!(
            "renames column {}: the previous release still uses the old name",
            column(r.column_name_ref())
        )),
        ast::AlterTableAction::TableRenameTo(_) if !keeps_old_name => Some(format!(
            "renames table {table}: the previous release still uses the old name (keep it readable with `CREATE VIEW {table} AS SELECT * FROM <new name>` in the same migration)"
        )),
        ast::AlterTableAction::AddColumn(c) if required(c) => Some(format!(
            "adds {} as NOT NULL without a default: the previous release's INSERTs do not set it and fail",
            c.column_name()
                .map(|n| format!("{table}.{}", text(n.syntax())))
                .unwrap_or_default()
        )),
        ast::AlterTableAction::AlterColumn(a) => match a.option()? {
            ast::AlterColumnOption::SetType(_) => Some(format!(
                "changes the type of {}, which the previous release reads and writes as the old type",
                column(a.column_name_ref())
            )),
            ast::AlterColumnOption::SetNotNull(_) => Some(format!(
                "makes {} NOT NULL: a release that does not write it (the rollback target may be one) fails its INSERTs",
                column(a.column_name_ref())
            )),
            ast::AlterColumnOption::DropDefault(_) => Some(format!(
                "drops the default of {}: the previous release's INSERTs that rely on it change or fail",
                column(a.column_name_ref())
            )),
            _ => None,
        },
        _ => None,
    }
}

/// `ADD COLUMN … NOT NULL` without `DEFAULT` (a serial type has one: its sequence).
pub(crate) fn required(c: &ast::AddColumn) -> bool {
    let serial = c.ty().is_some_and(|t| {
        matches!(
            text(t.syntax()).to_ascii_lowercase().as_str(),
            "smallserial" | "serial2" | "serial" | "serial4" | "bigserial" | "serial8"
        )
    });
    let not_null = c.constraints().any(|k| {
        matches!(
            k,
            ast::Constraint::NotNullConstraint(_) | ast::Constraint::PrimaryKeyConstraint(_)
        )
    });
    let default = c.constraints().any(|k| {
        matches!(
            k,
            ast::Constraint::DefaultConstraint(_) | ast::Constraint::GeneratedConstraint(_)
        )
    });
    not_null && !default && !serial
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(sql: &str) -> &'static str {
        classify(&Parsed::new(sql)).as_str()
    }

    #[test]
    fn expand_adds_and_contract_removes_renames_or_retypes() {
        for sql in [
            "CREATE TABLE tags (id bigint PRIMARY KEY);",
            "ALTER TABLE job_offers ADD COLUMN note text;",
            "ALTER TABLE job_offers ADD COLUMN views bigint NOT NULL DEFAULT 0;",
            "ALTER TABLE job_offers ADD CONSTRAINT c CHECK (salary_min >= 0) NOT VALID;",
            "CREATE INDEX CONCURRENTLY i ON job_offers (title);",
            "ALTER TABLE job_offers DROP CONSTRAINT c;",
            "ALTER TABLE job_offers RENAME TO offers; CREATE VIEW job_offers AS SELECT * FROM offers;",
            "CREATE TABLE t (id int); ALTER TABLE t DROP COLUMN id;",
            "UPDATE job_offers SET title = btrim(title);",
            "ALTER TABLE offer_views ADD COLUMN id bigserial PRIMARY KEY;",
        ] {
            assert_eq!(class(sql), "expand", "{sql}");
        }
        for sql in [
            "ALTER TABLE job_offers DROP COLUMN location;",
            "ALTER TABLE job_offers RENAME COLUMN location TO city;",
            "ALTER TABLE job_offers RENAME TO offers;",
            "ALTER TABLE job_offers ALTER COLUMN salary_min TYPE bigint;",
            "ALTER TABLE job_offers ALTER COLUMN location SET NOT NULL;",
            "ALTER TABLE job_offers ADD COLUMN views bigint NOT NULL;",
            "DROP TABLE companies;",
            "DROP INDEX job_offers_company_id_idx;",
        ] {
            assert_eq!(class(sql), "contract", "{sql}");
        }
    }
}
