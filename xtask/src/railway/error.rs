//! The CLI's failures as typed errors, each saying what to do.

use std::path::PathBuf;

use super::{INSTALL, Target};

#[derive(Debug, thiserror::Error)]
pub(crate) enum RailwayError {
    #[error("the Railway CLI (`railway`) was not found on PATH (or RAILWAY_BIN): {INSTALL}")]
    NotInstalled,
    #[error("`{}` is Railway CLI {found}, but v5 or newer is needed: {INSTALL}", bin.display())]
    TooOld { bin: PathBuf, found: String },
    #[error(
        "not logged in to Railway: run `railway login`, or in CI set RAILWAY_TOKEN (a project token) or RAILWAY_API_TOKEN"
    )]
    NotLoggedIn,
    #[error(
        "Railway rejected the token (RAILWAY_TOKEN / RAILWAY_API_TOKEN): create a new one in the project's settings (Tokens) and check it belongs to this project"
    )]
    InvalidToken,
    #[error(
        "no Railway project is linked here: run `railway link`, or set RAILWAY_TOKEN (a project token names its project)"
    )]
    NoLinkedProject,
    #[error("no Railway service is linked: pass --service NAME")]
    NoServiceLinked,
    #[error(
        "Railway has no service `{name}` in this project: check --service (see `railway status`)"
    )]
    ServiceNotFound { name: String },
    #[error("Railway has no environment `{name}` in this project: check --environment")]
    EnvironmentNotFound { name: String },
    #[error("Railway is rate-limiting this client ({text}): wait and retry")]
    RateLimited { text: String },
    #[error("`railway {command}` failed (exit {code}): {stderr}")]
    Failed {
        command: String,
        code: i32,
        stderr: String,
    },
    #[error(
        "`railway {command}` was refused as a usage error (exit 2): this wrapper and CLI {version} disagree on flags; please report it: {stderr}"
    )]
    Usage {
        command: String,
        version: String,
        stderr: String,
    },
    #[error("`railway {command}` printed something that is not the expected JSON: {source}")]
    Json {
        command: String,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "Railway's API refused `{operation}`: {}",
        messages.join("; ")
    )]
    Api {
        operation: String,
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

/// Maps the CLI's stderr texts (v5) to errors that say what to do.
pub(super) fn classify(command: &str, code: i32, stderr: &str, t: &Target) -> RailwayError {
    let text = stderr.trim();
    if text.starts_with("Unauthorized.") {
        return if text.contains("RAILWAY_TOKEN") || text.contains("RAILWAY_API_TOKEN") {
            RailwayError::InvalidToken
        } else {
            RailwayError::NotLoggedIn
        };
    }
    if text.starts_with("Invalid RAILWAY_TOKEN") || text.starts_with("Invalid RAILWAY_API_TOKEN") {
        return RailwayError::InvalidToken;
    }
    if text.starts_with("No linked project found") {
        return RailwayError::NoLinkedProject;
    }
    if text.starts_with("No service linked") {
        return RailwayError::NoServiceLinked;
    }
    if text.starts_with("Service '") || text.starts_with("Service \"") {
        let name = text
            .split(['\'', '"'])
            .nth(1)
            .unwrap_or(&t.service)
            .to_owned();
        return RailwayError::ServiceNotFound { name };
    }
    if text.starts_with("Environment \"") {
        let name = text.split('"').nth(1).unwrap_or(&t.environment).to_owned();
        return RailwayError::EnvironmentNotFound { name };
    }
    if text.contains("ratelimited") || text.contains("rate limited") {
        return RailwayError::RateLimited {
            text: text.lines().next().unwrap_or(text).to_owned(),
        };
    }
    RailwayError::Failed {
        command: command.to_owned(),
        code,
        stderr: text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::t;
    use super::*;

    #[test]
    fn stderr_texts_become_typed_errors() {
        let cases = [
            (
                "Unauthorized. Please login with `railway login`",
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
                "No service linked\nRun `railway service` to link a service",
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
        for (text, kind) in cases {
            let e = classify("status", 1, text, &t());
            assert!(format!("{e:?}").starts_with(kind), "{text} → {e:?}");
        }
        assert!(
            matches!(classify("logs", 1, "Service 'backnd' not found", &t()), RailwayError::ServiceNotFound { name } if name == "backnd")
        );
    }
}
