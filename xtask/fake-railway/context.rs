//! Which project, environment and service a command targets — found the way each real
//! command finds them, for they differ — and which deployments a service has right now.
//! Texts and lookups of railwayapp 5.71.0: `resolve_service_context` and `get_project`
//! (src/controllers/project.rs: "--environment is required when using --project", `Project
//! "…" not found`, `Service '…' not found`), `get_service` (src/controllers/service.rs:
//! "Service not found"), `RailwayError::{ProjectNotFound, EnvironmentNotFound,
//! ProjectHasNoServices}` (src/errors.rs).

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::errors::{RailwayError, unsupported};
use crate::scenario::Scenario;
use crate::state::{Created, Origin, State};

pub(crate) const ENVIRONMENT_REQUIRED: &str = "--environment is required when using --project";

pub(crate) fn service_id(name: &str) -> String {
    format!("svc-{name}")
}

pub(crate) fn environment_id(name: &str) -> String {
    format!("env-{name}")
}

/// How a command matches `--project` and `--service`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// `resolve_service_context` (variable, redeploy, deployment list, logs): project by id
    /// or name, service by name (any case) or id.
    ServiceContext,
    /// `up` and `service status`: project by exact id, service by exact name or id.
    Exact,
}

/// Checks `--project` (the real CLI insists on `--environment` with it).
pub(crate) fn check_project(
    scenario: &Scenario,
    lookup: Lookup,
    project: Option<&str>,
    environment: Option<&str>,
) -> Result<()> {
    let Some(project) = project else {
        return Ok(());
    };
    if environment.is_none() {
        bail!(ENVIRONMENT_REQUIRED);
    }
    let p = &scenario.project;
    if project == p.id {
        return Ok(());
    }
    match lookup {
        Lookup::ServiceContext
            if p.id.eq_ignore_ascii_case(project) || p.name.eq_ignore_ascii_case(project) =>
        {
            Ok(())
        }
        Lookup::ServiceContext => bail!("Project \"{project}\" not found"),
        Lookup::Exact => Err(RailwayError::project_not_found().into()),
    }
}

/// `--environment` by exact name or id (the real CLI ignores no case here); without it,
/// the first environment, which plays the linked one.
pub(crate) fn environment<'a>(scenario: &'a Scenario, arg: Option<&str>) -> Result<&'a str> {
    let environments = &scenario.project.environments;
    let found = match arg {
        None => environments.first(),
        Some(arg) => environments
            .iter()
            .find(|name| *name == arg || environment_id(name) == arg),
    };
    match (found, arg) {
        (Some(name), _) => Ok(name),
        (None, Some(arg)) => Err(RailwayError::environment_not_found(arg).into()),
        (None, None) => Err(unsupported("a scenario without environments")),
    }
}

/// The service for `variable`, `redeploy`, `deployment list`, `logs` (`lookup` =
/// ServiceContext) and `up` (Exact), after checking project and environment (the scenario
/// has one set of deployments and variables for all environments). Without `--service`,
/// the first service plays the linked one.
pub(crate) fn resolve<'a>(
    scenario: &'a Scenario,
    lookup: Lookup,
    project: Option<&str>,
    environment_arg: Option<&str>,
    service: Option<&str>,
) -> Result<&'a str> {
    check_project(scenario, lookup, project, environment_arg)?;
    environment(scenario, environment_arg)?;
    let services = &scenario.project.services;
    if lookup == Lookup::ServiceContext && services.is_empty() {
        bail!(RailwayError::project_has_no_services());
    }
    let service = match service {
        None => services
            .first()
            .ok_or_else(|| unsupported("`up` into a project without services"))?,
        Some(arg) => {
            let matches = |name: &&String| {
                let by_name = match lookup {
                    Lookup::ServiceContext => name.eq_ignore_ascii_case(arg),
                    Lookup::Exact => *name == arg,
                };
                by_name || service_id(name) == arg
            };
            match (services.iter().find(matches), lookup) {
                (Some(name), _) => name,
                (None, Lookup::ServiceContext) => bail!("Service '{arg}' not found"),
                (None, Lookup::Exact) => bail!("Service not found"),
            }
        }
    };
    Ok(service)
}

/// A deployment as `deployment list --json` prints it (fields in this order).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeploymentView {
    pub(crate) id: String,
    pub(crate) status: String,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) meta: Option<Value>,
    #[serde(skip)]
    pub(crate) can_rollback: bool,
}

/// Statuses of a deployment that serves.
fn active(status: &str) -> bool {
    matches!(status, "SUCCESS" | "SLEEPING")
}

/// A created deployment's status: its progression at the step of the last status read,
/// held at NEEDS_APPROVAL until `deploymentApprove`.
pub(crate) fn created_status(scenario: &Scenario, created: &Created) -> String {
    let progression = match created.origin {
        Origin::Deploy => &scenario.progression,
        Origin::Rollback => &scenario.rollback_progression,
    };
    let mut step = created.status_polls.saturating_sub(1);
    if !created.approved
        && let Some(gate) = progression.iter().position(|s| s == "NEEDS_APPROVAL")
    {
        step = step.min(gate);
    }
    progression
        .get(step)
        .or(progression.last())
        .cloned()
        .unwrap_or_default()
}

/// The service's deployments, newest first: those created during the scenario (at the
/// step of their progression), then the scenario's. As on Railway, only the newest serving
/// deployment serves: an older SUCCESS or SLEEPING one shows as REMOVED.
pub(crate) fn deployments(
    scenario: &Scenario,
    state: &State,
    service: &str,
) -> Vec<DeploymentView> {
    let created = state
        .created
        .iter()
        .filter(|c| c.service == service)
        .map(|c| {
            let status = created_status(scenario, c);
            DeploymentView {
                id: c.id.clone(),
                can_rollback: matches!(status.as_str(), "SUCCESS" | "REMOVED" | "SLEEPING"),
                status,
                created_at: c.created_at,
                meta: c.meta.clone(),
            }
        });
    let scripted = scenario
        .deployments
        .get(service)
        .into_iter()
        .flatten()
        .filter(|d| !state.created.iter().any(|c| c.id == d.id))
        .map(|d| DeploymentView {
            id: d.id.clone(),
            status: d.status.clone(),
            created_at: d.created_at,
            meta: d.meta.clone(),
            can_rollback: d.can_rollback.unwrap_or(true),
        });
    let mut all: Vec<DeploymentView> = created.chain(scripted).collect();
    let mut serving = false;
    for d in &mut all {
        if active(&d.status) {
            if serving {
                d.status = "REMOVED".to_owned();
            }
            serving = true;
        }
    }
    all
}

/// The newest deployment, for commands that act on it.
pub(crate) fn latest(scenario: &Scenario, state: &State, service: &str) -> Result<DeploymentView> {
    deployments(scenario, state, service)
        .into_iter()
        .next()
        .context("No deployment found for service")
}
