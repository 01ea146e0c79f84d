//! The column types earlier migrations created, so a rewrite can spell out
//! `ADD COLUMN new_name <the old column's type>`.

use std::collections::BTreeMap;

use squawk_syntax::ast::{self, AstNode};

use super::statements::{Parsed, last, text};

#[derive(Debug, Default)]
pub(crate) struct Columns(BTreeMap<(String, String), String>);

impl Columns {
    pub(crate) fn type_of(&self, table: &str, column: &str) -> Option<&str> {
        self.0
            .get(&(table.to_owned(), column.to_owned()))
            .map(String::as_str)
    }

    /// Records the columns `sql` creates or adds.
    pub(crate) fn learn(&mut self, sql: &str) {
        let parsed = Parsed::new(sql);
        for (stmt, _, _) in &parsed.stmts {
            match stmt {
                ast::Stmt::CreateTable(t) => {
                    let Some(table) = t.table_name().and_then(|n| n.path()) else {
                        continue;
                    };
                    let table = last(table.syntax());
                    for arg in t.table_arg_list().into_iter().flat_map(|l| l.args()) {
                        if let ast::TableArg::Column(c) = arg
                            && let (Some(name), Some(ty)) = (c.name(), c.ty())
                        {
                            self.add(&table, &text(name.syntax()), &text(ty.syntax()));
                        }
                    }
                }
                ast::Stmt::AlterTable(a) => {
                    let Some(table) = a
                        .table_relation_name()
                        .and_then(|r| r.table_name_ref())
                        .map(|t| last(t.syntax()))
                    else {
                        continue;
                    };
                    for action in a.actions() {
                        if let ast::AlterTableAction::AddColumn(c) = action
                            && let (Some(name), Some(ty)) = (c.column_name(), c.ty())
                        {
                            self.add(&table, &text(name.syntax()), &text(ty.syntax()));
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn add(&mut self, table: &str, column: &str, ty: &str) {
        self.0.insert(
            (table.to_owned(), column.trim_matches('"').to_owned()),
            ty.to_owned(),
        );
    }
}
