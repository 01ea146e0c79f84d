//! The scenario file: the Railway project the fake pretends to talk to, and how it evolves.
//!
//! Parsed once, strictly: an unknown field, service name or error name is an error that
//! names it, so that a typo in a test fixture fails loudly instead of silently playing a
//! different scenario.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::errors::RailwayError;

pub(crate) const SCENARIO_VAR: &str = "FAKE_RAILWAY_SCENARIO";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Scenario {
    #[serde(default = "default_version")]
    pub(crate) version: String,
    /// Fails every command (not `--version`/`--help`).
    #[serde(default)]
    pub(crate) error: Option<ErrorKind>,
    /// Fails the commands named by their top-level subcommand or operation.
    #[serde(default)]
    pub(crate) errors: BTreeMap<Endpoint, ErrorKind>,
    #[serde(default)]
    pub(crate) project: Project,
    /// Service name → variables; `null` is a sealed variable (set, unreadable).
    #[serde(default)]
    pub(crate) variables: BTreeMap<String, Variables>,
    /// Service name → deployments, newest first.
    #[serde(default)]
    pub(crate) deployments: BTreeMap<String, Vec<Deployment>>,
    #[serde(default = "default_new_deployment_id")]
    pub(crate) new_deployment_id: String,
    /// `meta` of the deployment `redeploy`/`up` create (`serviceInstanceDeployV2` sets
    /// `commitHash` itself).
    #[serde(default)]
    pub(crate) new_deployment_meta: Option<Value>,
    #[serde(default = "default_progression")]
    pub(crate) progression: Vec<String>,
    /// Id of the deployment `deploymentRollback` creates.
    #[serde(default = "default_rollback_deployment_id")]
    pub(crate) rollback_deployment_id: String,
    #[serde(default = "default_rollback_progression")]
    pub(crate) rollback_progression: Vec<String>,
    /// Service name → `serviceInstance` fields (default: settings that pass every check).
    #[serde(default)]
    pub(crate) service_instances: BTreeMap<String, Value>,
    /// Service name → variables as written (default: the rendered `variables`).
    #[serde(default)]
    pub(crate) unrendered_variables: BTreeMap<String, Variables>,
    /// The environment's shared variables.
    #[serde(default)]
    pub(crate) shared_variables: Variables,
    /// Service name → its public domains (default: none).
    #[serde(default)]
    pub(crate) domains: BTreeMap<String, Domains>,
    /// What `config plan` reports: `{ok, changes, diagnostics}` (default: no change).
    #[serde(default)]
    pub(crate) config_plan: Option<ConfigPlan>,
    /// Deployment id → deploy log lines.
    #[serde(default)]
    pub(crate) logs: BTreeMap<String, Vec<LogLine>>,
    /// Deployment id → build log lines.
    #[serde(default)]
    pub(crate) build_logs: BTreeMap<String, Vec<LogLine>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Project {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) environments: Vec<String>,
    pub(crate) services: Vec<String>,
    pub(crate) workspace: String,
}

