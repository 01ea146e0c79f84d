//! The CLI's failures as typed errors, each saying what to do — read where the CLI prints
//! them (railwayapp 5.71.0): plain text on stderr (`src/util/reporter.rs`, human mode), one
//! `{"code","error","hint"}` object on stdout in JSON mode (`up --json`), and for `api` the
//! response body on stdout with a one-line status on stderr (`src/commands/api.rs`). Every
//! text the CLI printed is carried masked and escaped ([`super::relay`]).

use std::path::PathBuf;

use serde_json::Value;

use super::relay::Relay;
use super::{INSTALL, Output, Target};

#[derive(Debug, thiserror::Error)]
pub(crate) enum RailwayError {
    #[error("the Railway CLI (`railway`) was not found on PATH (or RAILWAY_BIN): {INSTALL}")]
    NotInstalled,
    /// The message names the version, the features it lacks and how to install.
    #[error("{message}")]
    TooOld { found: String, message: String },
    #[error(
        "could not read the version of `{}`: `railway --version` printed `{printed}`; {INSTALL}",
        bin.display()
    )]
    UnknownVersion { bin: PathBuf, printed: String },
    #[error(
        "not logged in to Railway: run `railway login`, or in CI set RAILWAY_TOKEN (a project token) or RAILWAY_API_TOKEN (`railway {command}` said: {said})"
    )]
    NotLoggedIn { command: String, said: String },
    #[error(
        "Railway rejected the token (RAILWAY_TOKEN / RAILWAY_API_TOKEN): create a new one in the project's settings (Tokens) and check it belongs to this project (`railway {command}` said: {said})"
    )]
    InvalidToken { command: String, said: String },
    #[error(
        "no Railway project is linked here: run `railway link`, or set RAILWAY_TOKEN (a project token names its project) (`railway {command}` said: {said})"
    )]
    NoLinkedProject { command: String, said: String },
    #[error("no Railway service is linked: pass --service NAME (`railway {command}` said: {said})")]
    NoServiceLinked { command: String, said: String },
    #[error(
        "Railway has no service `{name}` in this project: check --service (see `railway status`)"
    )]
    ServiceNotFound { name: String },
    #[error("Railway has no environment `{name}` in this project: check --environment")]
    EnvironmentNotFound { name: String },
    #[error("Railway is rate-limiting this client ({text}): wait and retry")]
    RateLimited { text: String },
    #[error("`railway {command}` failed (exit {code}): {said}")]
    Failed {
        command: String,
        code: i32,
        said: String,
    },
    #[error(
        "`railway {command}` was refused as a usage error (exit 2): this wrapper and CLI {version} disagree on flags; please report it: {said}"
    )]
    Usage {
        command: String,
        version: String,
        said: String,
    },
    #[error("`railway {command}` printed something that is not the expected JSON: {detail}")]
    Json { command: String, detail: String },
    #[error("Railway's API refused `{operation}`{}: {}", http.as_deref().map(|h| format!(" ({h})")).unwrap_or_default(), messages.join("; "))]
    Api {
        operation: String,
        /// The CLI's line for a non-2xx answer (`Railway API request failed with HTTP 502 …`).
        http: Option<String>,
        messages: Vec<String>,
    },
    #[error("`railway {command}` answered something unexpected: {detail}")]
    Unexpected { command: String, detail: String },
    #[error("refusing to run `railway {command}` in a dry run: it would change the deployment")]
    ReadOnly { command: String },
    #[error("failed to run `{}`: {source}", bin.display())]
    Spawn {
        bin: PathBuf,
        #[source]
        source: xshell::Error,
    },
}

/// A failed run (exit ≠ 0, 2) as a typed error: what the CLI said, wherever it said it.
pub(super) fn from_output(command: &str, out: &Output, relay: &Relay, t: &Target) -> RailwayError {
    // JSON mode puts the error on stdout; stderr may still carry warnings (as JSON objects,
    // `reporter::warn`), which are not the failure.
    let (said, code) = match json_mode_error(&out.stdout) {
        Some((text, code)) => (text, code),
        None if out.stderr.trim().is_empty() => (out.stdout.clone(), None),
        None => (out.stderr.clone(), None),
    };
    classify(command, out.code, &relay.text(&said), code.as_deref(), t)
}

