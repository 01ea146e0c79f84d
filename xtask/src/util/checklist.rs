//! Prints a report as a checklist for people, or as one JSON document for machines.

use std::io::{IsTerminal, Write};

use intowork_config::{Escaped, Report, Status, escape_control};
use serde::Serialize;

#[derive(Serialize)]
struct Document<'a> {
    ok: bool,
    checks: &'a [intowork_config::Check],
    summary: intowork_config::Summary,
}

pub(crate) fn json(report: &Report) -> String {
    let doc = Document {
        ok: !report.has_failures(),
        checks: &report.checks,
        summary: report.summary(),
    };
    serde_json::to_string_pretty(&doc).expect("a report always serialises")
}

/// Colour only on a terminal, and never when `NO_COLOR` is set (<https://no-color.org>).
pub(crate) fn use_colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

pub(crate) fn human(report: &Report, colour: bool) -> String {
    let width = report
        .checks
        .iter()
        .filter_map(|c| c.variable.as_ref().map(String::len))
        .max()
        .unwrap_or(0)
        .max(8);
    let mut out = String::new();
    for c in &report.checks {
        let status = paint(c.status, colour);
        // Every field may quote input (an env file's value, a URL's parameter): escaped, so
        // no value can move the cursor, clear the screen or start a forged line.
        let subject = escape_control(c.variable.as_deref().unwrap_or(&c.id)).into_owned();
        let source = c
            .source
            .as_deref()
            .map(|s| format!(" [{}]", Escaped(s)))
            .unwrap_or_default();
        let took = c
            .duration_ms
            .map(|ms| format!(" ({ms} ms)"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{status}  {subject:<width$}  {}{took}{source}\n",
            Escaped(&c.message)
        ));
        if let Some(hint) = c.hint.as_ref().filter(|_| c.status >= Status::Warn) {
            out.push_str(&format!("      {:<width$}  fix: {}\n", "", Escaped(hint)));
        }
    }
    let s = report.summary();
    let verdict = if report.has_failures() {
        "FAILED"
    } else {
        "ok"
    };
    out.push_str(&format!(
        "verify {verdict}: {} pass, {} warn, {} fail, {} skip\n",
        s.pass, s.warn, s.fail, s.skip
    ));
    out
}

fn paint(status: Status, colour: bool) -> String {
    let text = format!("{:<4}", status.as_str());
    if !colour {
        return text;
    }
    let code = match status {
        Status::Pass => "32",
        Status::Warn => "33",
        Status::Fail => "1;31",
        Status::Skip => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

pub(crate) fn print(report: &Report, as_json: bool) -> anyhow::Result<()> {
    let text = if as_json {
        json(report) + "\n"
    } else {
        human(report, use_colour())
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}
