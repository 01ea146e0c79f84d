//! What squawk cannot know about our runner, judged on squawk's parse tree:
//! - sqlx runs a file in one transaction unless its first line is `-- no-transaction`, and a
//!   `CONCURRENTLY` statement cannot run in one (`no-transaction-required`);
//! - PostgreSQL runs the statements of one multi-statement query in an implicit transaction,
//!   so a `-- no-transaction` file must hold exactly one (`no-transaction-one-statement`);
//! - the runner sets `lock_timeout` (MIGRATION_LOCK_TIMEOUT_SECS, 1–600 s) on its session
//!   before every migration, so a lock is always bounded — unless the file turns that off
//!   (`require-lock-timeout`, then judged by squawk's own rule on what follows).

use squawk_linter::{Linter, LinterSettings, Rule};
use squawk_syntax::SourceFile;
use squawk_syntax::ast::{self, AstNode};

use super::Violation;
use super::statements::Parsed;

/// A `lock_timeout` above this is as good as none for a table that serves requests.
const LONGEST_LOCK_WAIT_MS: u64 = 60_000;

pub(crate) fn violations(parsed: &Parsed<'_>, no_tx: bool) -> Vec<Violation> {
    let mut out = Vec::new();
    for (i, (stmt, start, _)) in parsed.stmts.iter().enumerate() {
        if !no_tx && concurrently(stmt) {
            out.push(Violation {
                rule: "no-transaction-required",
                offset: *start,
                stmt: i,
            });
        }
    }
    if no_tx && parsed.stmts.len() > 1 {
        let (_, start, _) = &parsed.stmts[1];
        out.push(Violation {
            rule: "no-transaction-one-statement",
            offset: *start,
            stmt: 1,
        });
    }
    out.extend(lock_timeout_turned_off(parsed));
    out
}

/// `CREATE INDEX`, `DROP INDEX` or `REINDEX` with `CONCURRENTLY`.
pub(crate) fn concurrently(stmt: &ast::Stmt) -> bool {
    match stmt {
        ast::Stmt::CreateIndex(c) => c.concurrently_token().is_some(),
        ast::Stmt::DropIndex(d) => d.concurrently_token().is_some(),
        ast::Stmt::Reindex(r) => r.is_concurrently(),
        _ => false,
    }
}

/// After the last statement that turns the runner's `lock_timeout` off, squawk's
/// `require-lock-timeout` judges the rest of the file as if nothing had set one.
fn lock_timeout_turned_off(parsed: &Parsed<'_>) -> Vec<Violation> {
    let Some(last_off) = parsed
        .stmts
        .iter()
        .rposition(|(s, _, _)| turns_lock_timeout_off(s))
    else {
        return Vec::new();
    };
    let cut = parsed.stmts[last_off].2;
    // Blank out what comes before (newlines kept, so offsets and lines stay true).
    let masked: String = parsed
        .text
        .char_indices()
        .map(|(i, c)| if i < cut && c != '\n' { ' ' } else { c })
        .collect();
    let parse = SourceFile::parse(&masked);
    let mut linter = Linter::with_rules(&[], &[]);
    linter.rules = [Rule::RequireLockTimeout].into_iter().collect();
    linter.settings = LinterSettings::default();
    linter
        .lint(&parse, &masked)
        .into_iter()
        .filter(|v| v.code == Rule::RequireLockTimeout)
        .map(|v| {
            let offset = u32::from(v.text_range.start()) as usize;
            Violation {
                rule: "require-lock-timeout",
                offset,
                stmt: parsed.stmt_at(offset),
            }
        })
        .collect()
}

/// `SET [LOCAL|SESSION] lock_timeout` to 0, DEFAULT (the server's 0) or more than a minute;
/// `RESET lock_timeout`; `RESET ALL`.
pub(crate) fn turns_lock_timeout_off(stmt: &ast::Stmt) -> bool {
    let text = stmt.syntax().text().to_string().to_ascii_lowercase();
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == '=' || c == ';')
        .filter(|w| !w.is_empty())
        .collect();
    match stmt {
        ast::Stmt::Reset(_) => words
            .get(1)
            .is_some_and(|w| *w == "lock_timeout" || *w == "all"),
        ast::Stmt::Set(_) => {
            let Some(at) = words.iter().position(|w| *w == "lock_timeout") else {
                return false;
            };
            let value = words[at + 1..].iter().find(|w| **w != "to");
            value.is_none_or(|v| {
                milliseconds(v).is_none_or(|ms| ms == 0 || ms > LONGEST_LOCK_WAIT_MS)
            })
        }
        _ => false,
    }
}

/// `0`, `'5s'`, `'1min'`, `500` (ms) → milliseconds; `default` and the unreadable → None.
fn milliseconds(value: &str) -> Option<u64> {
    let v = value.trim_matches('\'').trim();
    let digits = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let n: u64 = v[..digits].parse().ok()?;
    let unit = v[digits..].trim();
    let factor = match unit {
        "" | "ms" => 1,
        "s" => 1_000,
        "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    Some(n * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn off(sql: &str) -> bool {
        let p = Parsed::new(sql);
        turns_lock_timeout_off(&p.stmts[0].0)
    }

    #[test]
    fn what_turns_the_runners_lock_timeout_off() {
        for sql in [
            "SET lock_timeout = 0;",
            "SET lock_timeout TO DEFAULT;",
            "SET LOCAL lock_timeout = '0';",
            "SET lock_timeout = '10min';",
            "RESET lock_timeout;",
            "RESET ALL;",
        ] {
            assert!(off(sql), "{sql}");
        }
        for sql in [
            "SET lock_timeout = '2s';",
            "SET LOCAL lock_timeout TO '500ms';",
            "SET statement_timeout = 0;",
            "RESET statement_timeout;",
        ] {
            assert!(!off(sql), "{sql}");
        }
    }
}
