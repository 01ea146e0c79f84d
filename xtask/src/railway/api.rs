//! The GraphQL documents this tool sends through `railway api` (the CLI's own client, with
//! its credentials): one variant per document, names and fields as in railwayapp 5.71.0's
//! schema (`src/gql/schema.json`). Ids travel as `--raw-var` (strings even when they look
//! like numbers), counts as `--var` (JSON). The CLI prints the response body on stdout in
//! every case (`src/commands/api.rs`): with `--allow-errors` a GraphQL refusal exits 0, a
//! non-2xx answer exits 1 anyway; either way its `errors[].message` become
//! [`RailwayError::Api`] (masked, escaped), never lost.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use xshell::Shell;

use super::error::api_refusal;
use super::relay::Relay;
use super::status::DeploymentStatus;
use super::{Call, Ids, Railway, RailwayError, Variables, relayed};

/// One `railway api` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    /// The live service instance's settings (what runs, whatever any file says).
    ServiceInstance {
        environment_id: String,
        service_id: String,
    },
    /// The service's deployments, newest first, with `canRollback` and `meta`.
    Deployments {
        environment_id: String,
        service_id: String,
        first: u32,
    },
    /// Variables as written (`${{…}}` references unresolved); `service_id: None` = the
    /// environment's shared variables.
    UnrenderedVariables {
        project_id: String,
        environment_id: String,
        service_id: Option<String>,
    },
    /// Redeploys the image of an earlier deployment (a new deployment).
    Rollback { id: String },
    /// Lets a NEEDS_APPROVAL deployment go on.
    Approve { id: String },
    /// Deploys one commit of the connected repository; answers the new deployment's id.
    DeployCommit {
        environment_id: String,
        service_id: String,
        commit: String,
    },
    /// A service's public domains: generated (`*.up.railway.app`) and custom.
    Domains {
        project_id: String,
        environment_id: String,
        service_id: String,
    },
}

const SERVICE_INSTANCE: &str = "query XtaskServiceInstance($environmentId: String!, $serviceId: String!) { serviceInstance(environmentId: $environmentId, serviceId: $serviceId) { healthcheckPath healthcheckTimeout drainingSeconds overlapSeconds numReplicas preDeployCommand restartPolicyType sleepApplication source { repo image } } }";
const DEPLOYMENTS: &str = "query XtaskDeployments($environmentId: String!, $serviceId: String!, $first: Int!) { deployments(input: { environmentId: $environmentId, serviceId: $serviceId }, first: $first) { edges { node { id status createdAt canRollback meta } } } }";
const UNRENDERED_VARIABLES: &str = "query XtaskVariables($projectId: String!, $environmentId: String!, $serviceId: String) { variables(projectId: $projectId, environmentId: $environmentId, serviceId: $serviceId, unrendered: true) }";
const ROLLBACK: &str = "mutation XtaskRollback($id: String!) { deploymentRollback(id: $id) }";
const APPROVE: &str = "mutation XtaskApprove($id: String!) { deploymentApprove(id: $id) }";
/// The fields `railway domain list` reads (railwayapp 5.71.0,
/// `src/gql/queries/strings/Domains.graphql`), those this tool needs.
const DOMAINS: &str = "query XtaskDomains($environmentId: String!, $projectId: String!, $serviceId: String!) { domains(environmentId: $environmentId, projectId: $projectId, serviceId: $serviceId) { serviceDomains { domain } customDomains { domain status { verified certificateStatus } } } }";
const DEPLOY_COMMIT: &str = "mutation XtaskDeployCommit($environmentId: String!, $serviceId: String!, $commitSha: String!) { serviceInstanceDeployV2(environmentId: $environmentId, serviceId: $serviceId, commitSha: $commitSha) }";

