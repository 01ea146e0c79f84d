//! `cargo xtask deploy`: pre-flight, trigger, wait for the deployment's final status while
//! streaming its logs, then probe the public health URL. Exit 0 only when all of it passed.

use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::json;
use xshell::Shell;

use crate::exit::Reported;
use crate::flags;
use crate::follow::Follower;
use crate::health::{self, Probe};
use crate::log_line::LogLine;
use crate::mask::Masker;
use crate::railway::{Call, Railway, is_terminal};
use crate::{checklist, config_source, remote, runtime};

/// Lines kept for the failure report.
const TAIL: usize = 15;

impl flags::Deploy {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let started = Instant::now();
        let say = |text: &str| {
            // With --json, stdout is kept for the one summary document.
            if self.json {
                eprintln!("{text}")
            } else {
                println!("{text}")
            }
        };

        // 1. Pre-flight: CLI, credentials, the platform's variables. Nothing is deployed on failure.
        let mut railway = remote::railway_ready(sh, &self.railway)?;
        railway.read_only = self.dry_run;
        let variables = if self.skip_verify {
            eprintln!(
                "WARNING: --skip-verify: the platform's variables are NOT checked before deploying"
            );
            railway.variables(sh, &self.railway.service)?
        } else {
            let platform = remote::check(sh, &railway, None, &self.env)?;
            if platform.report.has_failures() {
                if self.json {
                    eprint!("{}", checklist::human(&platform.report, false));
                } else {
                    checklist::print(&platform.report, false)?;
                }
                return Err(Reported(
                    "deploy: pre-flight failed (see the checklist above); nothing was deployed"
                        .into(),
                )
                .into());
            }
            say(&format!(
                "pre-flight ok: Railway CLI {}, service `{}` in `{}`, variables verified",
                railway.version, self.railway.service, self.railway.environment
            ));
            platform.variables
        };
        let masker = Masker::from_variables(&variables);
        let health_url = self.health_url.clone().or_else(|| {
            variables
                .get("RAILWAY_PUBLIC_DOMAIN")
                .map(|d| format!("https://{d}/health/ready"))
        });

        // 2. Trigger.
        let trigger = if self.up {
            Call::Up {
                path: config_source::project_root(),
            }
        } else {
            Call::Redeploy {
                from_source: self.from_source,
            }
        };
        if self.dry_run {
            say("dry run: would run");
            say(&format!("  {}", railway.display(&trigger)));
            say(&format!(
                "  {}   (every {:?}, until a final status or {:?})",
                railway.display(&Call::Deployments { limit: 10 }),
                self.poll_interval,
                self.timeout
            ));
            say(&format!(
                "  {}",
                railway.display(&Call::Logs {
                    deployment: Some("<new id>".into()),
                    build: false,
                    since: Some("<last line>".into()),
                    lines: Some(500),
                    filter: None
                })
            ));
            say(&format!(
                "  GET {}",
                health_url
                    .as_deref()
                    .unwrap_or("<no RAILWAY_PUBLIC_DOMAIN: pass --health-url>")
            ));
            if self.json {
                println!(
                    "{}",
                    json!({ "ok": true, "dry_run": true, "trigger": railway.display(&trigger), "health_url": health_url })
                );
            }
            return Ok(());
        }
        let before: Vec<String> = railway
            .deployments(sh, 10)?
            .into_iter()
            .map(|d| d.id)
            .collect();
        let t = Instant::now();
        let id = match &trigger {
            Call::Up { path } => railway.up(sh, path)?,
            Call::Redeploy { from_source } => match railway.redeploy(sh, *from_source)? {
                Some(id) => id,
                // `--from-source` prints no id: the new deployment is the one that was not there before.
                None => self.find_new(sh, &railway, &before)?,
            },
            _ => unreachable!("only up and redeploy trigger a deployment"),
        };
        let trigger_ms = t.elapsed().as_millis() as u64;
        say(&format!(
            "triggered deployment {id} ({})",
            railway.display(&trigger)
        ));

        // 3. Wait, streaming that deployment's logs.
        let t = Instant::now();
        let (status, tail) = self.wait(sh, &railway, &id, &masker, &say)?;
        let wait_ms = t.elapsed().as_millis() as u64;

        // 4. Health.
        let t = Instant::now();
        let probe = match (status.as_str(), &health_url) {
            ("SUCCESS", Some(url)) => {
                say(&format!("probing {url}"));
                // What is left of --timeout, but never less than a fair chance: 30 s, or
                // all of a shorter --timeout.
                let budget = self
                    .timeout
                    .saturating_sub(started.elapsed())
                    .max(self.timeout.min(Duration::from_secs(30)));
                Some(health::probe(url, budget, self.poll_interval))
            }
            _ => None,
        };
        let health_ms = t.elapsed().as_millis() as u64;