impl Default for Project {
    fn default() -> Self {
        Self {
            id: "prj-1".to_owned(),
            name: "project".to_owned(),
            environments: vec!["production".to_owned()],
            services: vec!["backend".to_owned()],
            workspace: "workspace".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Deployment {
    pub(crate) id: String,
    #[serde(default = "default_status")]
    pub(crate) status: String,
    pub(crate) created_at: DateTime<Utc>,
    #[serde(default)]
    pub(crate) meta: Option<Value>,
    /// `canRollback` (default true).
    #[serde(default)]
    pub(crate) can_rollback: Option<bool>,
}

/// A service's public domains, as `domains(…)` lists them (railwayapp 5.71.0,
/// `src/gql/queries/strings/Domains.graphql`): generated (`serviceDomains`) and custom.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Domains {
    /// `*.up.railway.app` names.
    #[serde(default)]
    pub(crate) service: Vec<String>,
    #[serde(default)]
    pub(crate) custom: Vec<CustomDomain>,
}

/// A custom domain: its name alone (DNS verified, certificate valid), or with its status.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum CustomDomain {
    Serving(String),
    WithStatus {
        domain: String,
        #[serde(default = "default_true")]
        verified: bool,
        /// `CertificateStatus` of the schema (src/gql/schema.json).
        #[serde(rename = "certificateStatus", default = "default_certificate_status")]
        certificate_status: String,
    },
}

fn default_certificate_status() -> String {
    "CERTIFICATE_STATUS_TYPE_VALID".to_owned()
}

/// Variable name → value; `None` (`null` in JSON) is a sealed variable: the API answers
/// `null` for it (railwayapp 5.71.0, `src/controllers/variables.rs`,
/// `get_service_variables_including_sealed`).
pub(crate) type Variables = BTreeMap<String, Option<String>>;

/// A scripted plan: what the engine computed locally and what Railway's server-side preview
/// answered (`src/iac/engine.rs`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigPlan {
    #[serde(default = "default_true")]
    pub(crate) ok: bool,
    /// The local change set, as the engine builds it (`src/iac/change_set.rs`: `kind`,
    /// `address`, `path`, `summary`, `severity`, `details`, …).
    #[serde(default)]
    pub(crate) changes: Vec<Value>,
    /// `environmentPreviewChangeSet`'s `changeSet.changes`: when the plan is ok and has
    /// changes, they replace the local ones before printing, as the engine does.
    #[serde(default)]
    pub(crate) preview: Option<Vec<Value>>,
    /// `{severity, path, message}` each.
    #[serde(default)]
    pub(crate) diagnostics: Vec<Value>,
    /// The live environment and the evaluated file as graphs (`{project, resources}`);
    /// default: one `backend` service deployed from `intowork/intowork-backend`, both sides.
    #[serde(default)]
    pub(crate) current_graph: Option<Value>,
    #[serde(default)]
    pub(crate) desired_graph: Option<Value>,
}

fn default_true() -> bool {
    true
}

/// One log line; keys other than these become the line's attributes (`level`, …).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct LogLine {
    /// Visible from the call after this many earlier `logs` calls for the deployment.
    #[serde(default)]
    pub(crate) after_polls: u32,
    pub(crate) timestamp: Timestamp,
    pub(crate) message: String,
    #[serde(flatten)]
    pub(crate) attributes: Map<String, Value>,
}

/// A log timestamp: printed exactly as written, compared as an instant.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub(crate) struct Timestamp {
    pub(crate) raw: String,
    pub(crate) at: DateTime<Utc>,
}

impl TryFrom<String> for Timestamp {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, String> {
        match DateTime::parse_from_rfc3339(&raw) {
            Ok(at) => Ok(Self {
                at: at.with_timezone(&Utc),
                raw,
            }),
            Err(e) => Err(format!("`{raw}` is not an RFC 3339 timestamp: {e}")),
        }
    }
}

/// The scripted failures, named after the real CLI's errors (each command prints them as
/// the real one does: see `failure` in main.rs).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ErrorKind {
    /// No credentials at all.
    Unauthorized,
    /// RAILWAY_TOKEN set, and the API said "not authorized".
    UnauthorizedToken,
    /// A stored login the API refused.
    UnauthorizedLogin,
    /// RAILWAY_TOKEN set, and the API said "project token not found".
    InvalidToken,
    NoLinkedProject,
    NoServiceLinked,
    RateLimited,
    /// `{"graphql": "…"}`: the API refused the request with this message.
    Graphql(String),
    /// `{"http": {"status": 502, "body": …}}` (`api` only): a non-2xx answer and its body.
    Http {
        status: u16,
        body: Value,
    },
}

