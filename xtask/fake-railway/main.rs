//! `fake-railway`: a stand-in for the Railway CLI (`railway`, crate `railwayapp` v5) in the
//! tests of the wrapper. It has the real CLI's *interface* for the commands the wrapper
//! uses — subcommands, flags, aliases, stdout JSON, stderr error texts, exit codes, as read
//! in railwayapp 5.71.0 — and plays a scripted scenario instead of calling Railway.
//!
//! # Commands
//! Exactly what the wrapper calls: `status --json`, `variable list --json`, `redeploy --yes
//! --json [--from-source]`, `up --detach --json`, `deployment list --json`, `logs`, `api`
//! (the wrapper's documents, by operation name: `XtaskServiceInstance`, `XtaskDeployments`,
//! `XtaskVariables`, `XtaskRollback`, `XtaskApprove`, `XtaskDeployCommit`, `XtaskDomains`),
//! `config plan --json [--detailed-exit-code]`, `--version`. The flags of the other spellings
//! (`service …`, `deployment up|redeploy`, `config apply`, `api schema`, `variables --set`,
//! `domain …` — the last two are what the checks' fixes tell people to run) are defined, so
//! clap rejects what the real CLI rejects, but running them is refused as unsupported.
//! Exit codes: 0 ok; 1 command error (text on stderr; only `up --json` puts a
//! `{"code","error","hint"}` object on stdout instead, as the real one does: errors.rs);
//! 2 usage error (clap). Anything the real CLI accepts but the fake does not model (attached
//! `up`, `variable set`, `logs --http`, …) exits 1 with a message starting `fake-railway:`.
//!
//! Every shape printed cites, where it is built, the railwayapp 5.71.0 source file it copies:
//! errors.rs (`src/errors.rs`, `src/util/reporter.rs`, `src/client.rs`), commands.rs
//! (`src/commands/{status,variable,deployment,redeploy,up}.rs`), api.rs
//! (`src/commands/api.rs`), plan.rs (`src/commands/config/runner.rs`, `src/iac/engine.rs`),
//! logs.rs (`src/commands/logs.rs`), context.rs (`src/controllers/project.rs`).
//!
//! # Environment
//! - `FAKE_RAILWAY_SCENARIO` (required): path of the scenario JSON file.
//! - `FAKE_RAILWAY_CALLS` (optional): every invocation, even one clap rejects, first
//!   appends one line `{"argv":[…args after the program name…],"env":{"RAILWAY_NO_AUTO_UPDATE":
//!   str|null,"RAILWAY_TOKEN_set":bool,"RAILWAY_API_TOKEN_set":bool,"CI":str|null}}`.
//!   Token values are never written.
//! - State persists in `<scenario path>.state.json` (created on first use); overlapping
//!   invocations of one scenario take turns (a lock file), as two deploys at once do. Time is the real clock (`chrono::Utc::now()`).
//!
//! # Scenario (every field optional; unknown fields are errors)
//! ```json
//! {
//!   "version": "5.71.0",
//!   "error": "unauthorized",
//!   "errors": {"redeploy": "rate_limited"},
//!   "project": {"id": "prj-1", "name": "project", "environments": ["production"],
//!               "services": ["backend"], "workspace": "workspace"},
//!   "variables": {"backend": {"DATABASE_URL": "postgresql://…", "STRIPE_KEY": null}},
//!   "deployments": {"backend": [{"id": "dep-old", "status": "SUCCESS",
//!                   "createdAt": "2026-11-26T10:00:00Z", "meta": {"commitHash": "abc"}}]},
//!   "new_deployment_id": "dep-new",
//!   "progression": ["QUEUED", "BUILDING", "DEPLOYING", "SUCCESS"],
//!   "logs": {"dep-new": [{"after_polls": 0, "timestamp": "2026-11-27T10:00:01Z",
//!                         "message": "listening", "level": "info"}]},
//!   "build_logs": {"dep-new": []},
//!   "new_deployment_meta": {"commitHash": "abc"},
//!   "rollback_deployment_id": "dep-rollback",
//!   "rollback_progression": ["DEPLOYING", "SUCCESS"],
//!   "service_instances": {"backend": {"healthcheckPath": "/health"}},
//!   "unrendered_variables": {"backend": {"DATABASE_URL": "${{Postgres.DATABASE_URL}}"}},
//!   "shared_variables": {},
//!   "domains": {"backend": {"service": ["backend-production.up.railway.app"],
//!               "custom": ["api.example.com", {"domain": "new.example.com", "verified": false,
//!                          "certificateStatus": "CERTIFICATE_STATUS_TYPE_VALIDATING_OWNERSHIP"}]}},
//!   "config_plan": {"ok": true, "changes": [{"kind": "variable.delete", "summary": "…",
//!                   "severity": "destructive"}], "preview": [{…}], "diagnostics": [],
//!                   "current_graph": {"project": {…}, "resources": [{…}]}, "desired_graph": {…}}
//! }
//! ```
//! The defaults are shown, except `error`/`errors`/`variables`/`deployments`/`domains`/`logs`/
//! `build_logs` (empty). Semantics:
//! - `error`: every command (not `--version`/`--help`) fails with that error; `errors`: per
//!   command, keyed by top-level subcommand (`status`, `variable`, `redeploy`, `up`,
//!   `deployment`, `service`, `logs`, `api`, `config`, `domain`) or by the operation (`service
//!   redeploy` is also `redeploy`, `deployment up` also `up`). Names: `unauthorized` (no
//!   credentials: `up --json` then says `NotAuthenticated` on stdout, `config` its runner's
//!   "Not authenticated…"), `unauthorized_token`, `unauthorized_login`, `invalid_token`,
//!   `no_linked_project`, `no_service_linked`, `rate_limited` — the real CLI's texts — and
//!   `{"graphql": "message"}` (the API refused with that message: printed verbatim, as
//!   `GraphQLError`; `api` prints it in the body) and, for `api` only, `{"http": {"status":
//!   502, "body": …}}` (a non-2xx answer: the body on stdout, exit 1 even with
//!   `--allow-errors`; a string body is printed as is).
//! - `variables`: a `null` value is a sealed variable: `variable list --json` prints it as
//!   `null` (src/commands/variable.rs: "null in JSON"), and so does `api`'s
//!   `variables(unrendered: true)`.
//! - The first environment and the first service play the linked ones (used when `-e`/`-s`
//!   is omitted). IDs are `env-<name>`, `svc-<name>` and `ws-<workspace slug>`; `-s`/`-e`
//!   also accept them. Names match as the real CLI matches them: services ignoring case,
//!   except in `up` and `service status`; environments exactly. `-p` needs `-e`.
//! - `deployments` lists each service's deployments newest first; `status` defaults to
//!   `SUCCESS`, `meta` to null, `canRollback` to true. `redeploy`/`up`/`XtaskDeployCommit`
//!   put `new_deployment_id` in front of that service's list (replacing any earlier
//!   creation; `meta` = `new_deployment_meta`, or `{commitHash}` for a commit deploy),
//!   `createdAt` now, and restart its poll and logs counters; `XtaskRollback` does the same
//!   with `rollback_deployment_id` (refused when the target's `canRollback` is false), its
//!   `meta` copied from the target. Every status read (`deployment list`, `XtaskDeployments`)
//!   advances each created deployment one step along its progression (first read after
//!   creation `[0]`, then `[1]`, …, then the last for ever), held at NEEDS_APPROVAL until
//!   `XtaskApprove`. As on Railway, only the newest SUCCESS/SLEEPING deployment serves: older
//!   ones show as REMOVED.
//! - `service_instances` overrides fields of a service's `serviceInstance` (the default passes
//!   every check); `XtaskVariables` answers `unrendered_variables` (else the rendered
//!   `variables`) or, without a service, `shared_variables`. `XtaskDomains` answers the
//!   service's `domains` (default: none; a custom domain given by name alone is verified with
//!   a valid certificate), with the fields the document selects (src/gql/queries/strings/
//!   Domains.graphql). `config plan` prints the scripted
//!   plan as 5.71 prints it (plan.rs): `preview` (the server's `environmentPreviewChangeSet`)
//!   replaces `changes` when the plan is ok and has changes; each change keeps only
//!   `summary`, `severity`, `kind`, `details`; the graphs default to the live `backend`
//!   service deployed from `intowork/intowork-backend`. Exit 2 with `--detailed-exit-code`
//!   when changes are pending, 1 after printing `ok: false`.
//! - `logs` prints deploy lines (`build_logs` with `-b`, or when the default deployment
//!   FAILED); each call for a deployment counts, and a line is visible when `after_polls`
//!   ≤ the number of earlier calls for it. Then `--since` (strictly after), `--until` (at
//!   or before), `-f` (`@key:value`, text, `-` negation, ANDed) and `-n` (last N, default
//!   500). Keys other than `after_polls`, `timestamp`, `message` are the line's attributes:
//!   `--json` prints `{"message","timestamp",<attributes…>}` per line.