impl Op {
    pub(crate) fn document(&self) -> &'static str {
        match self {
            Op::ServiceInstance { .. } => SERVICE_INSTANCE,
            Op::Deployments { .. } => DEPLOYMENTS,
            Op::UnrenderedVariables { .. } => UNRENDERED_VARIABLES,
            Op::Rollback { .. } => ROLLBACK,
            Op::Approve { .. } => APPROVE,
            Op::DeployCommit { .. } => DEPLOY_COMMIT,
            Op::Domains { .. } => DOMAINS,
        }
    }

    /// The root field the answer is under (`data.<field>`).
    pub(crate) fn field(&self) -> &'static str {
        match self {
            Op::ServiceInstance { .. } => "serviceInstance",
            Op::Deployments { .. } => "deployments",
            Op::UnrenderedVariables { .. } => "variables",
            Op::Rollback { .. } => "deploymentRollback",
            Op::Approve { .. } => "deploymentApprove",
            Op::DeployCommit { .. } => "serviceInstanceDeployV2",
            Op::Domains { .. } => "domains",
        }
    }

    pub(crate) fn mutates(&self) -> bool {
        matches!(
            self,
            Op::Rollback { .. } | Op::Approve { .. } | Op::DeployCommit { .. }
        )
    }

    /// `--raw-var`/`--var` flags.
    pub(crate) fn variables(&self) -> Vec<String> {
        let raw = |k: &str, v: &str| vec!["--raw-var".to_owned(), format!("{k}={v}")];
        match self {
            Op::ServiceInstance {
                environment_id,
                service_id,
            } => [
                raw("environmentId", environment_id),
                raw("serviceId", service_id),
            ]
            .concat(),
            Op::Deployments {
                environment_id,
                service_id,
                first,
            } => [
                raw("environmentId", environment_id),
                raw("serviceId", service_id),
                vec!["--var".to_owned(), format!("first={first}")],
            ]
            .concat(),
            Op::UnrenderedVariables {
                project_id,
                environment_id,
                service_id,
            } => [
                raw("projectId", project_id),
                raw("environmentId", environment_id),
                service_id
                    .as_deref()
                    .map(|s| raw("serviceId", s))
                    .unwrap_or_default(),
            ]
            .concat(),
            Op::Rollback { id } | Op::Approve { id } => raw("id", id),
            Op::DeployCommit {
                environment_id,
                service_id,
                commit,
            } => [
                raw("environmentId", environment_id),
                raw("serviceId", service_id),
                raw("commitSha", commit),
            ]
            .concat(),
            Op::Domains {
                project_id,
                environment_id,
                service_id,
            } => [
                raw("environmentId", environment_id),
                raw("projectId", project_id),
                raw("serviceId", service_id),
            ]
            .concat(),
        }
    }

    /// `data.<field>` of a response body without `errors` (see [`api_refusal`]).
    pub(crate) fn answer(&self, body: &str, relay: &Relay) -> Result<Value, RailwayError> {
        let unexpected = |detail: String| RailwayError::Unexpected {
            command: format!("api ({})", self.field()),
            detail: relay.text(&detail),
        };
        let mut doc: Value =
            serde_json::from_str(body).map_err(|e| unexpected(format!("not JSON: {e}")))?;
        match doc.pointer_mut(&format!("/data/{}", self.field())) {
            Some(value) => Ok(value.take()),
            None => Err(unexpected(format!(
                "no `data.{}` in the answer",
                self.field()
            ))),
        }
    }
}

/// `serviceInstance`: the settings Railway runs the service with.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ServiceInstance {
    pub(crate) healthcheck_path: Option<String>,
    pub(crate) healthcheck_timeout: Option<u64>,
    pub(crate) draining_seconds: Option<u64>,
    pub(crate) overlap_seconds: Option<u64>,
    pub(crate) num_replicas: Option<u32>,
    /// JSON in the schema: an array of command strings, or null.
    pub(crate) pre_deploy_command: Option<Value>,
    pub(crate) restart_policy_type: Option<String>,
    pub(crate) sleep_application: Option<bool>,
    pub(crate) source: Option<Source>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub(crate) struct Source {
    pub(crate) repo: Option<String>,
    pub(crate) image: Option<String>,
}

/// A deployment, from `deployment list --json` or from the API (which adds `canRollback`).
/// Its id is printed in many places: it is relayed (masked, escaped) as it is read.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Deployment {
    #[serde(deserialize_with = "relayed_text")]
    pub(crate) id: String,
    pub(crate) status: DeploymentStatus,
    #[serde(default)]
    pub(crate) created_at: Option<String>,
    #[serde(default)]
    pub(crate) can_rollback: Option<bool>,
    /// GitHub deploys carry `commitHash`, `branch`, `repo`.
    #[serde(default)]
    pub(crate) meta: Option<Value>,
}

fn relayed_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    String::deserialize(d).map(|s| relayed(&s))
}

impl Deployment {
    /// The commit this deployment was built from, when the platform says (relayed: it is
    /// printed and compared with what the service serves).
    pub(crate) fn commit(&self) -> Option<String> {
        self.meta
            .as_ref()?
            .get("commitHash")?
            .as_str()
            .filter(|c| !c.is_empty())
            .map(relayed)
    }
}

/// `deployments`: newest first.
#[derive(Deserialize)]
struct Connection {
    edges: Vec<Edge>,
}

#[derive(Deserialize)]
struct Edge {
    node: Deployment,
}

impl Railway {
    /// One `railway api` document; `data.<field>` of the answer, or the refusal the body
    /// (and, for a non-2xx answer, stderr) carries.
    pub(crate) fn api(&self, sh: &Shell, op: Op) -> Result<Value, RailwayError> {
        let call = Call::Api(op.clone());
        let out = self.run(sh, &call)?;
        if out.code == 2 {
            return Err(self.failure(&call, &out));
        }
        if let Some(refused) = api_refusal(op.field(), &out, &self.relay, &self.target) {
            return Err(refused);
        }
        op.answer(&out.stdout, &self.relay)
    }

