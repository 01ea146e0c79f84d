//! What `deploy` and `rollback` share: one deploy at a time, waiting on a deployment with
//! its logs streamed, the health probe and the frontend's CORS preflight ([`cors`]), and
//! ([`summary`]) the verdict and how it is reported.

mod cors;
pub(crate) mod health;
mod summary;

pub(crate) use cors::{FrontendOrigin, PATH as CORS_PATH, Preflight};
pub(crate) use summary::{Stage, Summary, Verdict, judge, on_failure};

use std::time::{Duration, Instant};

use intowork_config::escape_control;
use xshell::Shell;

use crate::flags::WaitArgs;
use crate::logs::follow::LogStream;
use crate::logs::log_line::LogLine;
use crate::railway::poll::{Cadence, Outcome, Tick};
use crate::railway::{DeploymentStatus, Ids, Railway, Variables, relayed};
use crate::util::exit::Reported;
use crate::util::mask::Masker;
use crate::verify::remote::settings::READINESS_PATH;
use health::Probe;

/// Said wherever a rollback happens, and in docs/deploying.md.
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
        say.line(&format!(
            "{what}: waiting for it to finish (--wait-for-running)"
        ));
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
    let colour = !say.json && crate::util::checklist::use_colour();
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
            say.line(&format!(
                "          approved {id} (--approve, `deploymentApprove`)"
            ));
        }
        logs.poll(sh, railway, masker, status, &mut |line: &LogLine| {
            say.line(&format!("  {}", line.human(colour)));
        })?;
        Ok(())
    })?;
    Ok(Waited { outcome, logs })
}

/// `https://$RAILWAY_PUBLIC_DOMAIN/health/ready`, unless a URL was given.
/// The domain is the platform's value, printed as part of the URL: relayed (a domain with
/// a control character is broken anyway; shown escaped, it cannot rewrite the terminal).
pub(crate) fn health_url(given: Option<&str>, variables: &Variables) -> Option<String> {
    given.map(str::to_owned).or_else(|| {
        variables
            .value("RAILWAY_PUBLIC_DOMAIN")
            .map(|d| format!("https://{}{READINESS_PATH}", relayed(d)))
    })
}

/// Said once, on stderr, by every task that shows the platform's logs: a sealed value is
/// never read, so it cannot be hidden by value — only by the rules for any text. The names
/// are the platform's text: shown through the one escaper.
pub(crate) fn sealed_note(variables: &Variables, service: &str) {
    let sealed: Vec<String> = variables
        .sealed()
        .iter()
        .map(|n| escape_control(n).into_owned())
        .collect();
    if sealed.is_empty() {
        return;
    }
    eprintln!(
        "note: {} of `{}` {} sealed: Railway never gives a sealed value back, so it cannot be masked by value in the logs shown here; passwords in URLs, `password=` parameters and `Bearer` tokens are still masked",
        sealed.join(", "),
        escape_control(service),
        if sealed.len() == 1 { "is" } else { "are" }
    );
}

/// Probes the service with what is left of the timeout (never less than a fair chance:
/// 30 s, or all of a shorter timeout); once it is healthy, sends the CORS preflight a
/// browser on the frontend sends ([`cors`]): refused, the probe fails.
pub(crate) fn probe(
    url: &str,
    expected_commit: Option<&str>,
    status: &DeploymentStatus,
    wait: &WaitArgs,
    started: Instant,
    frontend: &FrontendOrigin,
    say: Say,
) -> Probe {
    if *status == DeploymentStatus::Sleeping {
        say.line("the deployment is SLEEPING (app sleeping is on): healthy but asleep; the probe's request wakes it");
    }
    match expected_commit {
        Some(commit) => say.line(&format!("probing {url} (expecting commit {commit})")),
        None => say.line(&format!(
            "probing {url} (the deployed commit is unknown: the build is not compared)"
        )),
    }
    let budget = wait
        .timeout
        .saturating_sub(started.elapsed())
        .max(wait.timeout.min(Duration::from_secs(30)));
    let mut probe = health::probe_build(url, expected_commit, budget, wait.poll_interval);
    if probe.ok {
        probe.cors = cors_preflight(url, frontend, say);
        if probe.cors.as_ref().is_some_and(|p| !p.ok()) {
            probe.ok = false;
            probe.verdict = health::ProbeVerdict::CorsRefused;
        }
    }
    probe
}

/// The preflight from FRONTEND_URL's origin; without one, said why (a sealed FRONTEND_URL is a
/// warning: nothing was proven).
fn cors_preflight(url: &str, frontend: &FrontendOrigin, say: Say) -> Option<Preflight> {
    let origin = match frontend {
        FrontendOrigin::Origin(origin) => origin,
        FrontendOrigin::Unset => {
            say.line("no CORS preflight: FRONTEND_URL is not set, so there is no frontend origin to ask for");
            return None;
        }
        FrontendOrigin::Sealed => {
            eprintln!(
                "warning: FRONTEND_URL is sealed: its origin cannot be read back, so the CORS preflight a browser on the frontend sends was NOT checked (not a pass)"
            );
            return None;
        }
        FrontendOrigin::Invalid => {
            eprintln!(
                "warning: FRONTEND_URL is not an absolute http(s) URL: the CORS preflight was NOT checked"
            );
            return None;
        }
    };
    let preflight = cors::preflight(url, origin);
    if preflight.ok() {
        say.line(&format!(
            "CORS preflight from {origin}: {} allows it (Access-Control-Allow-Origin, authorization)",
            preflight.url
        ));
    }
    Some(preflight)
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
