//! `status`, `variable`, `deployment list`, `service status`, `redeploy` and `up`.

use std::io::IsTerminal;

use anyhow::{Result, bail};
use chrono::{DateTime, Local};
use serde::Serialize;
use serde_json::{Value, json};

use crate::context::{self, Lookup, environment_id, service_id};
use crate::errors::{RailwayError, unsupported};
use crate::flags::{
    DeploymentListArgs, RedeployArgs, ServiceStatusArgs, StatusArgs, UpArgs, VariableArgs,
    VariableCommand, VariableListArgs,
};
use crate::scenario::Scenario;
use crate::state::State;

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
        let environment = context::environment(scenario, environment_arg)?;
        let field = |label: &str, value: &str| println!("{label:<16} {value}");
        println!();
        field("Workspace:", &p.workspace);
        println!();
        field("Project:", &p.name);
        field("Project ID:", &p.id);
        println!();
        field("Environment:", environment);
        field("Environment ID:", &environment_id(environment));
        println!();
        return Ok(());
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
        None if !args.set.is_empty() || args.set_from_stdin.is_some() => {
            Err(unsupported("`variables --set`"))
        }
        // The legacy `variables [--json|--kv]` lists; its flags only count without `list`.
        None => variable_list(
            scenario,
            &VariableListArgs {
                service: args.service,
                environment: args.environment,
                project: args.project,
                kv: args.kv,
                json: args.json,
            },
        ),
    }
}

fn variable_list(scenario: &Scenario, args: &VariableListArgs) -> Result<()> {
    let service = context::resolve(
        scenario,
        Lookup::ServiceContext,
        args.project.as_deref(),
        args.environment.as_deref(),
        args.service.as_deref(),
    )?;
    let empty = Default::default();
    let variables = scenario.variables.get(service).unwrap_or(&empty);
    if args.kv {
        for (key, value) in variables {
            println!("{key}={value}");
        }
    } else if args.json {
        println!("{}", serde_json::to_string_pretty(variables)?);
    } else if variables.is_empty() {
        eprintln!("No variables found");
    } else {
        println!("Variables for {}", service);
        for (key, value) in variables {
            println!("{key} │ {value}");
        }
    }
    Ok(())
}

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
    state.poll();
    let mut deployments = context::deployments(scenario, state, service);
    deployments.truncate(usize::try_from(limit).unwrap_or(1));
    if args.json {
        println!("{}", serde_json::to_string_pretty(&deployments)?);
    } else if deployments.is_empty() {
        println!("No deployments found");
    } else {
        println!("Recent Deployments");
        for d in deployments {
            let local: DateTime<Local> = DateTime::from(d.created_at);
            let created = local.format("%Y-%m-%d %H:%M:%S %Z");
            println!("  {} | {} | {created}", d.id, d.status);
        }
    }
    Ok(())
}

/// `service status --json`: the legacy shape the real CLI keeps for scripts.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ServiceStatus {
    id: String,
    name: String,
    deployment_id: Option<String>,
    status: Option<String>,
    stopped: bool,
}

pub(crate) fn service_status(
    scenario: &Scenario,
    state: &mut State,
    args: &ServiceStatusArgs,
) -> Result<()> {
    if args.all {
        eprintln!(
            "Warning: `railway service status --all` is deprecated. Please use `railway service list` instead."
        );
    }
    let project_arg = args.project.as_deref();
    let environment_arg = args.environment.as_deref();
    context::check_project(scenario, Lookup::Exact, project_arg, environment_arg)?;
    let environment = context::environment(scenario, environment_arg)?;
    let services = &scenario.project.services;
    // Found before the poll, so that a failed call leaves the progression where it was.
    let target = match args.service.as_deref() {
        _ if args.all => None,
        Some(arg) => Some(
            services
                .iter()
                .position(|name| name == arg || service_id(name) == arg)
                .ok_or_else(|| RailwayError::service_not_found(arg))?,
        ),
        None if services.is_empty() => {
            bail!("No service linked. Use --service flag or --all to see all services")
        }
        None => Some(0),
    };
    // The real command reads every service's latest deployment, whichever it shows.
    state.poll();
    let statuses: Vec<ServiceStatus> = services
        .iter()
        .map(|name| {
            let latest = context::deployments(scenario, state, name)
                .into_iter()
                .next();
            ServiceStatus {
                id: service_id(name),
                name: name.clone(),
                deployment_id: latest.as_ref().map(|d| d.id.clone()),
                status: latest.map(|d| d.status),
                stopped: false,
            }
        })
        .collect();
    let Some(target) = target.map(|index| &statuses[index]) else {
        if args.json {
            println!("{}", serde_json::to_string_pretty(&statuses)?);
        } else {
            println!("Services in {environment}:\n");
            for s in &statuses {
                let deployment = s.deployment_id.as_deref().unwrap_or("N/A");
                let status = s.status.as_deref().unwrap_or("NO DEPLOYMENT");
                println!("{:<20} | {deployment:<14} | {status}", s.name);
            }
        }
        return Ok(());
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(target)?);
    } else {
        println!("Service: {}", target.name);
        let deployment = target.deployment_id.as_deref().unwrap_or("No deployment");
        println!("Deployment: {deployment}");
        println!(
            "Status: {}",
            target.status.as_deref().unwrap_or("NO DEPLOYMENT")
        );
    }
    Ok(())
}

pub(crate) fn redeploy(scenario: &Scenario, state: &mut State, args: &RedeployArgs) -> Result<()> {
    let service = context::resolve(
        scenario,
        Lookup::ServiceContext,
        args.project.as_deref(),
        args.environment.as_deref(),
        args.service.as_deref(),
    )?;
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
    state.create(service, &scenario.new_deployment_id);
    // Without --json the real CLI only finishes a spinner, which is invisible off a terminal.
    if args.json {
        let output = if args.from_source {
            json!({"success": true})
        } else {
            json!({"id": scenario.new_deployment_id})
        };
        println!("{output}");
    }
    Ok(())
}

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
        println!("Indexing...");
        println!("Uploading...");
    }
    let id = &scenario.new_deployment_id;
    state.create(service, id);
    let logs_url = format!(
        "https://railway.com/project/{}/service/{}?id={id}",
        scenario.project.id,
        service_id(service),
    );
    if args.json {
        println!("{}", json!({"deploymentId": id, "logsUrl": logs_url}));
    } else {
        println!("  Build Logs: {logs_url}");
    }
    Ok(())
}