        // 5. Result.
        let ok = status == "SUCCESS" && probe.as_ref().is_some_and(|p| p.ok);
        let verdict = self.verdict(&status, probe.as_ref(), health_url.is_some());
        if !ok {
            let relevant: Vec<&LogLine> = tail
                .iter()
                .filter(|l| l.diagnosis.is_some() || l.level == "error")
                .collect();
            if !tail.is_empty() {
                eprintln!("last log lines of {id}:");
                for line in if relevant.is_empty() {
                    tail.iter().collect()
                } else {
                    relevant
                } {
                    eprintln!("  {}", line.human(false).replace('\n', "\n  "));
                }
            }
        }
        let summary = json!({
            "ok": ok,
            "deployment_id": id,
            "service": self.railway.service,
            "environment": self.railway.environment,
            "status": status,
            "verdict": verdict,
            "durations_ms": { "trigger": trigger_ms, "wait": wait_ms, "health": health_ms, "total": started.elapsed().as_millis() as u64 },
            "health": probe.as_ref().map(|p| json!({ "url": p.url, "ok": p.ok, "status": p.status, "attempts": p.attempts })),
        });
        if self.json {
            println!("{summary}");
        } else {
            say(&format!(
                "{} deployment {id}: {verdict} ({:.1}s)",
                if ok { "✔" } else { "✘" },
                started.elapsed().as_secs_f32()
            ));
        }
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
            append_step_summary(
                &path,
                &self.railway,
                &id,
                &status,
                &verdict,
                probe.as_ref(),
                started.elapsed(),
            )?;
        }
        if ok {
            Ok(())
        } else {
            Err(Reported(format!("deploy: {verdict}")).into())
        }
    }

    fn find_new(&self, sh: &Shell, railway: &Railway, before: &[String]) -> anyhow::Result<String> {
        let deadline = Instant::now() + Duration::from_secs(60).min(self.timeout);
        loop {
            if let Some(d) = railway
                .deployments(sh, 10)?
                .into_iter()
                .find(|d| !before.contains(&d.id))
            {
                return Ok(d.id);
            }
            if Instant::now() >= deadline {
                return Err(Reported("deploy: Railway accepted the redeploy but no new deployment appeared within 60 s".into()).into());
            }
            std::thread::sleep(self.poll_interval);
        }
    }

    /// Polls until a final status or the timeout; returns the status (`TIMEOUT` on timeout)
    /// and the last lines seen.
    fn wait(
        &self,
        sh: &Shell,
        railway: &Railway,
        id: &str,
        masker: &Masker,
        say: &dyn Fn(&str),
    ) -> anyhow::Result<(String, Vec<LogLine>)> {
        let start = Instant::now();
        let since = Utc::now() - chrono::Duration::minutes(5);
        let mut build = Follower::new(id, true, None, since);
        let mut runtime_logs = Follower::new(id, false, None, since);
        let mut tail: Vec<LogLine> = Vec::new();
        let mut last = String::new();
        let colour = !self.json && checklist::use_colour();
        runtime::block_on(async {
            loop {
                let status =
                    crate::logs::status_of(sh, railway, id)?.unwrap_or_else(|| "UNKNOWN".into());
                if status != last {
                    say(&format!(
                        "[{:>6.1}s] {status}",
                        start.elapsed().as_secs_f32()
                    ));
                    last = status.clone();
                }
                let follower = if matches!(
                    status.as_str(),
                    "QUEUED" | "WAITING" | "INITIALIZING" | "BUILDING"
                ) {
                    &mut build
                } else {
                    &mut runtime_logs
                };
                for line in follower.poll(sh, railway, masker)? {
                    say(&format!("  {}", line.human(colour)));
                    tail.push(line);
                }
                if tail.len() > TAIL {
                    tail.drain(..tail.len() - TAIL);
                }
                if is_terminal(&status) {
                    return Ok((status, tail));
                }
                if start.elapsed() >= self.timeout {
                    say(&format!(
                        "[{:>6.1}s] gave up waiting after {:?} (the deployment goes on on Railway)",
                        start.elapsed().as_secs_f32(),
                        self.timeout
                    ));
                    return Ok(("TIMEOUT".to_owned(), tail));
                }
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {
                        return Err(Reported(format!("deploy: interrupted; deployment {id} goes on on Railway (`cargo xtask logs --deployment {id} --follow`)")).into());
                    }
                    () = tokio::time::sleep(self.poll_interval) => {}
                }
            }
        })?
    }

    fn verdict(&self, status: &str, probe: Option<&Probe>, has_url: bool) -> String {
        match (status, probe) {
            ("SUCCESS", Some(p)) if p.ok => format!("deployed and healthy ({} answered 200)", p.url),
            ("SUCCESS", Some(p)) => format!(
                "deployed, but {} never answered 200 (last: {}); the service is not ready: check `cargo xtask logs --latest`",
                p.url,
                p.status.map(|s| s.to_string()).unwrap_or_else(|| p.detail.clone())
            ),
            ("SUCCESS", None) if !has_url => "deployed, but there is no health URL to probe: generate a public domain or pass --health-url".to_owned(),
            ("TIMEOUT", _) => format!("no final status within {:?}", self.timeout),
            ("FAILED", _) => "the deployment FAILED (build or pre-deploy command): see the log lines above".to_owned(),
            ("CRASHED", _) => "the deployment CRASHED after starting: see the log lines above".to_owned(),
            ("REMOVED", _) => "the deployment was REMOVED before it finished (a newer deploy replaced it?)".to_owned(),
            ("SKIPPED", _) => "Railway SKIPPED the deployment (no changes for the watch patterns?)".to_owned(),
            (other, _) => format!("ended as {other}"),
        }
    }
}

fn append_step_summary(
    path: &std::ffi::OsStr,
    target: &flags::RailwayArgs,
    id: &str,
    status: &str,
    verdict: &str,
    probe: Option<&Probe>,
    took: Duration,
) -> anyhow::Result<()> {
    use std::io::Write;
    let health = probe
        .map(|p| {
            format!(
                "{} → {}",
                p.url,
                p.status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "no answer".into())
            )
        })
        .unwrap_or_else(|| "not probed".into());
    let text = format!(
        "### Railway deploy: `{}` ({})\n\n| | |\n|---|---|\n| deployment | `{id}` |\n| status | **{status}** |\n| health | {health} |\n| took | {:.1} s |\n\n{verdict}\n",
        target.service,
        target.environment,
        took.as_secs_f32()
    );
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    Ok(())
}
