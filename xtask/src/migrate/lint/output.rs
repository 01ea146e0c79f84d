//! How the lint's verdict looks: `file:line: rule [kind]` blocks for people, one JSON document
//! for machines.

use serde_json::{Value, json};

use super::class::Class;
use super::{Finding, Judged, Rewrite, When};

pub(crate) fn text(judged: &[Judged]) -> String {
    let mut out = String::new();
    for j in judged {
        out.push_str(&format!(
            "{:<16} {:<9} {}\n",
            j.file.version,
            j.class.as_str(),
            j.file.description
        ));
        if let Class::Contract(statements) = &j.class {
            for c in statements {
                out.push_str(&format!(
                    "    {}:{}: contract: {}\n",
                    j.file.path, c.line, c.why
                ));
            }
        }
    }
    for j in judged {
        for f in &j.findings {
            out.push('\n');
            out.push_str(&finding_text(&j.file.path, f));
        }
        for p in &j.problems {
            out.push_str(&format!(
                "\n{}:{}: {}\n  {}\n",
                j.file.path, p.line, p.rule, p.message
            ));
        }
    }
    let failing: usize = judged.iter().map(Judged::failures).sum();
    let excepted: usize = judged
        .iter()
        .flat_map(|j| &j.findings)
        .filter(|f| f.excepted.is_some())
        .count();
    out.push_str(&format!(
        "\n{} migration{} linted: {}{}\n",
        judged.len(),
        if judged.len() == 1 { "" } else { "s" },
        if failing == 0 {
            "no finding".to_owned()
        } else {
            format!("{failing} to fix")
        },
        if excepted == 0 {
            String::new()
        } else {
            format!(", {excepted} excepted with a reviewed reason")
        }
    ));
    out
}

pub(crate) fn finding_text(path: &str, f: &Finding) -> String {
    let mut out = format!("{path}:{}: {} [{}]\n", f.line, f.rule, f.kind);
    if let Some(reason) = &f.excepted {
        out.push_str(&format!("  excepted: {reason}\n"));
        return out;
    }
    out.push_str(&format!("  {}\n", indent(&f.statement, "  ")));
    out.push_str(&format!("  in production: {}\n", f.impact));
    if let Some(r) = &f.rewrite {
        out.push_str(&format!("  instead: {}\n", r.note));
        for (n, step) in r.steps.iter().enumerate() {
            let when = match step.when {
                When::ThisRelease => "this release",
                When::NextRelease => "next release",
            };
            out.push_str(&format!("  migration {} ({when}):\n", n + 1));
            out.push_str(&format!(
                "      {}\n",
                indent(step.sql.trim_end(), "      ")
            ));
        }
    }
    out
}

fn indent(text: &str, by: &str) -> String {
    text.lines().collect::<Vec<_>>().join(&format!("\n{by}"))
}

pub(crate) fn json(judged: &[Judged]) -> Value {
    let migrations: Vec<Value> = judged.iter().map(judged_json).collect();
    let failing: usize = judged.iter().map(Judged::failures).sum();
    json!({ "ok": failing == 0, "failing": failing, "migrations": migrations })
}

fn judged_json(j: &Judged) -> Value {
    let contract = match &j.class {
        Class::Expand => Vec::new(),
        Class::Contract(statements) => statements
            .iter()
            .map(|c| json!({"line": c.line, "statement": c.statement, "why": c.why}))
            .collect(),
    };
    json!({
        "version": j.file.version,
        "description": j.file.description,
        "file": j.file.path,
        "no_transaction": j.file.no_tx,
        "class": j.class.as_str(),
        "contract_statements": contract,
        "findings": j.findings.iter().map(|f| finding_json(&j.file.path, f)).collect::<Vec<_>>(),
        "problems": j.problems.iter().map(|p| json!({"file": j.file.path, "line": p.line, "rule": p.rule, "message": p.message})).collect::<Vec<_>>(),
    })
}

pub(crate) fn finding_json(path: &str, f: &Finding) -> Value {
    json!({
        "file": path,
        "line": f.line,
        "rule": f.rule,
        "kind": f.kind.as_str(),
        "impact": f.impact,
        "statement": f.statement,
        "rewrite": f.rewrite.as_ref().map(rewrite_json),
        "excepted": f.excepted,
    })
}

fn rewrite_json(r: &Rewrite) -> Value {
    let steps: Vec<Value> = r
        .steps
        .iter()
        .map(|s| {
            json!({
                "release": match s.when { When::ThisRelease => "this", When::NextRelease => "next" },
                "no_transaction": s.sql.starts_with("-- no-transaction"),
                "sql": s.sql,
            })
        })
        .collect();
    json!({ "note": r.note, "migrations": steps })
}
