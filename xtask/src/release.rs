//! What `deploy` and `rollback` share: one deploy at a time, waiting on a deployment with
//! its logs streamed, the health probe, and the summary (stdout, JSON, GitHub step summary).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;
use xshell::Shell;

use crate::exit::Reported;
use crate::flags::WaitArgs;
use crate::follow::LogStream;
use crate::health::{self, Probe};
use crate::log_line::LogLine;
use crate::mask::Masker;
use crate::railway::poll::{Cadence, Outcome, Tick};
use crate::railway::{DeploymentStatus, Ids, Railway};
use crate::remote::settings::READINESS_PATH;

/// Said wherever a rollback happens, and in the README.
pub(crate) const MIGRATION_NOTE: &str = "a rollback does not revert migrations already applied: the previous build runs against today's schema. That is safe when every migration is expand/contract — a release only adds what its code needs (tables, nullable or defaulted columns) and keeps what the previous release reads; renames and drops wait for a later release";

/// Progress for people: on stdout, or on stderr when stdout carries the JSON summary.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Say {
    pub(crate) json: bool,
}

impl Say {
    pub(crate) fn line(&self, text: &str) {
        if self.json {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
    }
}

pub(crate) fn cadence(wait: &WaitArgs) -> Cadence {
    Cadence {
        every: wait.poll_interval,
        timeout: wait.timeout,
    }
}

/// Step "one deploy at a time": a deployment of the service still on its way means someone
/// else is deploying. Refuse (exit 1, naming it), wait for it, or go anyway.
pub(crate) fn one_at_a_time(
    sh: &Shell,
    railway: &Railway,
    ids: &Ids,
    wait: &WaitArgs,
    say: Say,
) -> anyhow::Result<()> {
    let Some(running) = railway.running_deployment(sh, ids)? else {
        return Ok(());
    };
    let what = format!(
        "deployment {} of `{}` is {} ({})",
        running.id,
        railway.target.service,
        running.status,
        running.status.meaning()
    );
    if wait.force {
        eprintln!("WARNING: --force: {what}; going ahead anyway (it may be replaced)");
        return Ok(());
    }
    if wait.wait_for_running {
        say.line(&format!("{what}: waiting for it to finish (--wait-for-running)"));
        let mut last = running.status.clone();
        railway.wait_until_idle(sh, ids, cadence(wait), &mut |d| {
            if d.status != last {
                say.line(&format!("  {} is {}", d.id, d.status));
                last = d.status.clone();
            }
        })?;
        return Ok(());
    }
    Err(Reported(format!(
        "{what}: someone else is deploying; nothing was triggered. Wait for it with --wait-for-running, follow it with `cargo xtask logs --deployment {} --follow`, or override with --force",
        running.id
    ))
    .into())
}

/// A wait that ended, with the logs seen on the way.
pub(crate) struct Waited {
    pub(crate) outcome: Outcome,
    pub(crate) logs: LogStream,
}

/// Waits for the deployment's outcome, printing each status with what it means and
/// streaming that deployment's logs (masked, diagnosed).
pub(crate) fn wait_streaming(
    sh: &Shell,
    railway: &Railway,
    id: &str,
    cadence: Cadence,
    approve: bool,
    masker: &Masker,
    say: Say,
) -> anyhow::Result<Waited> {
    let colour = !say.json && crate::checklist::use_colour();
    let mut logs = LogStream::new(id);
    let outcome = railway.wait_for_outcome(sh, id, cadence, approve, &mut |tick: Tick<'_>| {
        let status = tick.deployment.map(|d| &d.status);
        if tick.changed
            && let Some(status) = status
        {
            say.line(&format!(
                "[{:>6.1}s] {status} — {}",
                tick.elapsed.as_secs_f32(),
                status.meaning()
            ));
        }
        if tick.approved {
            say.line(&format!("          approved {id} (--approve, `deploymentApprove`)"));
        }
        logs.poll(sh, railway, masker, status, &mut |line: &LogLine| {
            say.line(&format!("  {}", line.human(colour)));
        })?;
        Ok(())
    })?;
    Ok(Waited { outcome, logs })
}

