//! How migration results look: a table for people, one JSON document for machines.

use std::collections::BTreeMap;

use intowork_db::migrate::{State, Status, Step, StepKind, StepOutcome};
use serde_json::{Value, json};

use crate::migrate::lint::class::Class;

fn class_of(classes: &BTreeMap<i64, Class>, version: i64) -> &'static str {
    classes.get(&version).map_or("?", Class::as_str)
}

pub(crate) fn status_text(st: &Status, classes: &BTreeMap<i64, Class>) -> String {
    let mut out = format!(
        "{:<16} {:<28} {:<9} {:<9} {}\n",
        "version", "description", "class", "state", "applied at (UTC)"
    );
    for e in &st.entries {
        let (state, when) = match &e.state {
            State::Applied {
                installed_on,
                execution_ms,
            } => ("applied", format!("{installed_on} ({execution_ms} ms)")),
            State::Pending => ("pending", String::new()),
            State::Drifted { installed_on } => (
                "DRIFTED",
                format!("{installed_on}: file edited after it was applied"),
            ),
            State::Missing => (
                "MISSING",
                "applied, but no such file in migrations/".to_owned(),
            ),
            State::Dirty => ("DIRTY", "failed part-way in an earlier run".to_owned()),
        };
        out.push_str(&format!(
            "{:<16} {:<28} {:<9} {:<9} {when}\n",
            e.version,
            e.description,
            class_of(classes, e.version),
            state
        ));
    }
    let pending = st.pending().len();
    let problems = st.problems().len();
    out.push_str(&match (pending, problems) {
        (0, 0) => "up to date\n".to_owned(),
        (n, 0) => format!("{n} pending: run `cargo xtask migrate run`\n"),
        _ => format!(
            "{problems} problem{}: {}\n",
            if problems == 1 { "" } else { "s" },
            fix(st)
        ),
    });
    out
}

fn fix(st: &Status) -> String {
    match st.check_runnable() {
        Err(e) => e.to_string(),
        Ok(()) => String::new(),
    }
}

/// One line for `status --check`.
pub(crate) fn stale_summary(st: &Status) -> String {
    let pending: Vec<String> = st.pending().iter().map(|e| e.version.to_string()).collect();
    let mut parts = Vec::new();
    if !pending.is_empty() {
        parts.push(format!("pending {}", pending.join(", ")));
    }
    if !st.problems().is_empty() {
        parts.push(fix(st));
    }
    parts.join("; ")
}

pub(crate) fn status_json(st: &Status, classes: &BTreeMap<i64, Class>) -> Value {
    let migrations: Vec<Value> = st
        .entries
        .iter()
        .map(|e| {
            let mut v = json!({
                "version": e.version,
                "description": e.description,
                "reversible": e.reversible,
                "no_transaction": e.no_tx,
                "class": class_of(classes, e.version),
            });
            let (state, installed_on, ms) = match &e.state {
                State::Applied {
                    installed_on,
                    execution_ms,
                } => ("applied", Some(installed_on), Some(*execution_ms)),
                State::Pending => ("pending", None, None),
                State::Drifted { installed_on } => ("drifted", Some(installed_on), None),
                State::Missing => ("missing", None, None),
                State::Dirty => ("dirty", None, None),
            };
            v["state"] = json!(state);
            if let Some(at) = installed_on {
                v["installed_on"] = json!(at);
            }
            if let Some(ms) = ms {
                v["execution_ms"] = json!(ms);
            }
            v
        })
        .collect();
    json!({
        "ok": true,
        "up_to_date": st.up_to_date(),
        "pending": st.pending().len(),
        "problems": st.problems().len(),
        "migrations": migrations,
    })
}

pub(crate) fn steps_text(steps: &[Step], dry_run: bool, verb: &str) -> String {
    if steps.is_empty() {
        return format!("nothing to {verb}: the database is up to date\n");
    }
    let mut out = String::new();
    for s in steps {
        let what = format!("{} {}", s.version, s.description);
        match &s.outcome {
            StepOutcome::Done { took } => out.push_str(&format!(
                "{} {what} ({} ms)\n",
                past(s.kind),
                took.as_millis()
            )),
            StepOutcome::WouldDo { took, changes } => {
                out.push_str(&format!(
                    "would {verb} {what} ({} ms, rolled back)\n",
                    took.as_millis()
                ));
                for c in changes {
                    out.push_str(&format!("    {c}\n"));
                }
            }
            StepOutcome::NotDryRunnable => {
                out.push_str(&format!(
                    "cannot dry-run {what}: it is marked `-- no-transaction`\n"
                ));
            }
            StepOutcome::NotChecked => out.push_str(&format!(
                "not checked {what}: it comes after a migration that cannot be dry-run\n"
            )),
        }
    }
    let total: u128 = steps.iter().map(|s| took(&s.outcome)).sum();
    let n = steps.len();
    let plural = if n == 1 { "" } else { "s" };
    out.push_str(&if dry_run {
        format!("dry run: {n} migration{plural} to {verb}; nothing was changed\n")
    } else {
        format!(
            "{n} migration{plural} {} in {total} ms\n",
            past(steps[0].kind)
        )
    });
    out
}

fn past(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Apply => "applied",
        StepKind::Revert => "reverted",
    }
}

fn took(outcome: &StepOutcome) -> u128 {
    match outcome {
        StepOutcome::Done { took } | StepOutcome::WouldDo { took, .. } => took.as_millis(),
        StepOutcome::NotDryRunnable | StepOutcome::NotChecked => 0,
    }
}

pub(crate) fn steps_json(action: &str, dry_run: bool, steps: &[Step]) -> Value {
    let steps: Vec<Value> = steps
        .iter()
        .map(|s| {
            let (outcome, changes) = match &s.outcome {
                StepOutcome::Done { .. } => (past(s.kind), None),
                StepOutcome::WouldDo { changes, .. } => ("would", Some(changes.iter().map(ToString::to_string).collect::<Vec<_>>())),
                StepOutcome::NotDryRunnable => ("not_dry_runnable", None),
                StepOutcome::NotChecked => ("not_checked", None),
            };
            let mut v = json!({ "version": s.version, "description": s.description, "outcome": outcome, "took_ms": took(&s.outcome) as u64 });
            if let Some(changes) = changes {
                v["changes"] = json!(changes);
            }
            v
        })
        .collect();
    json!({ "ok": true, "action": action, "dry_run": dry_run, "steps": steps })
}

pub(crate) fn error_json(action: &str, e: &anyhow::Error) -> Value {
    let kind = match e.downcast_ref::<intowork_db::migrate::MigrateError>() {
        Some(intowork_db::migrate::MigrateError::Connect(c)) => c.kind(),
        Some(intowork_db::migrate::MigrateError::Drift { .. }) => "drift",
        Some(intowork_db::migrate::MigrateError::Missing { .. }) => "missing",
        Some(intowork_db::migrate::MigrateError::LockTimeout { .. }) => "lock_timeout",
        Some(_) => "migration",
        None if e.downcast_ref::<intowork_config::Invalid>().is_some() => "configuration",
        None => "error",
    };
    json!({ "ok": false, "action": action, "error": { "kind": kind, "message": format!("{e:#}") } })
}
