//! `logs`: the lines a deployment has shown so far, fetched the way the real CLI fetches
//! them when it does not stream (stdout not a terminal, or `-n/--since/--until` given):
//! railwayapp 5.71.0 `src/commands/logs.rs` (the deployment picked, `--json` lines, the plain
//! rendering, "No deployments found", "--since time must be before --until time") and
//! `src/util/time.rs` (`parse_time`).

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Duration, Local, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;

use crate::context::{self, Lookup};
use crate::errors::unsupported;
use crate::flags::LogsArgs;
use crate::scenario::{LogLine, Scenario};
use crate::state::State;

/// The real CLI's `--lines` default when it does not stream.
const DEFAULT_LINES: i64 = 500;

pub(crate) fn logs(scenario: &Scenario, state: &mut State, args: &LogsArgs) -> Result<()> {
    if args.http || args.network || args.dns {
        return Err(unsupported("`logs --http/--network/--dns`"));
    }
    let query = args.filter.as_deref().map(Query::parse).transpose()?;
    let since = args.since.as_deref().map(parse_time).transpose()?;
    let until = args.until.as_deref().map(parse_time).transpose()?;
    if let (Some(since), Some(until)) = (since, until)
        && since >= until
    {
        bail!("--since time must be before --until time");
    }
    let service = context::resolve(
        scenario,
        Lookup::ServiceContext,
        args.project.as_deref(),
        args.environment.as_deref(),
        args.service.as_deref(),
    )?;
    // Without an id: the newest successful deployment (right after a redeploy, the old
    // one), else the newest; the real CLI needs this list even when given an id.
    let deployments = context::deployments(scenario, state, service);
    let default = if args.latest {
        deployments.first()
    } else {
        deployments
            .iter()
            .find(|d| d.status == "SUCCESS")
            .or(deployments.first())
    }
    .context("No deployments found")?;
    let id = args.deployment_id.clone().unwrap_or(default.id.clone());
    let build =
        !args.deployment && (args.build || (default.status == "FAILED" && id == default.id));
    let source = if build {
        &scenario.build_logs
    } else {
        &scenario.logs
    };
    let calls_before = state.count_logs_call(&id);
    let mut lines: Vec<&LogLine> = source
        .get(&id)
        .into_iter()
        .flatten()
        .filter(|line| line.after_polls <= calls_before)
        .filter(|line| since.is_none_or(|since| line.timestamp.at > since))
        .filter(|line| until.is_none_or(|until| line.timestamp.at <= until))
        .filter(|line| query.as_ref().is_none_or(|q| q.matches(line)))
        .collect();
    lines.sort_by_key(|line| line.timestamp.at);
    // A negative count keeps everything, as the real CLI's `as usize` does.
    let keep = usize::try_from(args.lines.unwrap_or(DEFAULT_LINES)).unwrap_or(usize::MAX);
    let skip = lines.len().saturating_sub(keep);
    for line in &lines[skip..] {
        if args.json {
            println!("{}", json_line(line));
        } else {
            println!("{}", human_line(line, !build));
        }
    }
    Ok(())
}

/// An attribute as the real CLI's `--json` prints it: the API sends attribute values as
/// JSON text, which it un-quotes and re-parses, so `"500"` becomes the number 500.
fn json_value(value: &Value) -> Value {
    match value {
        Value::String(text) => {
            let text = text.trim_matches('"');
            text.parse()
                .unwrap_or_else(|_| Value::String(text.to_owned()))
        }
        other => other.clone(),
    }
}

/// Attributes in print order: `level` first (as in the brief's examples), then by name.
fn attributes(line: &LogLine) -> impl Iterator<Item = (&String, &Value)> {
    let level = line.attributes.iter().filter(|(key, _)| *key == "level");
    let others = line.attributes.iter().filter(|(key, _)| *key != "level");
    level.chain(others)
}

/// One JSON object: `message`, `timestamp`, then every attribute as a top-level key.
fn json_line(line: &LogLine) -> String {
    let mut fields = vec![
        ("message".to_owned(), Value::String(line.message.clone())),
        (
            "timestamp".to_owned(),
            Value::String(line.timestamp.raw.clone()),
        ),
    ];
    fields.extend(attributes(line).map(|(key, value)| (key.clone(), json_value(value))));
    let body: Vec<String> = fields
        .iter()
        .map(|(key, value)| format!("{}:{value}", Value::String(key.clone())))
        .collect();
    format!("{{{}}}", body.join(","))
}

