//! Every command the wrapper can issue. `args()` is the single source of argument vectors,
//! which the contract test replays against the real CLI.

use std::path::PathBuf;

use super::api::Op;
use super::{Feature, Target};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Call {
    Version,
    Status,
    Variables,
    Redeploy {
        from_source: bool,
    },
    Up {
        path: PathBuf,
    },
    Deployments {
        limit: u32,
    },
    Logs {
        deployment: Option<String>,
        build: bool,
        since: Option<String>,
        lines: Option<u32>,
        filter: Option<String>,
    },
    /// One GraphQL document through the CLI's client and credentials.
    Api(Op),
    /// The change set `.railway/railway.ts` would apply to the target environment.
    ConfigPlan {
        file: PathBuf,
    },
}

impl Call {
    /// Whether the call changes anything on Railway (what `--dry-run` must never run).
    pub(crate) fn mutates(&self) -> bool {
        match self {
            Call::Redeploy { .. } | Call::Up { .. } => true,
            Call::Api(op) => op.mutates(),
            _ => false,
        }
    }

    /// What the call asks of the CLI, as the version gate knows it ([`super::version`]).
    pub(crate) fn features(&self) -> Vec<Feature> {
        match self {
            Call::Version => Vec::new(),
            Call::Status => vec![Feature::Status],
            Call::Variables => vec![Feature::VariableList],
            Call::Redeploy { from_source } => {
                let mut v = vec![Feature::Redeploy];
                if *from_source {
                    v.push(Feature::RedeployFromSource);
                }
                v
            }
            Call::Up { .. } => vec![Feature::UpDetach],
            Call::Deployments { .. } => vec![Feature::DeploymentList],
            Call::Logs { .. } => vec![Feature::Logs],
            Call::Api(_) => vec![Feature::Api],
            Call::ConfigPlan { .. } => vec![Feature::ConfigPlan],
        }
    }

    pub(crate) fn args(&self, t: &Target) -> Vec<String> {
        let s = || {
            vec![
                "--service".to_owned(),
                t.service.clone(),
                "--environment".to_owned(),
                t.environment.clone(),
            ]
        };
        let owned = |v: &[&str]| v.iter().map(|a| (*a).to_owned()).collect::<Vec<String>>();
        match self {
            Call::Version => owned(&["--version"]),
            // `status` has no --service; the environment narrows it.
            Call::Status => [
                owned(&["status", "--environment"]),
                vec![t.environment.clone()],
                owned(&["--json"]),
            ]
            .concat(),
            Call::Variables => [owned(&["variable", "list"]), s(), owned(&["--json"])].concat(),
            Call::Redeploy { from_source } => {
                let mut v = [owned(&["redeploy"]), s(), owned(&["--yes", "--json"])].concat();
                if *from_source {
                    v.push("--from-source".into());
                }
                v
            }
            Call::Up { path } => [
                vec!["up".into(), path.display().to_string()],
                s(),
                owned(&["--detach", "--json"]),
            ]
            .concat(),
            Call::Deployments { limit } => [
                owned(&["deployment", "list"]),
                s(),
                vec!["--limit".into(), limit.to_string(), "--json".into()],
            ]
            .concat(),
            Call::Logs { .. } => self.logs_args(s()),
            // `api` has no --service/--environment: the ids are variables of the document.
            Call::Api(op) => [
                vec!["api".into(), op.document().to_owned()],
                op.variables(),
                owned(&["--compact", "--allow-errors"]),
            ]
            .concat(),
            Call::ConfigPlan { file } => [
                owned(&["config", "plan", "--file"]),
                vec![file.display().to_string(), "--environment".into()],
                vec![t.environment.clone()],
                owned(&["--json", "--detailed-exit-code"]),
            ]
            .concat(),
        }
    }

    fn logs_args(&self, target: Vec<String>) -> Vec<String> {
        let Call::Logs {
            deployment,
            build,
            since,
            lines,
            filter,
        } = self
        else {
            unreachable!("only called for logs")
        };
        let mut v = vec!["logs".to_owned()];
        v.extend(deployment.clone());
        v.extend(target);
        v.push(if *build { "--build" } else { "--deployment" }.into());
        v.push("--json".into());
        if let Some(since) = since {
            v.extend(["--since".into(), since.clone()]);
        }
        if let Some(n) = lines {
            v.extend(["--lines".into(), n.to_string()]);
        }
        if let Some(f) = filter {
            v.extend(["--filter".into(), f.clone()]);
        }
        v
    }

