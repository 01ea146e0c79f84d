//! `api`: the documents the wrapper sends, recognised by operation name, with state (a
//! rollback creates a deployment, an approval moves NEEDS_APPROVAL on).
//!
//! As railwayapp 5.71.0's `src/commands/api.rs` (`execute_document`): the document is posted
//! and the response body printed on stdout (`print_response_body`: re-serialised when it is
//! JSON, compact with `--compact`, else as is); then a non-2xx status fails with "Railway API
//! request failed with HTTP …" (exit 1, even with `--allow-errors`), and a body with an
//! `errors` array fails with "Railway API returned N GraphQL error(s)" unless
//! `--allow-errors`. Ids arrive as `--raw-var`, numbers as `--var` (`parse_variables`).

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use serde_json::{Map, Value, json};

use crate::context::{self, created_status};
use crate::errors::RailwayError;
use crate::errors::unsupported;
use crate::flags::ApiArgs;
use crate::scenario::{CustomDomain, ErrorKind, Scenario, Variables};
use crate::state::{Origin, State};

/// A GraphQL refusal of Railway's API. Its wording is the server's, which no CLI source
/// holds: the messages below are the fake's, and the wrapper relays whatever message comes
/// (scenarios script others with `{"graphql": "…"}`).
struct Refused(String);

pub(crate) fn api(scenario: &Scenario, state: &mut State, args: ApiArgs) -> Result<()> {
    if args.command.is_some() {
        return Err(unsupported("`api schema|search|describe`"));
    }
    if args.file.is_some() || args.variables.is_some() || args.operation_name.is_some() {
        return Err(unsupported("`api --file/--variables/--operation-name`"));
    }
    let Some(document) = args.query.as_deref() else {
        return Err(unsupported("`api` with the document on stdin"));
    };
    let vars = variables(&args.vars, &args.raw_vars)?;
    let operation = operation_name(document);
    let (field, answer) = match operation {
        "XtaskServiceInstance" => ("serviceInstance", service_instance(scenario, &vars)?),
        "XtaskDeployments" => ("deployments", deployments(scenario, state, &vars)?),
        "XtaskVariables" => ("variables", unrendered(scenario, &vars)?),
        "XtaskRollback" => ("deploymentRollback", rollback(scenario, state, &vars)?),
        "XtaskApprove" => ("deploymentApprove", approve(scenario, state, &vars)?),
        "XtaskDeployCommit" => (
            "serviceInstanceDeployV2",
            deploy_commit(scenario, state, &vars)?,
        ),
        "XtaskDomains" => ("domains", domains(scenario, &vars)?),
        other => return Err(unsupported(format!("the GraphQL operation `{other}`"))),
    };
    match answer {
        Ok(value) => respond(&args, 200, &json!({ "data": { field: value } })),
        Err(Refused(message)) => respond(&args, 200, &refusal(&message)),
    }
}

/// A GraphQL refusal as the API words it: HTTP 200, `data: null` and the message.
fn refusal(message: &str) -> Value {
    json!({ "data": null, "errors": [{ "message": message }] })
}

/// A scripted failure of `api`: without credentials the client is never built
/// (`GQLClient::new_authorized`, src/client.rs); otherwise the API answers, and `api` prints
/// its body whatever it is. Token refusals carry the messages `parse_graphql_response`
/// (src/client.rs) looks for — it lower-cases them first, so their exact casing is not in
/// the sources — which `api` does not translate. The body of a 429 is not in the sources
/// either: script it with `http`.
pub(crate) fn failure(kind: &ErrorKind, args: &ApiArgs) -> Result<()> {
    match kind {
        ErrorKind::Unauthorized => Err(RailwayError::unauthorized().into()),
        ErrorKind::UnauthorizedToken | ErrorKind::UnauthorizedLogin => {
            respond(args, 200, &refusal("Not Authorized"))
        }
        ErrorKind::InvalidToken => respond(args, 200, &refusal("Project Token not found")),
        ErrorKind::Graphql(message) => respond(args, 200, &refusal(message)),
        ErrorKind::RateLimited => Err(unsupported(
            "`rate_limited` for `api` (the body of a 429 is not known: script it with `http`)",
        )),
        ErrorKind::Http { status, body } => respond(args, *status, body),
        other => Err(other.error()),
    }
}

