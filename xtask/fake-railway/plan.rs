//! `config plan --json [--detailed-exit-code]`: a scripted plan, printed in the shape
//! railwayapp 5.71.0 prints it.
//!
//! - The engine (`src/iac/engine.rs`, `run_runner`) builds the local change set; when the plan
//!   is ok and has changes, it posts it to `environmentPreviewChangeSet` and **replaces** the
//!   changes with the server's (`preview` in the scenario) before printing.
//! - `config plan --json` prints the engine's answer parsed into `RunnerResponse`
//!   (`src/commands/config/runner.rs`, `run_command`), pretty, in that struct's field order:
//!   each change keeps only `summary`, `severity`, `kind`, `details` (its `Change`), so the
//!   engine's `path`, `address`, `before`, `after` never reach stdout; the change set keeps
//!   only `changes`. `currentGraph` and `desiredGraph` are printed whole (`DesiredGraph`).
//! - `ok: false` prints the same document, then fails with `runner_diagnostics_message`
//!   (exit 1); `--detailed-exit-code` exits 2 when an ok plan has changes (`maybe_detailed_exit`).

use anyhow::{Result, bail};
use serde::Serialize;
use serde_json::{Value, json};

use crate::errors::unsupported;
use crate::flags::{ConfigArgs, ConfigCommand};
use crate::scenario::{ConfigPlan, Scenario};

/// `RunnerResponse` (src/commands/config/runner.rs), field for field and in its order
/// (serde prints a struct's fields in declaration order; a `Value` object would sort them).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RunnerResponse {
    ok: bool,
    command: &'static str,
    file: String,
    current_environment: CurrentEnvironment,
    change_set: ChangeSet,
    diff: String,
    diagnostics: Vec<Diagnostic>,
    current_graph: Graph,
    desired_graph: Graph,
    staged_patch: Option<Value>,
    apply_result: Option<Value>,
    deployment_id: Option<String>,
    staged_patch_id: Option<String>,
    /// `VariablePolicyReport` (src/iac/graph.rs) of a file that manages variables by default.
    variable_policy: VariablePolicy,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CurrentEnvironment {
    project_id: String,
    project_name: String,
    environment_id: String,
    environment_name: String,
    config_etag: String,
    pr: Option<Value>,
}

#[derive(Serialize)]
struct ChangeSet {
    changes: Vec<Change>,
}

/// `Change` (src/commands/config/runner.rs): all the engine's other fields are dropped.
#[derive(Serialize)]
struct Change {
    summary: Value,
    severity: Value,
    kind: Value,
    details: Value,
}

impl Change {
    fn from(v: &Value) -> Change {
        let f = |k: &str| v.get(k).cloned().unwrap_or(Value::Null);
        Change {
            summary: f("summary"),
            severity: f("severity"),
            kind: f("kind"),
            details: f("details"),
        }
    }
}

#[derive(Serialize)]
struct Diagnostic {
    severity: Value,
    path: Value,
    message: Value,
}

