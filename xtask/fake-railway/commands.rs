//! `status --json`, `variable list --json`, `deployment list --json`, `redeploy` and `up
//! --detach --json`: what the wrapper calls, nothing more (other spellings are refused).
//! Each prints what railwayapp 5.71.0 prints; the source file is named at each function.

use std::io::IsTerminal;

use anyhow::{Result, bail};
use serde_json::{Value, json};

use crate::context::{self, Lookup, environment_id, service_id};
use crate::errors::unsupported;
use crate::flags::{
    DeploymentListArgs, RedeployArgs, StatusArgs, UpArgs, VariableArgs, VariableCommand,
    VariableListArgs,
};
use crate::scenario::Scenario;
use crate::state::{Origin, State};

/// `status --json` (src/commands/status.rs): the serialized project — `id`, `name`,
/// `environments.edges[].node`, `services.edges[].node`, `workspace`, …
pub(crate) fn status(scenario: &Scenario, args: &StatusArgs) -> Result<()> {
    let project_arg = args.project.as_deref();
    let environment_arg = args.environment.as_deref();
    context::check_project(
        scenario,
        Lookup::ServiceContext,
        project_arg,
        environment_arg,
    )?;
    let p = &scenario.project;
    // Like the real CLI, `--json` covers every environment unless one is named.
    let environments: Vec<&str> = match environment_arg {
        Some(arg) => vec![context::environment(scenario, Some(arg))?],
        None => p.environments.iter().map(String::as_str).collect(),
    };
    if !args.json {
        return Err(unsupported("`status` without --json"));
    }
    let environment_edges: Vec<Value> = environments
        .iter()
        .map(|name| {
            json!({"node": {
                "canAccess": true,
                "deletedAt": null,
                "id": environment_id(name),
                "name": name,
                "serviceInstances": {"edges": []},
                "unmergedChangesCount": 0,
                "volumeInstances": {"edges": []},
            }})
        })
        .collect();
    let service_edges: Vec<Value> = p
        .services
        .iter()
        .map(|name| json!({"node": {"id": service_id(name), "name": name}}))
        .collect();
    let project = json!({
        "buckets": {"edges": []},
        "deletedAt": null,
        "environments": {"edges": environment_edges},
        "id": p.id,
        "name": p.name,
        "services": {"edges": service_edges},
        "workspace": {"name": p.workspace},
        "workspaceId": format!("ws-{}", p.workspace.to_lowercase().replace(' ', "-")),
    });
    println!("{}", serde_json::to_string_pretty(&project)?);
    Ok(())
}

pub(crate) fn variable(scenario: &Scenario, args: VariableArgs) -> Result<()> {
    match args.command {
        Some(VariableCommand::List(list)) => variable_list(scenario, &list),
        Some(VariableCommand::Set(_)) => Err(unsupported("`variable set`")),
        Some(VariableCommand::Delete(_)) => Err(unsupported("`variable delete`")),
        None => Err(unsupported(
            "the legacy `variables` spelling; use `variable list`",
        )),
    }
}

/// `variable list --json` (src/commands/variable.rs, `list_variables`): the service's
/// variables, pretty, as `BTreeMap<String, Option<String>>` (src/controllers/variables.rs,
/// `get_service_variables_including_sealed`) — "Sealed variables serialize as `null`".
fn variable_list(scenario: &Scenario, args: &VariableListArgs) -> Result<()> {
    let service = context::resolve(
        scenario,
        Lookup::ServiceContext,
        args.project.as_deref(),
        args.environment.as_deref(),
        args.service.as_deref(),
    )?;
    if !args.json || args.kv {
        return Err(unsupported("`variable list` without --json"));
    }
    let empty = Default::default();
    let variables = scenario.variables.get(service).unwrap_or(&empty);
    println!("{}", serde_json::to_string_pretty(variables)?);
    Ok(())
}

/// `deployment list --json` (src/commands/deployment.rs): `[{id, status, createdAt, meta}]`,
/// newest first, with its warnings for an out-of-range `--limit`.
pub(crate) fn deployment_list(
    scenario: &Scenario,
    state: &mut State,
    args: &DeploymentListArgs,
) -> Result<()> {
    let limit = if args.limit > 1000 {
        eprintln!("Warning: limit cannot exceed 1000, using 1000 instead");
        1000
    } else if args.limit < 1 {
        eprintln!("Warning: limit must be at least 1, using 1 instead");
        1
    } else {
        args.limit
    };
    let service = context::resolve(
        scenario,
        Lookup::ServiceContext,
        args.project.as_deref(),
        args.environment.as_deref(),
        args.service.as_deref(),
    )?;
    if !args.json {
        return Err(unsupported("`deployment list` without --json"));
    }
    state.poll();
    let mut deployments = context::deployments(scenario, state, service);
    deployments.truncate(usize::try_from(limit).unwrap_or(1));
    println!("{}", serde_json::to_string_pretty(&deployments)?);
    Ok(())
}

/// `redeploy --yes --json` (src/commands/redeploy.rs): `{"id"}` of the new deployment, or
/// `{"success": true}` with `--from-source`; without `--yes` off a terminal, its refusal.
pub(crate) fn redeploy(scenario: &Scenario, state: &mut State, args: &RedeployArgs) -> Result<()> {
    let service = context::resolve(
        scenario,
        Lookup::ServiceContext,
        args.project.as_deref(),
        args.environment.as_deref(),
        args.service.as_deref(),
    )?;
    if args.commit.is_some() {
        return Err(unsupported(
            "`redeploy --commit` (the wrapper deploys a commit through `api`)",
        ));
    }
    if !args.from_source {
        context::latest(scenario, state, service)?;
    }
    if !args.bypass {
        if std::io::stdout().is_terminal() {
            return Err(unsupported("the confirmation prompt; pass --yes"));
        }
        bail!(
            "Cannot prompt for confirmation in non-interactive mode. Use --yes to skip confirmation."
        );
    }
    if !args.json {
        return Err(unsupported("`redeploy` without --json"));
    }
    let id = &scenario.new_deployment_id;
    let meta = scenario.new_deployment_meta.clone();
    state.create(service, id, Origin::Deploy, meta);
    let output = if args.from_source {
        json!({"success": true})
    } else {
        json!({"id": id})
    };
    println!("{output}");
    Ok(())
}

/// `up --detach --json` (src/commands/up.rs): `{"deploymentId", "logsUrl"}` at once.
pub(crate) fn up(scenario: &Scenario, state: &mut State, args: &UpArgs) -> Result<()> {
    if !args.detach {
        return Err(unsupported(
            "attached `up` (log streaming); use `up --detach`",
        ));
    }
    if args.new {
        return Err(unsupported("`up --new`"));
    }
    if args.path_as_root && args.path.is_none() {
        bail!("--path-as-root requires a path to be specified");
    }
    let service = context::resolve(
        scenario,
        Lookup::Exact,
        args.project.as_deref(),
        args.environment.as_deref(),
        args.service.as_deref(),
    )?;
    if !args.json {
        return Err(unsupported("`up` without --json"));
    }
    let id = &scenario.new_deployment_id;
    state.create(
        service,
        id,
        Origin::Deploy,
        scenario.new_deployment_meta.clone(),
    );
    let logs_url = format!(
        "https://railway.com/project/{}/service/{}?id={id}",
        scenario.project.id,
        service_id(service),
    );
    println!("{}", json!({"deploymentId": id, "logsUrl": logs_url}));
    Ok(())
}