mod api;
mod commands;
mod context;
mod errors;
mod flags;
mod logs;
mod plan;
mod scenario;
mod state;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use clap::error::ErrorKind;

use crate::errors::{fake, unsupported};
use crate::flags::{Command, DeploymentCommand, ServiceCommand};
use crate::scenario::{Endpoint, ErrorKind as Scripted, Scenario};
use crate::state::State;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    // Before parsing: a call clap rejects is a call the wrapper made.
    if let Err(e) = state::record_call(&argv) {
        errors::render(&fake(e), false);
        return ExitCode::FAILURE;
    }
    let (scenario, scenario_path) = match Scenario::load_from_env() {
        Ok(loaded) => loaded,
        Err(e) => {
            errors::render(&fake(e), false);
            return ExitCode::FAILURE;
        }
    };
    let command = match flags::parse(&scenario.version, &argv) {
        Ok(railway) => railway.command,
        // The real CLI prints clap's text with an extra newline, help and version on stdout
        // (src/main.rs: `println!("{e}")` then exit 0; other clap errors on stderr, exit 2).
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            println!("{e}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let Some(command) = command else {
        return match flags::print_help(&scenario.version) {
            Ok(()) => {
                println!();
                ExitCode::SUCCESS
            }
            Err(_) => ExitCode::FAILURE,
        };
    };
    let json_errors = json_errors(&command);
    match run(&scenario, &scenario_path, command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            errors::render(&e, json_errors);
            ExitCode::FAILURE
        }
    }
}