/// `DesiredGraph` and `DesiredResource` (src/commands/config/runner.rs).
#[derive(Serialize)]
struct Graph {
    project: Value,
    resources: Vec<Resource>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Resource {
    address: Value,
    r#type: Value,
    kind: Value,
    name: Value,
    engine: Value,
    variables: Value,
    source: Value,
    build: Value,
    deploy: Value,
    networking: Value,
    volume_attachments: Value,
    config: Value,
    group_id: Value,
    tracing: Value,
    cdn: Value,
}

impl Resource {
    fn from(v: &Value) -> Resource {
        let f = |k: &str| v.get(k).cloned().unwrap_or(Value::Null);
        Resource {
            address: f("address"),
            r#type: f("type"),
            kind: f("kind"),
            name: f("name"),
            engine: f("engine"),
            variables: f("variables"),
            source: f("source"),
            build: f("build"),
            deploy: f("deploy"),
            networking: f("networking"),
            volume_attachments: f("volumeAttachments"),
            config: f("config"),
            group_id: f("groupId"),
            tracing: f("tracing"),
            cdn: f("cdn"),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VariablePolicy {
    managed: bool,
    ignore: Vec<String>,
    default: bool,
    ignored_count: usize,
    by_pattern: Value,
}

pub(crate) fn config(scenario: &Scenario, args: ConfigArgs) -> Result<()> {
    let plan = match args.command {
        ConfigCommand::Plan(plan) => plan,
        ConfigCommand::Apply(_) => return Err(unsupported("`config apply`")),
    };
    if !plan.json {
        return Err(unsupported("`config plan` without --json"));
    }
    let scripted = scenario.config_plan.clone().unwrap_or(ConfigPlan {
        ok: true,
        changes: Vec::new(),
        preview: None,
        diagnostics: Vec::new(),
        current_graph: None,
        desired_graph: None,
    });
    let changes = printed_changes(&scripted);
    let file = plan
        .file
        .map(|f| f.display().to_string())
        .unwrap_or_else(|| ".railway/railway.ts".into());
    let environment = crate::context::environment(scenario, plan.environment.as_deref())?;
    let response = RunnerResponse {
        ok: scripted.ok,
        command: "plan",
        file,
        current_environment: CurrentEnvironment {
            project_id: scenario.project.id.clone(),
            project_name: scenario.project.name.clone(),
            environment_id: crate::context::environment_id(environment),
            environment_name: environment.to_owned(),
            config_etag: "etag-1".into(),
            pr: None,
        },
        diff: render_change_set(&changes),
        change_set: ChangeSet { changes },
        diagnostics: scripted
            .diagnostics
            .iter()
            .map(|d| {
                let f = |k: &str| d.get(k).cloned().unwrap_or(Value::Null);
                Diagnostic {
                    severity: f("severity"),
                    path: f("path"),
                    message: f("message"),
                }
            })
            .collect(),
        current_graph: graph(scripted.current_graph.as_ref(), &scenario.project.name),
        desired_graph: graph(scripted.desired_graph.as_ref(), &scenario.project.name),
        staged_patch: None,
        apply_result: None,
        deployment_id: None,
        staged_patch_id: None,
        variable_policy: VariablePolicy {
            managed: true,
            ignore: Vec::new(),
            default: true,
            ignored_count: 0,
            by_pattern: json!({}),
        },
    };
    let pending = !response.change_set.changes.is_empty();
    println!("{}", serde_json::to_string_pretty(&response)?);
    if !scripted.ok {
        bail!(diagnostics_message(&scripted.diagnostics));
    }
    if plan.detailed_exit_code && pending {
        std::process::exit(2);
    }
    Ok(())
}

/// The changes as printed: the server's preview replaces the local ones when the plan is
/// ok and has changes (`run_runner`), and each keeps only `Change`'s fields.
fn printed_changes(plan: &ConfigPlan) -> Vec<Change> {
    let changes = match &plan.preview {
        Some(previewed) if plan.ok && !plan.changes.is_empty() => previewed,
        _ => &plan.changes,
    };
    changes.iter().map(Change::from).collect()
}

/// `DesiredGraph` (`{project, resources}`); by default the live service as the shipped file
/// declares it, on both sides.
fn graph(scripted: Option<&Value>, project: &str) -> Graph {
    let default = json!({"project": {"name": project}, "resources": [{
        "address": "service.backend", "type": "service", "name": "backend",
        "source": {"type": "github", "repo": "intowork/intowork-backend", "branch": "main"},
    }]});
    let graph = scripted.unwrap_or(&default);
    Graph {
        project: graph.get("project").cloned().unwrap_or(Value::Null),
        resources: graph["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .map(Resource::from)
            .collect(),
    }
}

/// `render_change_set` (src/iac/change_set.rs): one `+`/`-`/`~` line per change. It runs
/// on the engine's change set, after the preview replaced it.
fn render_change_set(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "No changes.".into();
    }
    changes
        .iter()
        .map(|c| {
            let marker = match c.kind.as_str() {
                Some("resource.create" | "domain.create") => "+",
                Some("resource.delete") => "-",
                _ => "~",
            };
            format!("{marker} {}", c.summary.as_str().unwrap_or("change"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `runner_diagnostics_message` (src/commands/config/runner.rs).
fn diagnostics_message(diagnostics: &[Value]) -> String {
    let lines: Vec<String> = diagnostics
        .iter()
        .map(|d| {
            let (path, message) = (
                d["path"].as_str().unwrap_or(""),
                d["message"].as_str().unwrap_or(""),
            );
            if path.is_empty() {
                message.to_owned()
            } else {
                format!("{path}: {message}")
            }
        })
        .collect();
    if lines.is_empty() {
        return "Railway configuration could not be processed. Run again with --verbose for more details.".into();
    }
    format!(
        "Railway configuration could not be processed:\n{}",
        lines.join("\n")
    )
}
