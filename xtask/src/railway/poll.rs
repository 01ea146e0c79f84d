//! Waiting on deployments: the CLI's `redeploy` and `up --detach` return at once, so the
//! outcome is polled (`deployment list --json`) with our own cadence and deadline. Ctrl-C
//! stops the waiting, never the deployment.

use std::time::{Duration, Instant};

use xshell::Shell;

use super::{Deployment, Ids, Phase, Railway};
use crate::util::exit::Reported;
use crate::util::runtime;

/// How often to look, and for how long at most.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cadence {
    pub(crate) every: Duration,
    pub(crate) timeout: Duration,
}

/// How a wait ended.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// SUCCESS, or SLEEPING (serving, asleep until the next request).
    Active(Deployment),
    /// FAILED, CRASHED, REMOVED, REMOVING or SKIPPED: it will never serve.
    Failed(Deployment),
    /// Stopped for someone's approval (and `approve` was not asked for).
    NeedsApproval(Deployment),
    /// No outcome before the deadline: the last state seen (possibly an unknown status).
    TimedOut(Option<Deployment>),
}

impl Outcome {
    /// The deployment as last seen.
    pub(crate) fn deployment(&self) -> Option<&Deployment> {
        match self {
            Outcome::Active(d) | Outcome::Failed(d) | Outcome::NeedsApproval(d) => Some(d),
            Outcome::TimedOut(d) => d.as_ref(),
        }
    }
}

/// One look at the deployment, for the caller to print and to stream logs.
pub(crate) struct Tick<'a> {
    pub(crate) deployment: Option<&'a Deployment>,
    /// The status differs from the previous look's.
    pub(crate) changed: bool,
    pub(crate) elapsed: Duration,
    /// Set on the look after which this tool approved the deployment.
    pub(crate) approved: bool,
}

impl Railway {
    /// Polls deployment `id` until it is active, failed or needs approval (approving it
    /// through the API once when `approve`), or until the deadline.
    pub(crate) fn wait_for_outcome(
        &self,
        sh: &Shell,
        id: &str,
        cadence: Cadence,
        approve: bool,
        on_tick: &mut dyn FnMut(Tick<'_>) -> anyhow::Result<()>,
    ) -> anyhow::Result<Outcome> {
        let start = Instant::now();
        let mut last: Option<Deployment> = None;
        let mut approved = false;
        loop {
            let now = self.deployment(sh, id)?;
            let changed = now.as_ref().map(|d| &d.status) != last.as_ref().map(|d| &d.status);
            let mut just_approved = false;
            if let Some(d) = &now
                && d.status.phase() == Phase::NeedsApproval
                && approve
                && !approved
            {
                self.approve(sh, id)?;
                approved = true;
                just_approved = true;
            }
            on_tick(Tick {
                deployment: now.as_ref(),
                changed,
                elapsed: start.elapsed(),
                approved: just_approved,
            })?;
            if let Some(d) = &now {
                match d.status.phase() {
                    Phase::Active => return Ok(Outcome::Active(d.clone())),
                    Phase::Failed => return Ok(Outcome::Failed(d.clone())),
                    Phase::NeedsApproval if !approve => {
                        return Ok(Outcome::NeedsApproval(d.clone()));
                    }
                    _ => {}
                }
            }
            if now.is_some() {
                last = now;
            }
            if start.elapsed() >= cadence.timeout {
                return Ok(Outcome::TimedOut(last));
            }
            pause(cadence.every, id)?;
        }
    }

    /// After cutover: watches an active deployment for `watch`; returns it as soon as it
    /// stops being active (crashed, removed, …), `None` when it stayed up.
    pub(crate) fn watch_active(
        &self,
        sh: &Shell,
        id: &str,
        every: Duration,
        watch: Duration,
        on_tick: &mut dyn FnMut(Tick<'_>) -> anyhow::Result<()>,
    ) -> anyhow::Result<Option<Deployment>> {
        let start = Instant::now();
        while start.elapsed() < watch {
            pause(every.min(watch), id)?;
            let now = self.deployment(sh, id)?;
            let changed = now
                .as_ref()
                .is_none_or(|d| d.status.phase() != Phase::Active);
            on_tick(Tick {
                deployment: now.as_ref(),
                changed,
                elapsed: start.elapsed(),
                approved: false,
            })?;
            match now {
                Some(d) if matches!(d.status.phase(), Phase::Active | Phase::Unknown) => {}
                Some(d) => return Ok(Some(d)),
                None => {}
            }
        }
        Ok(None)
    }

    /// Someone else's deployment still on its way (QUEUED, WAITING, INITIALIZING,
    /// BUILDING, DEPLOYING), newest first.
    pub(crate) fn running_deployment(
        &self,
        sh: &Shell,
        ids: &Ids,
    ) -> anyhow::Result<Option<Deployment>> {
        Ok(self
            .history(sh, ids)?
            .into_iter()
            .find(|d| d.status.is_in_progress()))
    }

    /// Waits until no deployment of the service is in progress (`--wait-for-running`).
    pub(crate) fn wait_until_idle(
        &self,
        sh: &Shell,
        ids: &Ids,
        cadence: Cadence,
        on_wait: &mut dyn FnMut(&Deployment),
    ) -> anyhow::Result<()> {
        let start = Instant::now();
        while let Some(running) = self.running_deployment(sh, ids)? {
            on_wait(&running);
            if start.elapsed() >= cadence.timeout {
                return Err(Reported(format!(
                    "deployment {} is still {} after {:?}: nothing was triggered (`cargo xtask logs --deployment {} --follow` shows it)",
                    running.id, running.status, cadence.timeout, running.id
                ))
                .into());
            }
            pause(cadence.every, &running.id)?;
        }
        Ok(())
    }

    /// The deployment `before` did not list: `redeploy --from-source` and a rollback print
    /// no id, so the new deployment is found by difference (within a minute).
    pub(crate) fn find_new(
        &self,
        sh: &Shell,
        before: &[String],
        cadence: Cadence,
    ) -> anyhow::Result<String> {
        let deadline = Instant::now() + Duration::from_secs(60).min(cadence.timeout);
        loop {
            if let Some(d) = self
                .deployments(sh, 10)?
                .into_iter()
                .find(|d| !before.contains(&d.id))
            {
                return Ok(d.id);
            }
            if Instant::now() >= deadline {
                return Err(Reported(
                    "Railway accepted the request but no new deployment appeared within 60 s: check the dashboard".into(),
                )
                .into());
            }
            pause(cadence.every, "the new deployment")?;
        }
    }
}

/// Sleeps, unless Ctrl-C comes first: then the wait ends with the deployment left running.
fn pause(every: Duration, what: &str) -> anyhow::Result<()> {
    let interrupted = runtime::block_on(async {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => true,
            () = tokio::time::sleep(every) => false,
        }
    })?;
    if interrupted {
        return Err(Reported(format!(
            "interrupted: {what} goes on on Railway (`cargo xtask logs --latest --follow` follows it)"
        ))
        .into());
    }
    Ok(())
}