fn run(scenario: &Scenario, scenario_path: &Path, command: Command) -> Result<()> {
    if let Some(kind) = scenario.error_for(&endpoints(&command)) {
        return failure(&kind, &command);
    }
    let state_path = State::path_for(scenario_path);
    // Two deploys may drive one scenario at once: one invocation at a time reads and
    // writes the state.
    let _lock = state::lock(&state_path).map_err(fake)?;
    let mut state = State::load(&state_path).map_err(fake)?;
    let result = dispatch(scenario, &mut state, command);
    let saved = state.save(&state_path).map_err(fake);
    result.and(saved)
}

fn dispatch(scenario: &Scenario, state: &mut State, command: Command) -> Result<()> {
    match command {
        Command::Status(args) => commands::status(scenario, &args),
        Command::Variable(args) => commands::variable(scenario, args),
        Command::Redeploy(args) => commands::redeploy(scenario, state, &args),
        Command::Up(args) => commands::up(scenario, state, &args),
        Command::Deployment(args) => match args.command {
            DeploymentCommand::List(args) => commands::deployment_list(scenario, state, &args),
            DeploymentCommand::Up(_) | DeploymentCommand::Redeploy(_) => Err(unsupported(
                "`deployment up|redeploy` (the wrapper calls `up` and `redeploy`)",
            )),
        },
        // Flags kept (they make the fake reject what the real CLI rejects); the wrapper
        // never calls `service …`.
        Command::Service(_) => Err(unsupported("`service …` (the wrapper does not call it)")),
        Command::Logs(args) => logs::logs(scenario, state, &args),
        Command::Api(args) => api::api(scenario, state, args),
        Command::Config(args) => plan::config(scenario, args),
        // Flags kept: the checks' fixes name `railway domain` (one of them generates a domain).
        Command::Domain(_) => Err(unsupported("`domain …` (the wrapper does not call it)")),
    }
}

/// A scripted failure, as each command meets it in railwayapp 5.71.0: most go through
/// `GQLClient` (src/client.rs); `api` prints the response body itself (src/commands/api.rs);
/// without credentials, `up --json` fails fast with `NotAuthenticated`
/// (`prompt_unauth_and_login`, src/commands/up.rs) and `config` with the runner's own text
/// (`get_runner_token`, src/commands/config/runner.rs).
fn failure(kind: &Scripted, command: &Command) -> Result<()> {
    match (kind, command) {
        (_, Command::Api(args)) => api::failure(kind, args),
        (Scripted::Unauthorized, Command::Up(_)) => {
            Err(errors::RailwayError::not_authenticated().into())
        }
        (Scripted::Unauthorized, Command::Config(_)) => Err(anyhow::anyhow!(
            "Not authenticated. Run `railway login`, set RAILWAY_API_TOKEN, or set RAILWAY_TOKEN."
        )),
        _ => Err(kind.error()),
    }
}

/// The `errors` keys that apply to a command.
fn endpoints(command: &Command) -> Vec<Endpoint> {
    match command {
        Command::Status(_) => vec![Endpoint::Status],
        Command::Variable(_) => vec![Endpoint::Variable],
        Command::Redeploy(_) => vec![Endpoint::Redeploy],
        Command::Up(_) => vec![Endpoint::Up],
        Command::Deployment(args) => match args.command {
            DeploymentCommand::List(_) => vec![Endpoint::Deployment],
            DeploymentCommand::Up(_) => vec![Endpoint::Deployment, Endpoint::Up],
            DeploymentCommand::Redeploy(_) => vec![Endpoint::Deployment, Endpoint::Redeploy],
        },
        Command::Service(args) => match args.command {
            Some(ServiceCommand::Logs(_)) => vec![Endpoint::Service, Endpoint::Logs],
            Some(ServiceCommand::Redeploy(_)) => vec![Endpoint::Service, Endpoint::Redeploy],
            Some(ServiceCommand::Status(_)) | None => vec![Endpoint::Service],
        },
        Command::Logs(_) => vec![Endpoint::Logs],
        Command::Api(_) => vec![Endpoint::Api],
        Command::Config(_) => vec![Endpoint::Config],
        Command::Domain(_) => vec![Endpoint::Domain],
    }
}

/// Only `up` switches its errors to JSON on stdout with `--json` (the real
/// `reporter::set_mode`); every other command keeps plain text on stderr.
fn json_errors(command: &Command) -> bool {
    match command {
        Command::Up(args) => args.json,
        Command::Deployment(args) => match &args.command {
            DeploymentCommand::Up(args) => args.json,
            _ => false,
        },
        _ => false,
    }
}