    pub(super) fn api_json<T: for<'de> Deserialize<'de>>(
        &self,
        what: &str,
        value: Value,
    ) -> Result<T, RailwayError> {
        serde_json::from_value(value).map_err(|e| RailwayError::Json {
            command: format!("api ({what})"),
            detail: self.relay.text(&e.to_string()),
        })
    }

    pub(crate) fn service_instance(
        &self,
        sh: &Shell,
        ids: &Ids,
    ) -> Result<ServiceInstance, RailwayError> {
        let op = Op::ServiceInstance {
            environment_id: ids.environment_id.clone(),
            service_id: ids.service_id.clone(),
        };
        let value = self.api(sh, op)?;
        self.api_json("serviceInstance", value)
    }

    /// The service's deployments through the API, newest first, with `canRollback`.
    pub(crate) fn history(&self, sh: &Shell, ids: &Ids) -> Result<Vec<Deployment>, RailwayError> {
        let op = Op::Deployments {
            environment_id: ids.environment_id.clone(),
            service_id: ids.service_id.clone(),
            first: 20,
        };
        let connection = self.api(sh, op)?;
        Ok(self
            .api_json::<Connection>("deployments", connection)?
            .edges
            .into_iter()
            .map(|e| e.node)
            .collect())
    }

    /// Variables as written, references unresolved, sealed ones without a value;
    /// `service: None` = shared variables. Every value read is masked from then on.
    pub(crate) fn unrendered_variables(
        &self,
        sh: &Shell,
        ids: &Ids,
        service_id: Option<&str>,
    ) -> Result<Variables, RailwayError> {
        let op = Op::UnrenderedVariables {
            project_id: ids.project_id.clone(),
            environment_id: ids.environment_id.clone(),
            service_id: service_id.map(str::to_owned),
        };
        let value = self.api(sh, op)?;
        let variables: Variables = self.api_json("variables", value)?;
        self.relay.learn(&variables);
        Ok(variables)
    }

    /// `deploymentRollback(id)`: Railway redeploys that deployment's image as a new deployment.
    pub(crate) fn rollback(&self, sh: &Shell, id: &str) -> Result<(), RailwayError> {
        self.expect_true(sh, Op::Rollback { id: id.to_owned() })
    }

    pub(crate) fn approve(&self, sh: &Shell, id: &str) -> Result<(), RailwayError> {
        self.expect_true(sh, Op::Approve { id: id.to_owned() })
    }

    fn expect_true(&self, sh: &Shell, op: Op) -> Result<(), RailwayError> {
        let field = op.field();
        match self.api(sh, op)? {
            Value::Bool(true) => Ok(()),
            other => Err(RailwayError::Unexpected {
                command: format!("api ({field})"),
                detail: self
                    .relay
                    .text(&format!("answered {other} instead of true")),
            }),
        }
    }

    /// `serviceInstanceDeployV2(commitSha)`: the new deployment's id.
    pub(crate) fn deploy_commit(
        &self,
        sh: &Shell,
        ids: &Ids,
        commit: &str,
    ) -> Result<String, RailwayError> {
        let op = Op::DeployCommit {
            environment_id: ids.environment_id.clone(),
            service_id: ids.service_id.clone(),
            commit: commit.to_owned(),
        };
        match self.api(sh, op)? {
            Value::String(id) if !id.is_empty() => Ok(relayed(&id)),
            other => Err(RailwayError::Unexpected {
                command: "api (serviceInstanceDeployV2)".into(),
                detail: self
                    .relay
                    .text(&format!("answered {other} instead of a deployment id")),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_name_the_root_field_they_read_and_ids_stay_strings() {
        let op = Op::Deployments {
            environment_id: "env-1".into(),
            service_id: "123".into(),
            first: 20,
        };
        assert!(op.document().contains("deployments(input:"));
        assert!(op.document().contains("canRollback"));
        assert_eq!(
            op.variables(),
            [
                "--raw-var",
                "environmentId=env-1",
                "--raw-var",
                "serviceId=123",
                "--var",
                "first=20"
            ]
        );
        for op in [
            Op::Rollback { id: "d".into() },
            Op::Approve { id: "d".into() },
        ] {
            assert!(op.mutates() && op.document().starts_with("mutation"));
            assert!(op.document().contains(op.field()));
        }
    }

    #[test]
    fn answers_are_unwrapped() {
        let op = Op::Rollback { id: "d".into() };
        let relay = Relay::default();
        assert_eq!(
            op.answer(r#"{"data":{"deploymentRollback":true}}"#, &relay)
                .unwrap(),
            json!(true)
        );
        assert!(op.answer("{}", &relay).is_err());
    }
}
