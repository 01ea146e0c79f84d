//! How a deploy or rollback ended: the verdict, the sentence that explains it, and the
//! summary for people (stdout), machines (`--json`) and CI (`$GITHUB_STEP_SUMMARY`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use crate::railway::poll::Outcome;
use crate::railway::{DeploymentStatus, Railway};
use crate::release::health::{self, Probe};
use crate::util::exit::{Reported, Summarised, Usage};

use super::Say;

/// How a deploy or rollback ended, as the JSON summary's `verdict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Verdict {
    /// Active, ready, serving the expected build.
    Deployed,
    /// The service serves an earlier deployment again (rollback: success; deploy: failure).
    RolledBack,
    /// A rollback was needed and did not end healthy.
    RollbackFailed,
    /// FAILED, CRASHED, REMOVED, REMOVING or SKIPPED.
    Failed,
    NeedsApproval,
    TimedOut,
    /// Active, but the readiness route never answered 200.
    Unhealthy,
    /// Active and ready, but serving another commit than the one deployed.
    StaleBuild,
    /// Active, ready and serving its build, but refusing the frontend's CORS preflight: every
    /// browser call from the frontend fails.
    CorsRefused,
    /// Active, but there is no URL to probe.
    NotProbed,
    /// Nothing was triggered: the task refused before changing anything (the version gate,
    /// the pre-flight, the schema guard, another deployment running, a target Railway cannot
    /// roll back to).
    Refused,
    /// The task failed after triggering, without a verdict on the deployment (the CLI or the
    /// API failed): what runs now must be checked by hand (`cargo xtask logs --latest`).
    Error,
}

/// How far a deploy or rollback got: a failure before the trigger is a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    BeforeTrigger,
    Triggered,
}

/// With `--json`, every failure ends with one summary document on stdout, as a finished
/// run does: a failure that printed none (a refusal, an error) prints
/// `{"ok": false, "task", "verdict": "refused" | "error", "message"}`. Also in the step summary.
pub(crate) fn on_failure(
    task: &'static str,
    json: bool,
    stage: Stage,
    result: anyhow::Result<()>,
) -> anyhow::Result<()> {
    let Err(err) = &result else {
        return result;
    };
    if err.is::<Summarised>() {
        return result;
    }
    let verdict = match stage {
        Stage::BeforeTrigger => Verdict::Refused,
        Stage::Triggered => Verdict::Error,
    };
    // The sentence exit::code prints: the task's own, or the cause chain.
    let message = match (err.downcast_ref::<Reported>(), err.downcast_ref::<Usage>()) {
        (Some(r), _) => r.0.clone(),
        (_, Some(u)) => u.0.clone(),
        _ => format!("{err:#}"),
    };
    if json {
        println!(
            "{}",
            json!({"ok": false, "task": task, "verdict": verdict, "message": message})
        );
    }
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        use std::io::Write;
        let verdict = serde_json::to_value(verdict)?;
        let text = format!(
            "### Railway {task}: `{}`\n\n{}\n",
            verdict.as_str().unwrap_or_default(),
            intowork_config::escape_control(&message)
        );
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?
            .write_all(text.as_bytes())?;
    }
    result
}

/// The end of a deploy or rollback, for people and machines.
#[derive(Debug)]
pub(crate) struct Summary {
    pub(crate) task: &'static str,
    pub(crate) ok: bool,
    pub(crate) verdict: Verdict,
    pub(crate) message: String,
    pub(crate) deployment_id: Option<String>,
    pub(crate) status: Option<DeploymentStatus>,
    pub(crate) commit: Option<String>,
    pub(crate) probe: Option<Probe>,
    /// Ids of a rollback: `from` (the failed deployment), `to` (the target), `deployment_id`
    /// (the new deployment the rollback created).
    pub(crate) rollback: Option<serde_json::Value>,
    pub(crate) durations_ms: BTreeMap<&'static str, u64>,
}

impl Summary {
    /// Prints the summary (one JSON document with `json`), appends it to
    /// `$GITHUB_STEP_SUMMARY`, and turns a failure into exit 1.
    pub(crate) fn finish(self, railway: &Railway, json: bool, say: Say) -> anyhow::Result<()> {
        let t = &railway.target;
        let doc = json!({
            "ok": self.ok,
            "task": self.task,
            "verdict": self.verdict,
            "message": self.message,
            "deployment_id": self.deployment_id,
            "service": t.service,
            "environment": t.environment,
            "status": self.status,
            "commit": self.commit,
            "rollback": self.rollback,
            "durations_ms": self.durations_ms,
            "health": self.probe.as_ref().map(|p| json!({
                "url": p.url, "ok": p.ok, "status": p.status, "attempts": p.attempts,
                "serving": p.serving.as_ref().map(|b| json!({"version": b.version, "commit": b.commit})),
                "cors": p.cors.as_ref().map(|c| json!({"url": c.url, "origin": c.origin, "ok": c.ok(), "status": c.status, "missing": c.missing, "error": c.error})),
            })),
        });
        if json {
            println!("{doc}");
        } else {
            say.line(&format!(
                "{} {}: {}",
                if self.ok { "✔" } else { "✘" },
                self.task,
                self.message
            ));
        }
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
            append_step_summary(&path, &self, t)?;
        }
        if self.ok {
            Ok(())
        } else {
            Err(Summarised(format!("{}: {}", self.task, self.message)).into())
        }
    }
}