    /// One of each shape the wrapper produces, for the contract test.
    #[cfg(test)]
    pub(crate) fn every_shape() -> Vec<Call> {
        let ids = || ("env-0000".to_owned(), "svc-0000".to_owned());
        let (environment_id, service_id) = ids();
        vec![
            Call::Version,
            Call::Status,
            Call::Variables,
            Call::Redeploy { from_source: false },
            Call::Redeploy { from_source: true },
            Call::Up {
                path: PathBuf::from("."),
            },
            Call::Deployments { limit: 5 },
            Call::Logs {
                deployment: Some("0000".into()),
                build: false,
                since: Some("2026-11-27T10:00:00Z".into()),
                lines: Some(500),
                filter: None,
            },
            Call::Logs {
                deployment: Some("0000".into()),
                build: true,
                since: None,
                lines: Some(100),
                filter: Some("@level:error".into()),
            },
            Call::Logs {
                deployment: None,
                build: false,
                since: Some("5m".into()),
                lines: None,
                filter: None,
            },
            Call::Api(Op::ServiceInstance {
                environment_id: environment_id.clone(),
                service_id: service_id.clone(),
            }),
            Call::Api(Op::Deployments {
                environment_id: environment_id.clone(),
                service_id: service_id.clone(),
                first: 20,
            }),
            Call::Api(Op::UnrenderedVariables {
                project_id: "prj-0000".into(),
                environment_id: environment_id.clone(),
                service_id: Some(service_id.clone()),
            }),
            Call::Api(Op::UnrenderedVariables {
                project_id: "prj-0000".into(),
                environment_id: environment_id.clone(),
                service_id: None,
            }),
            Call::Api(Op::Rollback { id: "0000".into() }),
            Call::Api(Op::Approve { id: "0000".into() }),
            Call::Api(Op::Domains {
                project_id: "prj-0000".into(),
                environment_id: environment_id.clone(),
                service_id: service_id.clone(),
            }),
            Call::Api(Op::DeployCommit {
                environment_id,
                service_id,
                commit: "0123456789abcdef0123456789abcdef01234567".into(),
            }),
            Call::ConfigPlan {
                file: PathBuf::from(".railway/railway.ts"),
            },
        ]
    }

    pub(crate) fn name(&self) -> &'static str {
        match self {
            Call::Version => "--version",
            Call::Status => "status",
            Call::Variables => "variable list",
            Call::Redeploy { .. } => "redeploy",
            Call::Up { .. } => "up",
            Call::Deployments { .. } => "deployment list",
            Call::Logs { .. } => "logs",
            Call::Api(_) => "api",
            Call::ConfigPlan { .. } => "config plan",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::t;
    use super::*;

    /// Every row of the version table is asked for by some call, except the one about how
    /// `variable list` prints sealed variables (a matter of reading, not of flags).
    #[test]
    fn every_feature_of_the_table_is_used() {
        let used: Vec<Feature> = Call::every_shape()
            .iter()
            .flat_map(Call::features)
            .collect();
        for row in crate::railway::version::TABLE {
            assert!(
                used.contains(&row.feature) || row.feature == Feature::SealedAsNull,
                "{:?} is in the table but no call uses it",
                row.feature
            );
        }
    }

    #[test]
    fn only_deploying_calls_mutate() {
        let mutating: Vec<_> = Call::every_shape()
            .into_iter()
            .filter(Call::mutates)
            .collect();
        assert!(mutating.iter().all(|c| matches!(
            c,
            Call::Redeploy { .. }
                | Call::Up { .. }
                | Call::Api(Op::Rollback { .. } | Op::Approve { .. } | Op::DeployCommit { .. })
        )));
        assert_eq!(mutating.len(), 6);
    }

    #[test]
    fn every_call_names_service_and_environment_and_asks_for_json() {
        for call in Call::every_shape() {
            let args = call.args(&t());
            match call {
                Call::Version => continue,
                // The ids are in the document's variables; the answer is always JSON.
                Call::Api(_) => {
                    assert!(args.contains(&"--allow-errors".to_owned()), "{args:?}");
                    continue;
                }
                _ => {}
            }
            assert!(args.contains(&"--environment".to_owned()), "{args:?}");
            assert!(args.contains(&"--json".to_owned()), "{args:?}");
            if !matches!(call, Call::Status | Call::ConfigPlan { .. }) {
                assert!(args.contains(&"--service".to_owned()), "{args:?}");
            }
            if matches!(call, Call::Redeploy { .. }) {
                assert!(
                    args.contains(&"--yes".to_owned()),
                    "redeploy must not prompt: {args:?}"
                );
            }
        }
    }
}
