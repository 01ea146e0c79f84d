//! `cargo xtask logs`: a deployment's logs, masked and diagnosed; `--follow` through pipes.

use std::io::Write;

use chrono::Utc;
use xshell::Shell;

use crate::exit::Reported;
use crate::flags;
use crate::follow::Follower;
use crate::log_line::LogLine;
use crate::mask::Masker;
use crate::railway::{Call, Railway};
use crate::{checklist, remote, runtime};

impl flags::Logs {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let railway = remote::railway_ready(sh, &self.railway)?;
        // Values of the service's secrets are hidden in everything printed.
        let masker = Masker::from_variables(&railway.variables(sh, &self.railway.service)?);
        let deployment = self.pick_deployment(sh, &railway)?;
        let colour = checklist::use_colour();
        let print = |line: &LogLine| {
            let text = if self.json {
                line.json().to_string()
            } else {
                line.human(colour)
            };
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) ends the output, not the program with a panic.
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        };

        if !self.follow {
            let since = self.since.map(|d| format!("{}s", d.as_secs().max(1)));
            let call = Call::Logs {
                deployment: Some(deployment.clone()),
                build: self.build,
                since,
                lines: Some(self.lines),
                filter: self.filter.clone(),
            };
            for raw in railway.logs(sh, &call)? {
                print(&LogLine::from_json(raw, &masker));
            }
            return Ok(());
        }

        let start = Utc::now()
            - chrono::Duration::from_std(
                self.since.unwrap_or(std::time::Duration::from_secs(600)),
            )?;
        let mut follower = Follower::new(&deployment, self.build, self.filter.clone(), start);
        runtime::block_on(async {
            loop {
                for line in follower.poll(sh, &railway, &masker)? {
                    print(&line);
                }
                let status = status_of(sh, &railway, &deployment)?;
                if self.finished(status.as_deref()) {
                    // One last look for lines written just before the end.
                    for line in follower.poll(sh, &railway, &masker)? {
                        print(&line);
                    }
                    eprintln!(
                        "deployment {deployment} is {}: stopped following",
                        status.as_deref().unwrap_or("gone")
                    );
                    return Ok(());
                }
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => return Ok(()),
                    () = tokio::time::sleep(self.poll_interval) => {}
                }
            }
        })?
    }

    /// `--deployment ID`; `--latest`: the newest whatever its status; else the newest
    /// successful one (the CLI's own default, made explicit so status can be polled).
    fn pick_deployment(&self, sh: &Shell, railway: &Railway) -> anyhow::Result<String> {
        if let Some(id) = &self.deployment {
            return Ok(id.clone());
        }
        let all = railway.deployments(sh, 20)?;
        let found = if self.latest {
            all.first()
        } else {
            all.iter().find(|d| d.status == "SUCCESS")
        };
        match found {
            Some(d) => Ok(d.id.clone()),
            None => Err(Reported(format!(
                "no {}deployment of `{}` in `{}`: deploy first (`cargo xtask deploy`)",
                if self.latest { "" } else { "successful " },
                railway.target.service,
                railway.target.environment
            ))
            .into()),
        }
    }

    /// Build logs end when the build does; runtime logs when the deployment stops running.
    fn finished(&self, status: Option<&str>) -> bool {
        match status {
            None => true,
            Some(s) if self.build => !matches!(
                s,
                "QUEUED" | "WAITING" | "INITIALIZING" | "BUILDING" | "NEEDS_APPROVAL"
            ),
            Some(s) => matches!(s, "FAILED" | "CRASHED" | "REMOVED" | "SKIPPED"),
        }
    }
}

/// The deployment's current status (`None` when it no longer appears).
pub(crate) fn status_of(sh: &Shell, railway: &Railway, id: &str) -> anyhow::Result<Option<String>> {
    Ok(railway
        .deployments(sh, 20)?
        .into_iter()
        .find(|d| d.id == id)
        .map(|d| d.status))
}