/// Prints the body (`print_response_body`), then fails as `execute_document` does.
fn respond(args: &ApiArgs, status: u16, body: &Value) -> Result<()> {
    match body {
        // Not JSON: printed as is, without a newline.
        Value::String(raw) => print!("{raw}"),
        _ if args.compact => println!("{body}"),
        _ => println!("{}", serde_json::to_string_pretty(body)?),
    }
    if !(200..300).contains(&status) {
        bail!(
            "Railway API request failed with HTTP {}",
            http_status(status)
        );
    }
    let errors = body
        .get("errors")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if errors > 0 && !args.allow_errors {
        bail!("Railway API returned {errors} GraphQL error(s)");
    }
    Ok(())
}

/// `reqwest::StatusCode`'s `Display`: the code and its canonical reason.
fn http_status(status: u16) -> String {
    let reason = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "<unknown status code>",
    };
    format!("{status} {reason}")
}

fn operation_name(document: &str) -> &str {
    document
        .trim_start()
        .trim_start_matches("query")
        .trim_start_matches("mutation")
        .trim_start()
        .split(['(', '{', ' '])
        .next()
        .unwrap_or("")
}

/// `--var` values are JSON when they parse, `--raw-var` values always strings.
fn variables(vars: &[String], raw: &[String]) -> Result<BTreeMap<String, Value>> {
    let mut out = BTreeMap::new();
    for (item, typed) in vars
        .iter()
        .map(|v| (v, true))
        .chain(raw.iter().map(|v| (v, false)))
    {
        let Some((key, value)) = item.split_once('=') else {
            bail!("Invalid variable `{item}`: expected KEY=VALUE");
        };
        let value = if typed {
            serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()))
        } else {
            Value::String(value.to_owned())
        };
        out.insert(key.to_owned(), value);
    }
    Ok(out)
}

/// A variable of the document, checked as a GraphQL server checks it (graphql-js's wording
/// for a missing or mistyped variable; Railway's API is a GraphQL server).
fn text<'a>(vars: &'a BTreeMap<String, Value>, key: &str) -> Result<&'a str> {
    match vars.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => bail!(
            "Variable \"${key}\" got invalid value {other}; String cannot represent a non string value"
        ),
        None => bail!("Variable \"${key}\" of required type \"String!\" was not provided."),
    }
}

type Answer = Result<std::result::Result<Value, Refused>>;

fn service_name<'a>(scenario: &'a Scenario, id: &str) -> std::result::Result<&'a str, Refused> {
    scenario
        .project
        .services
        .iter()
        .find(|name| context::service_id(name) == id)
        .map(String::as_str)
        .ok_or_else(|| Refused("Service not found".into()))
}

fn service_instance(scenario: &Scenario, vars: &BTreeMap<String, Value>) -> Answer {
    text(vars, "environmentId")?;
    let service = match service_name(scenario, text(vars, "serviceId")?) {
        Ok(s) => s,
        Err(r) => return Ok(Err(r)),
    };
    let mut instance = json!({
        "healthcheckPath": "/health/ready", "healthcheckTimeout": 120, "drainingSeconds": 30,
        "overlapSeconds": null, "numReplicas": 1, "preDeployCommand": null,
        "restartPolicyType": "ON_FAILURE", "sleepApplication": false,
        "source": {"repo": "intowork/intowork-backend", "image": null},
    });
    if let Some(Value::Object(fields)) = scenario.service_instances.get(service) {
        for (k, v) in fields {
            instance[k] = v.clone();
        }
    }
    Ok(Ok(instance))
}

fn deployments(scenario: &Scenario, state: &mut State, vars: &BTreeMap<String, Value>) -> Answer {
    let first = vars.get("first").and_then(Value::as_u64).unwrap_or(20) as usize;
    let service = match service_name(scenario, text(vars, "serviceId")?) {
        Ok(s) => s,
        Err(r) => return Ok(Err(r)),
    };
    // A status read, like `deployment list`.
    state.poll();
    let edges: Vec<Value> = context::deployments(scenario, state, service)
        .into_iter()
        .take(first)
        .map(|d| json!({"node": {"id": d.id, "status": d.status, "createdAt": d.created_at, "canRollback": d.can_rollback, "meta": d.meta}}))
        .collect();
    Ok(Ok(json!({ "edges": edges })))
}

fn unrendered(scenario: &Scenario, vars: &BTreeMap<String, Value>) -> Answer {
    text(vars, "projectId")?;
    text(vars, "environmentId")?;
    let values: Map<String, Value> = match vars.get("serviceId") {
        None => to_map(&scenario.shared_variables),
        Some(_) => {
            let service = match service_name(scenario, text(vars, "serviceId")?) {
                Ok(s) => s,
                Err(r) => return Ok(Err(r)),
            };
            let empty = BTreeMap::new();
            let written = scenario.unrendered_variables.get(service);
            to_map(
                written
                    .or(scenario.variables.get(service))
                    .unwrap_or(&empty),
            )
        }
    };
    Ok(Ok(Value::Object(values)))
}