fn append_step_summary(
    path: &std::ffi::OsStr,
    s: &Summary,
    t: &crate::railway::Target,
) -> anyhow::Result<()> {
    use std::io::Write;
    let health = s
        .probe
        .as_ref()
        .map(|p| {
            let code = p
                .status
                .map(|c| c.to_string())
                .unwrap_or_else(|| "no answer".into());
            let build = p
                .serving
                .as_ref()
                .and_then(|b| b.commit.clone())
                .unwrap_or_else(|| "unknown".into());
            format!("{} → {code}, serving commit `{build}`", p.url)
        })
        .unwrap_or_else(|| "not probed".into());
    let mut rows = vec![
        (
            "deployment",
            format!("`{}`", s.deployment_id.as_deref().unwrap_or("none")),
        ),
        (
            "status",
            format!(
                "**{}**",
                s.status.as_ref().map(|x| x.as_str()).unwrap_or("none")
            ),
        ),
        (
            "verdict",
            format!(
                "`{}`",
                serde_json::to_value(s.verdict)?.as_str().unwrap_or("")
            ),
        ),
        (
            "commit",
            format!("`{}`", s.commit.as_deref().unwrap_or("unknown")),
        ),
        ("health", health),
    ];
    if let Some(c) = s.probe.as_ref().and_then(|p| p.cors.as_ref()) {
        let answer = if c.ok() {
            "allowed".to_owned()
        } else {
            format!("**refused**: {}", c.explain())
        };
        rows.push(("CORS preflight", format!("from {}: {answer}", c.origin)));
    }
    if let Some(r) = &s.rollback {
        rows.push((
            "rolled back",
            format!("from `{}` to `{}`", r["from"], r["to"]),
        ));
    }
    let table: String = rows
        .iter()
        .map(|(k, v)| format!("| {k} | {v} |\n"))
        .collect();
    let text = format!(
        "### Railway {}: `{}` ({})\n\n| | |\n|---|---|\n{table}\n{}\n",
        s.task, t.service, t.environment, s.message
    );
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

/// The verdict on a waited deployment and its probe, with the sentence that explains it.
pub(crate) fn judge(
    outcome: &Outcome,
    probe: Option<&Probe>,
    timeout: Duration,
) -> (Verdict, String) {
    match outcome {
        Outcome::Active(_) => judge_probe(probe),
        Outcome::Failed(d) => (
            Verdict::Failed,
            match d.status {
                DeploymentStatus::Failed => {
                    "the deployment FAILED (build or pre-deploy command): see the log lines above"
                        .to_owned()
                }
                DeploymentStatus::Crashed => {
                    "the deployment CRASHED after starting: see the log lines above".to_owned()
                }
                DeploymentStatus::Skipped => {
                    "Railway SKIPPED the deployment (no changes for the watch patterns?)".to_owned()
                }
                _ => format!(
                    "the deployment was {} before it finished (a newer deploy replaced it?)",
                    d.status
                ),
            },
        ),
        Outcome::NeedsApproval(d) => (
            Verdict::NeedsApproval,
            format!(
                "deployment {id} is NEEDS_APPROVAL and waits for someone: approve it in the dashboard, or with `railway api 'mutation($id: String!) {{ deploymentApprove(id: $id) }}' --raw-var id={id}`, then follow it with `cargo xtask logs --deployment {id} --follow`; or deploy with --approve",
                id = d.id
            ),
        ),
        Outcome::TimedOut(last) => (
            Verdict::TimedOut,
            match last {
                Some(d) if matches!(d.status, DeploymentStatus::Unknown(_)) => format!(
                    "no final status within {timeout:?}: the last one, {}, is a status this tool does not know (a newer platform?); check the dashboard",
                    d.status
                ),
                Some(d) => format!(
                    "no final status within {timeout:?} (last: {}); the deployment goes on on Railway",
                    d.status
                ),
                None => {
                    format!("no final status within {timeout:?}: the deployment was never listed")
                }
            },
        ),
    }
}

fn judge_probe(probe: Option<&Probe>) -> (Verdict, String) {
    let Some(p) = probe else {
        return (
            Verdict::NotProbed,
            "deployed, but there is no health URL to probe: generate a public domain or pass --health-url".to_owned(),
        );
    };
    let serving = p
        .serving
        .as_ref()
        .and_then(|b| b.commit.clone())
        .unwrap_or_else(|| "unknown".into());
    match (p.verdict, &p.expected_commit) {
        (health::ProbeVerdict::Healthy, Some(commit)) => (
            Verdict::Deployed,
            format!(
                "deployed and healthy ({} answered 200, serving commit {commit})",
                p.url
            ),
        ),
        (health::ProbeVerdict::Healthy, None) => (
            Verdict::Deployed,
            format!(
                "deployed and healthy ({} answered 200; build not compared: the deployed commit is unknown)",
                p.url
            ),
        ),
        (health::ProbeVerdict::Unready, _) => (
            Verdict::Unhealthy,
            format!(
                "deployed, but {} never answered 200 (last: {}); the service is not ready: check `cargo xtask logs --latest`",
                p.url,
                p.status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| p.detail.clone())
            ),
        ),
        (health::ProbeVerdict::CorsRefused, _) => (
            Verdict::CorsRefused,
            p.cors.as_ref().map_or_else(String::new, |c| {
                format!(
                    "deployed and healthy, but {}. The backend's ALLOWED_ORIGINS decides (`cargo xtask verify --remote --frontend-service <frontend>` checks it against the frontend's domains); a rollback keeps today's variables, so if ALLOWED_ORIGINS is the cause the earlier build refuses it too",
                    c.explain()
                )
            }),
        ),
        (health::ProbeVerdict::Stale, expected) => (
            Verdict::StaleBuild,
            format!(
                "stale build: {} serves commit {serving}, not the deployed {}; the new build is not what answers (the old deployment still serving, or another commit built)",
                health::build_url(&p.url),
                expected.as_deref().unwrap_or("?")
            ),
        ),
    }
}
