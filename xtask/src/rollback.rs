//! `cargo xtask rollback`: back to the deployment that served before, and proof that it
//! serves again. Railway's `deploymentRollback` redeploys an earlier deployment's image as a
//! new deployment; a replaced deployment shows as REMOVED, which is the usual target.

use std::time::Instant;

use serde_json::json;
use xshell::Shell;

use crate::flags::{self, WaitArgs};
use crate::migrate::guard;
use crate::railway::poll::Outcome;
use crate::railway::{Call, Deployment, Feature, Needs, Op, Phase, Railway};
use crate::release::health::Probe;
use crate::release::{self, FrontendOrigin, MIGRATION_NOTE, Say, Stage, Summary, Verdict};
use crate::util::exit::Reported;
use crate::util::mask::Masker;
use crate::verify::remote;

impl flags::Rollback {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let mut stage = Stage::BeforeTrigger;
        let result = self.steps(sh, &mut stage);
        release::on_failure("rollback", self.json, stage, result)
    }

    fn steps(&self, sh: &Shell, stage: &mut Stage) -> anyhow::Result<()> {
        let started = Instant::now();
        let say = Say { json: self.json };

        // 1. Pre-flight: CLI (its version, before anything), credentials, ids.
        let remote::Ready {
            mut railway,
            ids,
            variables,
        } = remote::railway_ready(sh, &self.railway, &needs())?;
        railway.read_only = self.dry_run;

        // 2. One deploy at a time: a rollback races a running deploy like any deploy.
        release::one_at_a_time(sh, &railway, &ids, &self.wait, say)?;

        // 3. The target: --to, or the deployment that served before the active one.
        let target = pick_target(&railway.history(sh, &ids)?, self.to.as_deref())?;
        say.line(&rolling(&railway, &target));
        // The schema: refuses a target whose build would break on a contract migration
        // applied since (or when that cannot be known), and says which migrations stay.
        let (env, files) = (
            (&variables, &railway.target),
            guard::rollback::Upcoming::None,
        );
        guard::rollback::check(sh, &target, env, files, self.accept_schema, say)?;
        let url = release::health_url(self.health_url.as_deref(), &variables);
        let frontend_origin = release::FrontendOrigin::of(&variables);
        release::sealed_note(&variables, &railway.target.service);
        if self.dry_run {
            say.line(&format!(
                "dry run: would run\n  {}",
                railway.display(&Call::Api(Op::Rollback {
                    id: target.id.clone()
                }))
            ));
            return Ok(());
        }

        // 4. Trigger, wait for the new deployment's outcome, probe.
        *stage = Stage::Triggered;
        let masker = railway.relay().masker();
        let run = execute(
            sh,
            &railway,
            &target,
            &self.wait,
            &masker,
            url.as_deref(),
            &frontend_origin,
            say,
            started,
        )?;

        // 5. Report: exit 0 only when the earlier build serves again, healthy.
        let (verdict, message) = run.verdict(&self.wait);
        let ok = verdict == Verdict::Deployed;
        Summary {
            task: "rollback",
            ok,
            verdict: if ok { Verdict::RolledBack } else { verdict },
            message: if ok {
                format!("rolled back to {}: {message}; {MIGRATION_NOTE}", target.id)
            } else {
                format!("rollback to {} did not end healthy: {message}", target.id)
            },
            deployment_id: Some(run.deployment_id.clone()),
            status: run.status(),
            commit: target.commit(),
            probe: run.probe,
            rollback: Some(json!({"to": target.id, "deployment_id": run.deployment_id})),
            durations_ms: [("total", started.elapsed().as_millis() as u64)].into(),
        }
        .finish(&railway, self.json, say)
    }
}

/// "rolling `backend` (production) back to ID (STATUS, commit SHA)".
fn rolling(railway: &Railway, target: &Deployment) -> String {
    format!(
        "rolling `{}` ({}) back to {} ({}, commit {})",
        railway.target.service,
        railway.target.environment,
        target.id,
        target.status,
        target.commit().as_deref().unwrap_or("unknown")
    )
}

/// What a rollback asks of the CLI: the version gate refuses an older one first.
pub(crate) fn needs() -> Needs {
    Needs::new(
        "rollback",
        &[
            Feature::Status,
            Feature::VariableList,
            Feature::SealedAsNull,
            Feature::Api,
            Feature::DeploymentList,
            Feature::Logs,
        ],
    )
}

/// `--to ID` (refused when Railway says it cannot be rolled back to), else the newest
/// deployment older than the active one that can be.
pub(crate) fn pick_target(history: &[Deployment], to: Option<&str>) -> anyhow::Result<Deployment> {
    if let Some(id) = to {
        let found = history.iter().find(|d| d.id == id).ok_or_else(|| {
            Reported(format!(
                "deployment {id} is not among the service's last {} deployments: check the id (`railway deployment list`)",
                history.len()
            ))
        })?;
        if found.can_rollback != Some(true) {
            return Err(Reported(format!(
                "Railway says deployment {id} ({}) cannot be rolled back to (canRollback: false): its image may be gone; pick another with --to, or deploy its commit with `cargo xtask deploy --commit SHA`",
                found.status
            ))
            .into());
        }
        return Ok(found.clone());
    }
    let active = history
        .iter()
        .position(|d| d.status.phase() == Phase::Active)
        .ok_or_else(|| {
            Reported("no deployment of the service is active (SUCCESS or SLEEPING): there is nothing to roll back from; pick a target with --to".into())
        })?;
    history[active + 1..]
        .iter()
        .find(|d| d.can_rollback == Some(true))
        .cloned()
        .ok_or_else(|| {
            Reported(format!(
                "no deployment older than the active {} can be rolled back to (canRollback: false for all): pick one with --to",
                history[active].id
            ))
            .into()
        })
}