/// JSON mode (`reporter::render_error_message`): `{"code","error","hint"}` on stdout.
fn json_mode_error(stdout: &str) -> Option<(String, Option<String>)> {
    let doc: Value = serde_json::from_str(stdout.trim()).ok()?;
    let error = doc.get("error")?.as_str()?;
    let mut text = error.to_owned();
    if let Some(hint) = doc.get("hint").and_then(Value::as_str) {
        text.push_str(&format!("\n  → {hint}"));
    }
    let code = doc.get("code").and_then(Value::as_str).map(str::to_owned);
    Some((text, code))
}

/// Maps the CLI's texts (src/errors.rs; `config`'s runner, src/commands/config/runner.rs) and
/// JSON-mode codes to errors that say what to do. `said` is already masked and escaped.
fn classify(
    command: &str,
    code: i32,
    said: &str,
    json_code: Option<&str>,
    t: &Target,
) -> RailwayError {
    let said = said.to_owned();
    let command = command.to_owned();
    let starts = |p: &str| said.starts_with(p);
    if starts("Unauthorized. Please check that your")
        || starts("Invalid RAILWAY_")
        || json_code == Some("INVALID_TOKEN")
    {
        return RailwayError::InvalidToken { command, said };
    }
    if starts("Unauthorized.")
        || starts("Not authenticated.")
        || starts("Not signed in.")
        || matches!(json_code, Some("UNAUTHORIZED" | "NOT_AUTHENTICATED"))
    {
        return RailwayError::NotLoggedIn { command, said };
    }
    if starts("No linked project found") || json_code == Some("NO_LINKED_PROJECT") {
        return RailwayError::NoLinkedProject { command, said };
    }
    if starts("No service linked") || json_code == Some("NO_SERVICE_LINKED") {
        return RailwayError::NoServiceLinked { command, said };
    }
    if starts("Service '") || starts("Service \"") || starts("Service not found") {
        let name = said.split(['\'', '"']).nth(1).unwrap_or(&t.service);
        return RailwayError::ServiceNotFound {
            name: name.to_owned(),
        };
    }
    if starts("Environment \"") {
        let name = said.split('"').nth(1).unwrap_or(&t.environment);
        return RailwayError::EnvironmentNotFound {
            name: name.to_owned(),
        };
    }
    if said.contains("ratelimited") || said.contains("rate limited") {
        let text = said.lines().next().unwrap_or(&said).to_owned();
        return RailwayError::RateLimited { text };
    }
    RailwayError::Failed {
        command,
        code,
        said,
    }
}

