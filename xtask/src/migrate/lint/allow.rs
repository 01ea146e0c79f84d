//! Reviewed exceptions, written in the migration next to the statement:
//!
//! ```sql
//! -- migrate-lint: allow ban-drop-column — release 41 stopped reading job_offers.location
//! ALTER TABLE job_offers DROP COLUMN location;
//! ```
//!
//! It covers the statement that follows it (or the one it trails on the same line). An
//! exception without a reason, for a rule that does not exist, or that covers nothing is
//! itself a problem: exceptions stay few, explained and current.

use super::statements::Parsed;
use super::{Finding, Problem, RULES};

const MARKER: &str = "migrate-lint:";

#[derive(Debug)]
struct Exception {
    line: usize,
    offset: usize,
    rule: String,
    reason: String,
}

/// Marks the findings the file excepts; returns the problems with its exceptions.
pub(super) fn apply(parsed: &Parsed<'_>, findings: &mut [Finding]) -> Vec<Problem> {
    let mut problems = Vec::new();
    for e in exceptions(parsed.text, &mut problems) {
        if !RULES.contains(&e.rule.as_str()) {
            problems.push(Problem {
                rule: "unknown-rule",
                line: e.line,
                message: format!(
                    "`{}` is not a rule of this lint; the rules are: {}",
                    e.rule,
                    RULES.join(", ")
                ),
            });
            continue;
        }
        let Some(stmt) = covered(parsed, e.offset) else {
            problems.push(unused(&e));
            continue;
        };
        let stmt_lines = statement_lines(parsed, stmt);
        let mut used = false;
        for f in findings.iter_mut() {
            if f.rule == e.rule && stmt_lines.contains(&f.line) {
                f.excepted = Some(e.reason.clone());
                used = true;
            }
        }
        if !used {
            problems.push(unused(&e));
        }
    }
    problems
}

fn unused(e: &Exception) -> Problem {
    Problem {
        rule: "unused-exception",
        line: e.line,
        message: format!(
            "this exception for {} covers no finding of the statement that follows it: remove it (or move it next to the statement)",
            e.rule
        ),
    }
}

fn exceptions(text: &str, problems: &mut Vec<Problem>) -> Vec<Exception> {
    let mut out = Vec::new();
    let mut offset = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let at = offset;
        offset += line.len();
        let Some(pos) = line.find("--") else { continue };
        let comment = line[pos + 2..].trim();
        let Some(rest) = comment.strip_prefix(MARKER) else {
            continue;
        };
        let line_no = n + 1;
        let Some(rest) = rest.trim().strip_prefix("allow ") else {
            problems.push(Problem {
                rule: "malformed-exception",
                line: line_no,
                message:
                    "write exceptions as `-- migrate-lint: allow <rule> — <why it is safe here>`"
                        .to_owned(),
            });
            continue;
        };
        let rest = rest.trim();
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .unwrap_or(rest.len());
        let (rule, reason) = rest.split_at(end);
        let reason = reason
            .trim()
            .trim_start_matches(['—', '–', '-', ':'])
            .trim();
        if reason.is_empty() {
            problems.push(Problem {
                rule: "exception-without-reason",
                line: line_no,
                message: format!("the exception for {rule} gives no reason: say why it is safe here (`-- migrate-lint: allow {rule} — <why>`)"),
            });
            continue;
        }
        out.push(Exception {
            line: line_no,
            offset: at + pos,
            rule: rule.to_owned(),
            reason: reason.to_owned(),
        });
    }
    out
}

/// The statement an exception at `offset` covers: the one it trails on its line, else the
/// next one.
fn covered(parsed: &Parsed<'_>, offset: usize) -> Option<usize> {
    let line = parsed.line_of(offset);
    if let Some(i) = parsed
        .stmts
        .iter()
        .position(|(_, _, end)| *end <= offset && parsed.line_of(end.saturating_sub(1)) == line)
    {
        return Some(i);
    }
    parsed
        .stmts
        .iter()
        .position(|(_, start, _)| *start > offset)
}

fn statement_lines(parsed: &Parsed<'_>, i: usize) -> std::ops::RangeInclusive<usize> {
    let (_, start, end) = &parsed.stmts[i];
    parsed.line_of(*start)..=parsed.line_of(end.saturating_sub(1))
}