/// A sealed variable is `null`, as in `variables(…, unrendered: true)` (railway.md: checked
/// against the API through `railway api`).
fn to_map(vars: &Variables) -> Map<String, Value> {
    vars.iter()
        .map(|(k, v)| (k.clone(), v.clone().map_or(Value::Null, Value::String)))
        .collect()
}

/// The service a deployment id belongs to, with its current view.
fn find(scenario: &Scenario, state: &State, id: &str) -> Option<(String, context::DeploymentView)> {
    scenario.project.services.iter().find_map(|service| {
        context::deployments(scenario, state, service)
            .into_iter()
            .find(|d| d.id == id)
            .map(|d| (service.clone(), d))
    })
}

fn rollback(scenario: &Scenario, state: &mut State, vars: &BTreeMap<String, Value>) -> Answer {
    let id = text(vars, "id")?;
    let Some((service, target)) = find(scenario, state, id) else {
        return Ok(Err(Refused("Deployment not found".into())));
    };
    if !target.can_rollback {
        return Ok(Err(Refused(
            "This deployment cannot be rolled back to".into(),
        )));
    }
    state.create(
        &service,
        &scenario.rollback_deployment_id,
        Origin::Rollback,
        target.meta,
    );
    Ok(Ok(Value::Bool(true)))
}

fn approve(scenario: &Scenario, state: &mut State, vars: &BTreeMap<String, Value>) -> Answer {
    let id = text(vars, "id")?;
    let Some(created) = state.created.iter_mut().find(|c| c.id == id) else {
        return Ok(Err(Refused("Deployment not found".into())));
    };
    if created_status(scenario, created) != "NEEDS_APPROVAL" {
        return Ok(Err(Refused("Deployment is not awaiting approval".into())));
    }
    let gate = scenario
        .progression
        .iter()
        .position(|s| s == "NEEDS_APPROVAL")
        .unwrap_or_default();
    created.approved = true;
    // The next status read shows the step after the gate.
    created.status_polls = gate + 1;
    Ok(Ok(Value::Bool(true)))
}

fn deploy_commit(scenario: &Scenario, state: &mut State, vars: &BTreeMap<String, Value>) -> Answer {
    text(vars, "environmentId")?;
    let commit = text(vars, "commitSha")?.to_owned();
    let service = match service_name(scenario, text(vars, "serviceId")?) {
        Ok(s) => s.to_owned(),
        Err(r) => return Ok(Err(r)),
    };
    let id = scenario.new_deployment_id.clone();
    state.create(
        &service,
        &id,
        Origin::Deploy,
        Some(json!({ "commitHash": commit })),
    );
    Ok(Ok(Value::String(id)))
}

/// `domains(environmentId, projectId, serviceId)`: `AllDomains { serviceDomains, customDomains
/// }` (railwayapp 5.71.0, `src/gql/queries/strings/Domains.graphql`; types in
/// `src/gql/schema.json`: `CustomDomainStatus.verified: Boolean!`, `certificateStatus:
/// CertificateStatus!`), with the fields the wrapper's `XtaskDomains` selects — a GraphQL
/// server answers nothing else.
fn domains(scenario: &Scenario, vars: &BTreeMap<String, Value>) -> Answer {
    text(vars, "environmentId")?;
    text(vars, "projectId")?;
    let service = match service_name(scenario, text(vars, "serviceId")?) {
        Ok(s) => s,
        Err(r) => return Ok(Err(r)),
    };
    let listed = scenario.domains.get(service).cloned().unwrap_or_default();
    let service_domains: Vec<Value> = listed
        .service
        .iter()
        .map(|d| json!({ "domain": d }))
        .collect();
    let custom_domains: Vec<Value> = listed
        .custom
        .iter()
        .map(|d| match d {
            CustomDomain::Serving(domain) => json!({"domain": domain, "status": {"verified": true, "certificateStatus": "CERTIFICATE_STATUS_TYPE_VALID"}}),
            CustomDomain::WithStatus { domain, verified, certificate_status } => json!({"domain": domain, "status": {"verified": verified, "certificateStatus": certificate_status}}),
        })
        .collect();
    Ok(Ok(json!({
        "serviceDomains": service_domains,
        "customDomains": custom_domains,
    })))
}