/// The real CLI's plain rendering (uncoloured, as off a terminal): the message alone,
/// or `[LEVEL] message`, or for deploy logs with more attributes
/// `timestamp [LEVEL] message key=value …`.
fn human_line(line: &LogLine, all_attributes: bool) -> String {
    let mut level = None;
    let mut others = Vec::new();
    for (key, value) in attributes(line) {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match key.to_lowercase().as_str() {
            "level" | "lvl" | "severity" => level = Some(text),
            _ if all_attributes => others.push(format!("{key}={value}")),
            _ => {}
        }
    }
    let Some(level) = level else {
        return line.message.clone();
    };
    let level = match level.replace('"', "").to_lowercase().as_str() {
        "info" => "[INFO]".to_owned(),
        "error" | "err" => "[ERRO]".to_owned(),
        "warn" => "[WARN]".to_owned(),
        "debug" => "[DBUG]".to_owned(),
        _ => format!("[{level}]"),
    };
    if others.is_empty() {
        format!("{level} {}", line.message)
    } else {
        let timestamp = line.timestamp.raw.replace('"', "");
        format!("{timestamp} {level} {} {}", line.message, others.join(" "))
    }
}

/// The subset of Railway's filter syntax the fake understands: terms joined by spaces
/// (or `AND`), each `@key:value` (attribute equals, any case) or text (message contains,
/// any case, `"quoted phrases"` allowed), optionally negated with `-`.
#[derive(Debug)]
struct Query {
    terms: Vec<Term>,
}

#[derive(Debug)]
struct Term {
    negated: bool,
    attribute: Option<String>,
    text: String,
}

impl Query {
    fn parse(input: &str) -> Result<Self> {
        let mut terms = Vec::new();
        let mut rest = input.trim();
        while !rest.is_empty() {
            let (negated, body) = match rest.strip_prefix('-') {
                Some(body) => (true, body),
                None => (false, rest),
            };
            let (word, tail) = match body.strip_prefix('"') {
                Some(quoted) => {
                    let end = quoted
                        .find('"')
                        .with_context(|| format!("unterminated quote in filter `{input}`"))?;
                    (&quoted[..end], &quoted[end + 1..])
                }
                None => body.split_at(body.find(char::is_whitespace).unwrap_or(body.len())),
            };
            rest = tail.trim_start();
            if word == "OR" || word.contains(['(', ')']) {
                return Err(unsupported(format!(
                    "filter `{input}`: only @key:value and text terms, ANDed"
                )));
            }
            if word == "AND" && !negated {
                continue;
            }
            let (attribute, text) = match word.strip_prefix('@').and_then(|w| w.split_once(':')) {
                Some((key, value)) => (Some(key.to_owned()), value.to_lowercase()),
                None => (None, word.to_lowercase()),
            };
            terms.push(Term {
                negated,
                attribute,
                text,
            });
        }
        Ok(Self { terms })
    }

    fn matches(&self, line: &LogLine) -> bool {
        self.terms.iter().all(|term| {
            let hit = match &term.attribute {
                Some(key) => line.attributes.get(key).is_some_and(|value| {
                    let value = match json_value(value) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    value.to_lowercase() == term.text
                }),
                None => line.message.to_lowercase().contains(&term.text),
            };
            hit != term.negated
        })
    }
}

/// `--since`/`--until`, parsed as the real CLI's `util::time::parse_time` does.
fn parse_time(input: &str) -> Result<DateTime<Utc>> {
    let input = input.trim();
    if let Some(at) = parse_relative_time(input) {
        return Ok(at);
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(input) {
        return Ok(at.with_timezone(&Utc));
    }
    // Without an offset, the real CLI reads local time.
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(input, format)
            && let Some(local) = Local.from_local_datetime(&naive).single()
        {
            return Ok(local.with_timezone(&Utc));
        }
    }
    bail!(
        "Invalid time format: '{input}'. Use relative time (e.g., 30m, 2h, 1d) or ISO 8601 (e.g., 2024-01-15T10:30:00Z)"
    )
}

fn parse_relative_time(input: &str) -> Option<DateTime<Utc>> {
    let input = input.to_lowercase();
    if input.len() < 2 || !input.is_char_boundary(input.len() - 1) {
        return None;
    }
    let (count, unit) = input.split_at(input.len() - 1);
    let count: i64 = count.parse().ok().filter(|n| *n >= 0)?;
    let duration = match unit {
        "s" => Duration::try_seconds(count),
        "m" => Duration::try_minutes(count),
        "h" => Duration::try_hours(count),
        "d" => Duration::try_days(count),
        "w" => Duration::try_weeks(count),
        _ => None,
    }?;
    Utc::now().checked_sub_signed(duration)
}