/// `https://$RAILWAY_PUBLIC_DOMAIN/health/ready`, unless a URL was given.
pub(crate) fn health_url(given: Option<&str>, variables: &BTreeMap<String, String>) -> Option<String> {
    given.map(str::to_owned).or_else(|| {
        variables
            .get("RAILWAY_PUBLIC_DOMAIN")
            .map(|d| format!("https://{d}{READINESS_PATH}"))
    })
}

/// Probes the service with what is left of the timeout (never less than a fair chance:
/// 30 s, or all of a shorter timeout).
pub(crate) fn probe(
    url: &str,
    expected_commit: Option<&str>,
    status: &DeploymentStatus,
    wait: &WaitArgs,
    started: Instant,
    say: Say,
) -> Probe {
    if *status == DeploymentStatus::Sleeping {
        say.line("the deployment is SLEEPING (app sleeping is on): healthy but asleep; the probe's request wakes it");
    }
    match expected_commit {
        Some(commit) => say.line(&format!("probing {url} (expecting commit {commit})")),
        None => say.line(&format!("probing {url} (the deployed commit is unknown: the build is not compared)")),
    }
    let budget = wait
        .timeout
        .saturating_sub(started.elapsed())
        .max(wait.timeout.min(Duration::from_secs(30)));
    health::probe_build(url, expected_commit, budget, wait.poll_interval)
}

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
    /// Active, but there is no URL to probe.
    NotProbed,
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
            Err(Reported(format!("{}: {}", self.task, self.message)).into())
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
        ("deployment", format!("`{}`", s.deployment_id.as_deref().unwrap_or("none"))),
        (
            "status",
            format!("**{}**", s.status.as_ref().map(|x| x.as_str()).unwrap_or("none")),
        ),
        ("verdict", format!("`{}`", serde_json::to_value(s.verdict)?.as_str().unwrap_or(""))),
        ("commit", format!("`{}`", s.commit.as_deref().unwrap_or("unknown"))),
        ("health", health),
    ];
    if let Some(r) = &s.rollback {
        rows.push(("rolled back", format!("from `{}` to `{}`", r["from"], r["to"])));
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

/// The last log lines worth reading after a failure, on stderr.
pub(crate) fn print_tail(id: &str, logs: &LogStream) {
    let lines = logs.relevant();
    if lines.is_empty() {
        return;
    }
    eprintln!("last log lines of {id}:");
    for line in lines {
        eprintln!("  {}", line.human(false).replace('\n', "\n  "));
    }
}

/// The verdict on a waited deployment and its probe, with the sentence that explains it.
pub(crate) fn judge(outcome: &Outcome, probe: Option<&Probe>, timeout: Duration) -> (Verdict, String) {
    match outcome {
        Outcome::Active(_) => judge_probe(probe),
        Outcome::Failed(d) => (
            Verdict::Failed,
            match d.status {
                DeploymentStatus::Failed => "the deployment FAILED (build or pre-deploy command): see the log lines above".to_owned(),
                DeploymentStatus::Crashed => "the deployment CRASHED after starting: see the log lines above".to_owned(),
                DeploymentStatus::Skipped => "Railway SKIPPED the deployment (no changes for the watch patterns?)".to_owned(),
                _ => format!("the deployment was {} before it finished (a newer deploy replaced it?)", d.status),
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
                None => format!("no final status within {timeout:?}: the deployment was never listed"),
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
        (health::Verdict::Healthy, Some(commit)) => (
            Verdict::Deployed,
            format!("deployed and healthy ({} answered 200, serving commit {commit})", p.url),
        ),
        (health::Verdict::Healthy, None) => (
            Verdict::Deployed,
            format!("deployed and healthy ({} answered 200; build not compared: the deployed commit is unknown)", p.url),
        ),
        (health::Verdict::Unready, _) => (
            Verdict::Unhealthy,
            format!(
                "deployed, but {} never answered 200 (last: {}); the service is not ready: check `cargo xtask logs --latest`",
                p.url,
                p.status.map(|s| s.to_string()).unwrap_or_else(|| p.detail.clone())
            ),
        ),
        (health::Verdict::Stale, expected) => (
            Verdict::StaleBuild,
            format!(
                "stale build: {} serves commit {serving}, not the deployed {}; the new build is not what answers (the old deployment still serving, or another commit built)",
                health::build_url(&p.url),
                expected.as_deref().unwrap_or("?")
            ),
        ),
    }
}