impl ErrorKind {
    /// The error a command other than `api`, `up` and `config` prints.
    pub(crate) fn error(&self) -> anyhow::Error {
        match self {
            Self::Unauthorized => RailwayError::unauthorized().into(),
            Self::UnauthorizedToken => RailwayError::unauthorized_token().into(),
            Self::UnauthorizedLogin => RailwayError::unauthorized_login().into(),
            Self::InvalidToken => RailwayError::invalid_token().into(),
            Self::NoLinkedProject => RailwayError::no_linked_project().into(),
            Self::NoServiceLinked => RailwayError::no_service_linked().into(),
            Self::RateLimited => RailwayError::rate_limited().into(),
            Self::Graphql(message) => RailwayError::graphql(message).into(),
            Self::Http { .. } => crate::errors::FakeError(
                "`http` errors are for `api` only (other commands do not print bodies)".into(),
            )
            .into(),
        }
    }
}

/// The keys of `errors`: a top-level subcommand, or the operation it runs
/// (`service redeploy` is both `service` and `redeploy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Endpoint {
    Status,
    Variable,
    Redeploy,
    Up,
    Deployment,
    Service,
    Logs,
    Api,
    Config,
    Domain,
}

fn default_version() -> String {
    "5.71.0".to_owned()
}

fn default_rollback_deployment_id() -> String {
    "dep-rollback".to_owned()
}

fn default_rollback_progression() -> Vec<String> {
    ["DEPLOYING", "SUCCESS"].map(str::to_owned).to_vec()
}

fn default_new_deployment_id() -> String {
    "dep-new".to_owned()
}

fn default_progression() -> Vec<String> {
    ["QUEUED", "BUILDING", "DEPLOYING", "SUCCESS"]
        .map(str::to_owned)
        .to_vec()
}

fn default_status() -> String {
    "SUCCESS".to_owned()
}

impl Scenario {
    /// Reads the scenario named by `FAKE_RAILWAY_SCENARIO`; returns it with its path.
    pub(crate) fn load_from_env() -> Result<(Self, PathBuf)> {
        let Some(path) = std::env::var_os(SCENARIO_VAR) else {
            bail!(
                "{SCENARIO_VAR} is not set: point it at a scenario JSON file (format: xtask/fake-railway/main.rs)"
            );
        };
        let path = PathBuf::from(path);
        Ok((Self::load(&path)?, path))
    }

    fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read scenario `{}`", path.display()))?;
        let scenario: Self = serde_json::from_str(&text)
            .with_context(|| format!("invalid scenario `{}`", path.display()))?;
        scenario
            .check()
            .with_context(|| format!("invalid scenario `{}`", path.display()))?;
        Ok(scenario)
    }

    fn check(&self) -> Result<()> {
        ensure!(
            !self.project.environments.is_empty(),
            "`project.environments` is empty: the first one plays the linked environment"
        );
        ensure!(
            !self.progression.is_empty(),
            "`progression` is empty: give at least the final status, e.g. [\"SUCCESS\"]"
        );
        let services = &self.project.services;
        for (what, name) in self
            .variables
            .keys()
            .map(|name| ("variables", name))
            .chain(self.deployments.keys().map(|name| ("deployments", name)))
            .chain(
                self.service_instances
                    .keys()
                    .map(|name| ("service_instances", name)),
            )
            .chain(
                self.unrendered_variables
                    .keys()
                    .map(|name| ("unrendered_variables", name)),
            )
            .chain(self.domains.keys().map(|name| ("domains", name)))
        {
            ensure!(
                services.contains(name),
                "`{what}` names service `{name}`, which is not in `project.services` ({})",
                services.join(", ")
            );
        }
        Ok(())
    }

    /// The scripted failure for a command, if any: `error` first, then `errors`.
    pub(crate) fn error_for(&self, endpoints: &[Endpoint]) -> Option<ErrorKind> {
        self.error
            .clone()
            .or_else(|| endpoints.iter().find_map(|e| self.errors.get(e).cloned()))
    }
}
