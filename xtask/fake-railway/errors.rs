//! Errors as the real CLI prints them, plus the fake's own failures.
//!
//! The real CLI renders a failed command with `{err:?}` on stderr, then, for some
//! `RailwayError` variants, a hint line `  → …`. Only `up` switches to JSON errors with
//! `--json`: one `{"code","error","hint"}` object on stdout (its `reporter::set_mode`).

use std::fmt;

/// A `RailwayError` of the real CLI: its message, stable code and optional hint.
#[derive(Debug)]
pub(crate) struct RailwayError {
    message: String,
    code: &'static str,
    hint: Option<&'static str>,
}

impl RailwayError {
    fn new(message: impl Into<String>, code: &'static str) -> Self {
        Self {
            message: message.into(),
            code,
            hint: None,
        }
    }

    pub(crate) fn unauthorized() -> Self {
        Self::new(
            "Unauthorized. Please login with `railway login`",
            "UNAUTHORIZED",
        )
    }

    pub(crate) fn invalid_token() -> Self {
        Self::new(
            "Invalid RAILWAY_TOKEN. Please check that it is valid and has access to the resource you're trying to use.",
            "INVALID_TOKEN",
        )
    }

    pub(crate) fn no_linked_project() -> Self {
        Self {
            hint: Some("Run `railway link` to connect to a project."),
            ..Self::new(
                "No linked project found. Run railway link to connect to a project",
                "NO_LINKED_PROJECT",
            )
        }
    }

    pub(crate) fn no_service_linked() -> Self {
        Self {
            hint: Some("Run `railway service` to link a service."),
            ..Self::new(
                "No service linked\nRun `railway service` to link a service",
                "NO_SERVICE_LINKED",
            )
        }
    }

    pub(crate) fn rate_limited() -> Self {
        Self::new(
            "You are being ratelimited. Try again in 30 seconds",
            "RATELIMITED",
        )
    }

    pub(crate) fn project_not_found() -> Self {
        Self {
            hint: Some("Run `railway link` to connect to a project."),
            ..Self::new(
                "Project not found. Run `railway link` to connect to a project.",
                "PROJECT_NOT_FOUND",
            )
        }
    }

    pub(crate) fn project_has_no_services() -> Self {
        Self::new("Project has no services.", "PROJECT_HAS_NO_SERVICES")
    }

    pub(crate) fn environment_not_found(name: &str) -> Self {
        Self::new(
            format!(
                "Environment \"{name}\" not found.\nRun `railway environment` to connect to an environment."
            ),
            "ENVIRONMENT_NOT_FOUND",
        )
    }
}

impl fmt::Display for RailwayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RailwayError {}

/// Something the fake cannot do (or a broken scenario): always plain text on stderr,
/// prefixed so that a test failure points at the fake rather than at the wrapper.
#[derive(Debug)]
pub(crate) struct FakeError(pub(crate) String);

impl fmt::Display for FakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fake-railway: {}", self.0)
    }
}

impl std::error::Error for FakeError {}

/// Refuses a call the real CLI accepts but the fake does not model.
pub(crate) fn unsupported(what: impl fmt::Display) -> anyhow::Error {
    FakeError(format!(
        "{what} (the fake models only what the wrapper uses)"
    ))
    .into()
}

/// Marks an internal failure (scenario, state, call log) as the fake's own.
pub(crate) fn fake(err: anyhow::Error) -> anyhow::Error {
    FakeError(format!("{err:#}")).into()
}

/// Prints a failed command's error where the real CLI would, and in its words.
pub(crate) fn render(err: &anyhow::Error, json_mode: bool) {
    if err.downcast_ref::<FakeError>().is_some() {
        eprintln!("{err}");
        return;
    }
    let railway = err.downcast_ref::<RailwayError>();
    if json_mode {
        let object = serde_json::json!({
            "error": err.to_string(),
            "code": railway.map_or("ERROR", |e| e.code),
            "hint": railway.and_then(|e| e.hint),
        });
        println!("{object}");
        return;
    }
    // `{:#}` rather than the real `{:?}`: the same text for these flat errors, without the
    // backtrace anyhow would append if a test run sets RUST_BACKTRACE.
    let mut text = format!("{err:#}");
    if let Some(hint) = railway.and_then(|e| e.hint) {
        text.push_str(&format!("\n  → {hint}"));
    }
    eprintln!("{text}");
}
