//! One migration file parsed by squawk's parser: its statements with their places, and the
//! names the rules ask about (the table a statement alters, the tables the file creates).

use squawk_syntax::ast::{self, AstNode};
use squawk_syntax::{Parse, SourceFile, SyntaxNode};

pub(crate) struct Parsed<'a> {
    pub(crate) text: &'a str,
    pub(crate) parse: Parse<SourceFile>,
    /// Each statement with its byte range (from its first token, comments excluded).
    pub(crate) stmts: Vec<(ast::Stmt, usize, usize)>,
}

impl<'a> Parsed<'a> {
    pub(crate) fn new(text: &'a str) -> Parsed<'a> {
        let parse = SourceFile::parse(text);
        let stmts = parse
            .tree()
            .stmts()
            .map(|s| {
                let (start, end) = span(s.syntax());
                (s, start, end)
            })
            .collect();
        Parsed { text, parse, stmts }
    }

    pub(crate) fn syntax_errors(&self) -> Vec<(usize, String)> {
        self.parse
            .errors()
            .iter()
            .map(|e| {
                let offset: u32 = e.range().start().into();
                (self.line_of(offset as usize), e.message().to_owned())
            })
            .collect()
    }

    /// 1-based line of a byte offset.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .matches('\n')
            .count()
            + 1
    }

    /// The statement that contains `offset` (or the last one before it).
    pub(crate) fn stmt_at(&self, offset: usize) -> usize {
        self.stmts
            .iter()
            .rposition(|(_, start, _)| *start <= offset)
            .unwrap_or(0)
    }

    /// A statement's text as written, with its semicolon.
    pub(crate) fn stmt_text(&self, i: usize) -> String {
        let (_, start, end) = &self.stmts[i];
        let mut text = self.text[*start..*end].trim().to_owned();
        if !text.ends_with(';') {
            text.push(';');
        }
        text
    }

    /// Tables the file creates before statement `i` (nothing else can be using them yet, as
    /// long as the file runs in one transaction).
    pub(crate) fn created_before(&self, i: usize) -> Vec<String> {
        self.stmts[..i]
            .iter()
            .filter_map(|(s, _, _)| match s {
                ast::Stmt::CreateTable(t) => t
                    .table_name()
                    .and_then(|n| n.path())
                    .map(|p| last(p.syntax())),
                _ => None,
            })
            .collect()
    }

    /// The table statement `i` locks or changes, if it names one.
    pub(crate) fn target_table(&self, i: usize) -> Option<String> {
        let relation = match &self.stmts[i].0 {
            ast::Stmt::AlterTable(t) => t.table_relation_name(),
            ast::Stmt::CreateIndex(c) => c.table_relation_name(),
            ast::Stmt::DropTable(d) => {
                return d.table_name_refs().next().map(|t| last(t.syntax()));
            }
            ast::Stmt::Reindex(r) => {
                return match r.reindex_target()? {
                    ast::ReindexTarget::ReindexTargetTable(t) => {
                        t.table_name_ref().map(|t| last(t.syntax()))
                    }
                    _ => None,
                };
            }
            _ => None,
        }?;
        relation.table_name_ref().map(|t| last(t.syntax()))
    }

    /// Whether a later statement creates a view named `name` (a rename that keeps the old
    /// name readable and writable).
    pub(crate) fn view_created_after(&self, i: usize, name: &str) -> bool {
        self.stmts[i + 1..].iter().any(|(s, _, _)| match s {
            ast::Stmt::CreateView(v) => v
                .view()
                .and_then(|v| v.path())
                .is_some_and(|p| last(p.syntax()) == name),
            _ => false,
        })
    }
}

/// A node's range from its first non-trivia token.
pub(crate) fn span(node: &SyntaxNode) -> (usize, usize) {
    let range = node.text_range();
    let start = node
        .children_with_tokens()
        .find(|t| !t.kind().is_trivia())
        .map(|t| t.text_range().start())
        .unwrap_or(range.start());
    (u32::from(start) as usize, u32::from(range.end()) as usize)
}

/// A node's text, trimmed.
pub(crate) fn text(node: &SyntaxNode) -> String {
    node.text().to_string().trim().to_owned()
}

/// The last segment of a possibly qualified name (`public.users` → `users`), unquoted.
pub(crate) fn last(node: &SyntaxNode) -> String {
    let t = text(node);
    let seg = t.rsplit('.').next().unwrap_or(&t);
    seg.trim_matches('"').to_owned()
}