/// `railway api`'s answer when it failed or carried `errors`: the body is on stdout whatever
/// the HTTP status; a non-2xx status adds a line on stderr and exit 1, even with
/// `--allow-errors`. `None`: no refusal in it.
pub(super) fn api_refusal(
    operation: &str,
    out: &Output,
    relay: &Relay,
    t: &Target,
) -> Option<RailwayError> {
    let body: Option<Value> = serde_json::from_str(out.stdout.trim()).ok();
    let messages: Vec<String> = body
        .as_ref()
        .and_then(|b| b.get("errors"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|e| {
            let text = e
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("an error without a message");
            relay.text(text)
        })
        .collect();
    if out.code == 0 && messages.is_empty() {
        return None;
    }
    let http = (out.code != 0 && !out.stderr.trim().is_empty()).then(|| relay.text(&out.stderr));
    // The API's own words for a refused token, which `api` does not translate (the CLI's
    // client recognises them case-insensitively: src/client.rs, `parse_graphql_response`).
    let lower: Vec<String> = messages.iter().map(|m| m.to_lowercase()).collect();
    let said = || messages.join("; ");
    let command = format!("api ({operation})");
    if lower.iter().any(|m| m.contains("project token not found")) {
        return Some(RailwayError::InvalidToken {
            command,
            said: said(),
        });
    }
    if lower.iter().any(|m| m.contains("not authorized")) {
        return Some(RailwayError::InvalidToken {
            command,
            said: said(),
        });
    }
    if messages.is_empty() {
        // No body to read (not JSON, or no `errors`): what the CLI said, classified.
        return Some(from_output(&command, out, relay, t));
    }
    Some(RailwayError::Api {
        operation: operation.to_owned(),
        http,
        messages,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::t;
    use super::*;

    fn out(code: i32, stdout: &str, stderr: &str) -> Output {
        Output {
            code,
            stdout: stdout.into(),
            stderr: stderr.into(),
        }
    }

    fn kind(e: &RailwayError) -> String {
        format!("{e:?}")
            .split([' ', '{', '('])
            .next()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn the_real_texts_become_typed_errors() {
        let cases = [
            (
                "Unauthorized. Please login with `railway login`",
                "NotLoggedIn",
            ),
            (
                "Unauthorized. Please run `railway login` again.",
                "NotLoggedIn",
            ),
            (
                "Not authenticated. Run `railway login`, set RAILWAY_API_TOKEN, or set RAILWAY_TOKEN.",
                "NotLoggedIn",
            ),
            (
                "Unauthorized. Please check that your RAILWAY_TOKEN is valid and has access to the resource you're trying to use.",
                "InvalidToken",
            ),
            (
                "Invalid RAILWAY_TOKEN. Please check that it is valid and has access to the resource you're trying to use.",
                "InvalidToken",
            ),
            (
                "No linked project found. Run railway link to connect to a project\n  → Run `railway link` to connect to a project.",
                "NoLinkedProject",
            ),
            (
                "No service linked\nRun `railway service` to link a service\n  → Run `railway service` to link a service.",
                "NoServiceLinked",
            ),
            ("Service 'backnd' not found", "ServiceNotFound"),
            ("Service \"backnd\" not found.", "ServiceNotFound"),
            (
                "Environment \"prod\" not found.\nRun `railway environment` to connect to an environment.",
                "EnvironmentNotFound",
            ),
            (
                "You are being ratelimited. Try again in 30 seconds",
                "RateLimited",
            ),
            ("Something else broke", "Failed"),
        ];
        let relay = Relay::default();
        for (text, expected) in cases {
            let e = from_output("status", &out(1, "", text), &relay, &t());
            assert_eq!(kind(&e), expected, "{text} → {e:?}");
        }
        assert!(matches!(
            from_output("logs", &out(1, "", "Service 'backnd' not found"), &relay, &t()),
            RailwayError::ServiceNotFound { name } if name == "backnd"
        ));
    }

    #[test]
    fn a_json_mode_error_on_stdout_is_read_with_its_code_and_hint() {
        let relay = Relay::default();
        let e = from_output(
            "up",
            &out(
                1,
                r#"{"code":"NOT_AUTHENTICATED","error":"Not signed in.","hint":"Run `railway login` to authenticate, then re-run."}"#,
                "",
            ),
            &relay,
            &t(),
        );
        let shown = e.to_string();
        assert!(matches!(e, RailwayError::NotLoggedIn { .. }), "{e:?}");
        assert!(
            shown.contains("said: Not signed in.\n      → Run `railway login`"),
            "{shown}"
        );
        let e = from_output(
            "up",
            &out(
                1,
                r#"{"code":"GRAPHQL_ERROR","error":"Upload rejected: too big","hint":null}"#,
                "",
            ),
            &relay,
            &t(),
        );
        assert_eq!(
            e.to_string(),
            "`railway up` failed (exit 1): Upload rejected: too big"
        );
    }

    #[test]
    fn an_api_refusal_keeps_every_message_and_the_http_status() {
        let relay = Relay::default();
        let failed = out(
            1,
            r#"{"errors":[{"message":"Deployment cannot be rolled back"},{"message":"second"}]}"#,
            "Railway API request failed with HTTP 400 Bad Request\n",
        );
        let e = api_refusal("deploymentRollback", &failed, &relay, &t()).unwrap();
        assert_eq!(
            e.to_string(),
            "Railway's API refused `deploymentRollback` (Railway API request failed with HTTP 400 Bad Request): Deployment cannot be rolled back; second"
        );
        let token = out(
            0,
            r#"{"data":null,"errors":[{"message":"Not Authorized"}]}"#,
            "",
        );
        assert!(matches!(
            api_refusal("deployments", &token, &relay, &t()),
            Some(RailwayError::InvalidToken { .. })
        ));
        let html = out(
            1,
            "<html>bad gateway</html>",
            "Railway API request failed with HTTP 502 Bad Gateway",
        );
        let e = api_refusal("deployments", &html, &relay, &t()).unwrap();
        assert!(e.to_string().contains("HTTP 502 Bad Gateway"), "{e}");
        assert!(api_refusal("deployments", &out(0, r#"{"data":{}}"#, ""), &relay, &t()).is_none());
    }
}
