//! Errors as the real CLI prints them, plus the fake's own failures.
//!
//! Every text here is copied from railwayapp 5.71.0: the messages, codes and hints of
//! `src/errors.rs` (`RailwayError`, `code()`, `hint()`), and where each is rendered from
//! `src/util/reporter.rs` (`render_error_message`): on stderr as `{err:?}` followed, for the
//! variants with a hint, by a line `  → <hint>` (plain when stdout is not a terminal: the
//! `colored` crate checks it); in JSON mode — only commands that call `reporter::set_mode`,
//! of those the wrapper uses only `up --json` (`src/commands/up.rs`) — as one
//! `{"code","error","hint"}` object on **stdout** with stderr empty. `main.rs` then exits 1.

use std::fmt;

/// A `RailwayError` of the real CLI: its message, stable code and optional hint.
#[derive(Debug)]
pub(crate) struct RailwayError {
    message: String,
    code: &'static str,
    hint: Option<&'static str>,
}

/// `RailwayError::hint()` of the variants that have one (src/errors.rs).
const LINK_HINT: &str = "Run `railway link` to connect to a project.";
const LOGIN_HINT: &str = "Run `railway login` to authenticate, then re-run.";

impl RailwayError {
    fn new(message: impl Into<String>, code: &'static str) -> Self {
        Self {
            message: message.into(),
            code,
            hint: None,
        }
    }

    /// `RailwayError::Unauthorized` (src/errors.rs): no credentials at all
    /// (`GQLClient::new_authorized`, src/client.rs).
    pub(crate) fn unauthorized() -> Self {
        Self::new(
            "Unauthorized. Please login with `railway login`",
            "UNAUTHORIZED",
        )
    }

    /// `RailwayError::UnauthorizedToken("RAILWAY_TOKEN")` (src/errors.rs): the API said "not
    /// authorized" to a request carrying RAILWAY_TOKEN (`auth_failure_error`, src/client.rs).
    pub(crate) fn unauthorized_token() -> Self {
        Self::new(
            "Unauthorized. Please check that your RAILWAY_TOKEN is valid and has access to the resource you're trying to use.",
            "UNAUTHORIZED",
        )
    }

    /// `RailwayError::UnauthorizedLogin` (src/errors.rs): a stored login the API refused.
    pub(crate) fn unauthorized_login() -> Self {
        Self::new(
            "Unauthorized. Please run `railway login` again.",
            "UNAUTHORIZED",
        )
    }

    /// `RailwayError::InvalidRailwayToken("RAILWAY_TOKEN")` (src/errors.rs), which
    /// `parse_graphql_response` (src/client.rs) returns when the API answers "Project token
    /// not found".
    pub(crate) fn invalid_token() -> Self {
        Self::new(
            "Invalid RAILWAY_TOKEN. Please check that it is valid and has access to the resource you're trying to use.",
            "INVALID_TOKEN",
        )
    }

    /// `RailwayError::NotAuthenticated` (src/errors.rs): `up` without credentials in a
    /// non-interactive run (`prompt_unauth_and_login`, src/commands/up.rs).
    pub(crate) fn not_authenticated() -> Self {
        Self {
            hint: Some(LOGIN_HINT),
            ..Self::new("Not signed in.", "NOT_AUTHENTICATED")
        }
    }

    /// `RailwayError::GraphQLError(message)` (src/errors.rs): the first GraphQL error's
    /// message, verbatim (`parse_graphql_response`, src/client.rs).
    pub(crate) fn graphql(message: &str) -> Self {
        Self::new(message, "GRAPHQL_ERROR")
    }

    pub(crate) fn no_linked_project() -> Self {
        Self {
            hint: Some(LINK_HINT),
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

    /// `RailwayError::Ratelimited` with `Retry-After: 30` (`ratelimit_message`, src/errors.rs).
    pub(crate) fn rate_limited() -> Self {
        Self::new(
            "You are being ratelimited. Try again in 30 seconds",
            "RATELIMITED",
        )
    }

    pub(crate) fn project_not_found() -> Self {
        Self {
            hint: Some(LINK_HINT),
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

/// Prints a failed command's error where the real CLI would, and in its words
/// (`render_error_message`, src/util/reporter.rs).
pub(crate) fn render(err: &anyhow::Error, json_mode: bool) {
    if err.downcast_ref::<FakeError>().is_some() {
        eprintln!("{err}");
        return;
    }
    let railway = err.downcast_ref::<RailwayError>();
    if json_mode {
        // serde_json without `preserve_order` (railwayapp's Cargo.lock): keys sorted.
        let object = serde_json::json!({
            "error": format!("{err:#}"),
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