/// A rollback that ran: the deployment it created, how it ended, and its probe.
pub(crate) struct Run {
    pub(crate) deployment_id: String,
    pub(crate) outcome: Outcome,
    pub(crate) probe: Option<Probe>,
}

impl Run {
    pub(crate) fn verdict(&self, wait: &WaitArgs) -> (Verdict, String) {
        release::judge(&self.outcome, self.probe.as_ref(), wait.timeout)
    }

    pub(crate) fn status(&self) -> Option<crate::railway::DeploymentStatus> {
        self.outcome.deployment().map(|d| d.status.clone())
    }
}

/// `deploymentRollback(target)`, the new deployment found, waited on and probed for the
/// target's commit (at the health URL, when there is one) and for the frontend's CORS
/// preflight (from FRONTEND_URL's origin).
#[allow(clippy::too_many_arguments)]
pub(crate) fn execute(
    sh: &Shell,
    railway: &Railway,
    target: &Deployment,
    wait: &WaitArgs,
    masker: &Masker,
    url: Option<&str>,
    frontend: &FrontendOrigin,
    say: Say,
    started: Instant,
) -> anyhow::Result<Run> {
    let cadence = release::cadence(wait);
    let before: Vec<String> = railway
        .deployments(sh, 10)?
        .into_iter()
        .map(|d| d.id)
        .collect();
    railway.rollback(sh, &target.id)?;
    let deployment_id = railway.find_new(sh, &before, cadence)?;
    say.line(&format!(
        "rollback triggered: deployment {deployment_id} redeploys {}",
        target.id
    ));
    let waited = release::wait_streaming(sh, railway, &deployment_id, cadence, false, masker, say)?;
    let probe = match (&waited.outcome, url) {
        (Outcome::Active(d), Some(url)) => {
            let expected = target.commit();
            Some(release::probe(
                url,
                expected.as_deref(),
                &d.status,
                wait,
                started,
                frontend,
                say,
            ))
        }
        _ => None,
    };
    if !matches!(waited.outcome, Outcome::Active(_)) {
        release::print_tail(&deployment_id, &waited.logs);
    }
    Ok(Run {
        deployment_id,
        outcome: waited.outcome,
        probe,
    })
}

/// What --rollback-on-failure did.
pub(crate) struct OnFailure {
    reason: String,
    to: Option<String>,
    deployment_id: Option<String>,
    healthy: bool,
    detail: String,
    probe: Option<Probe>,
}

impl OnFailure {
    pub(crate) fn impossible(reason: String, why: &str) -> OnFailure {
        OnFailure {
            reason,
            to: None,
            deployment_id: None,
            healthy: false,
            detail: format!("no rollback: {why}"),
            probe: None,
        }
    }

    pub(crate) fn ran(reason: String, target: Deployment, run: Run, wait: &WaitArgs) -> OnFailure {
        let (verdict, message) = run.verdict(wait);
        OnFailure {
            reason,
            to: Some(target.id),
            deployment_id: Some(run.deployment_id),
            healthy: verdict == Verdict::Deployed,
            detail: message,
            probe: run.probe,
        }
    }

    /// The deploy failed either way (exit 1): `rolled_back` when the earlier build serves
    /// again, healthy; `rollback_failed` otherwise.
    pub(crate) fn apply(self, summary: &mut Summary, id: &str) {
        summary.ok = false;
        summary.verdict = if self.healthy {
            Verdict::RolledBack
        } else {
            Verdict::RollbackFailed
        };
        let to = self.to.as_deref().unwrap_or("nothing");
        summary.message = if self.healthy {
            format!(
                "deployment {id} {}; rolled back to {to} (deployment {}), which serves again: {}; {MIGRATION_NOTE}",
                self.reason,
                self.deployment_id.as_deref().unwrap_or("?"),
                self.detail
            )
        } else {
            format!(
                "deployment {id} {}; rolling back to {to} failed: {}",
                self.reason, self.detail
            )
        };
        summary.rollback = Some(
            json!({"from": id, "to": self.to, "deployment_id": self.deployment_id, "healthy": self.healthy}),
        );
        if self.probe.is_some() {
            summary.probe = self.probe;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::railway::DeploymentStatus;

    fn d(id: &str, status: &str, can: bool) -> Deployment {
        Deployment {
            id: id.into(),
            status: DeploymentStatus::parse(status),
            created_at: None,
            can_rollback: Some(can),
            meta: None,
        }
    }

    #[test]
    fn the_default_target_is_the_newest_older_one_that_can_be_rolled_back_to() {
        let history = [
            d("new-failed", "FAILED", false),
            d("active", "SUCCESS", true),
            d("gone", "REMOVED", false),
            d("previous", "REMOVED", true),
            d("older", "REMOVED", true),
        ];
        assert_eq!(pick_target(&history, None).unwrap().id, "previous");
        assert_eq!(pick_target(&history, Some("older")).unwrap().id, "older");
        let refused = pick_target(&history, Some("gone")).unwrap_err().to_string();
        assert!(
            refused.contains("cannot be rolled back to (canRollback: false)"),
            "{refused}"
        );
        assert!(pick_target(&history, Some("nope")).is_err());
        assert!(pick_target(&history[..3], None).is_err());
    }
}
