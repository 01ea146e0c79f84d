//! `cargo xtask logs`: a deployment's logs, masked and diagnosed; `--follow` through pipes.

pub(crate) mod diagnose;
pub(crate) mod follow;
pub(crate) mod log_line;

use std::io::Write;

use chrono::Utc;
use xshell::Shell;

use crate::flags;
use crate::logs::follow::Follower;
use crate::logs::log_line::LogLine;
use crate::railway::{Call, DeploymentStatus, Feature, Needs, Phase, Railway};
use crate::util::exit::Reported;
use crate::{release, util::checklist, util::runtime, verify::remote};

impl flags::Logs {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let needs = Needs::new(
            "logs",
            &[
                Feature::Status,
                Feature::VariableList,
                Feature::SealedAsNull,
                Feature::DeploymentList,
                Feature::Logs,
            ],
        );
        let ready = remote::railway_ready(sh, &self.railway, &needs)?;
        // Values of the service's secrets are hidden in everything printed.
        release::sealed_note(&ready.variables, &self.railway.service);
        let railway = ready.railway;
        let masker = railway.relay().masker();
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
                let status = railway.deployment(sh, &deployment)?.map(|d| d.status);
                if self.finished(status.as_ref()) {
                    // One last look for lines written just before the end.
                    for line in follower.poll(sh, &railway, &masker)? {
                        print(&line);
                    }
                    let status = status.as_ref().map_or("gone", DeploymentStatus::as_str);
                    eprintln!("deployment {deployment} is {status}: stopped following");
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
            all.iter().find(|d| d.status.phase() == Phase::Active)
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

    /// Build logs end when the build does; runtime logs when the deployment stops running
    /// (an unknown status is followed on: it is not known to have ended).
    fn finished(&self, status: Option<&DeploymentStatus>) -> bool {
        match status {
            None => true,
            Some(s) if self.build => !s.shows_build_logs() && s.phase() != Phase::NeedsApproval,
            Some(s) => s.phase() == Phase::Failed,
        }
    }
}
