//! One typed wrapper around the `railway` CLI (v5). Every call goes through `xshell::cmd!`
//! with `--service`/`--environment` explicit, `-y` where the CLI would prompt, `--json` where
//! the command has it, and `RAILWAY_NO_AUTO_UPDATE=1`. Only stdout of `--json` commands is
//! parsed; the CLI's failures — wherever it prints them — become typed errors with their fix
//! ([`error`]), and any text of the CLI is shown only masked and escaped ([`relay`]).
//!
//! The wrapper owns the minimum CLI release of each feature and the gate that reads
//! `railway --version` once per task ([`version`]), the deployment statuses ([`status`]),
//! variables with sealed ones ([`variables`]), the GraphQL documents sent through `railway
//! api` ([`api`]), a service's public domains ([`domains`]), the reading of `railway config
//! plan` ([`plan`]) and the polling that waits for a deployment's outcome ([`poll`]).

pub(crate) mod api;
mod call;
mod domains;
mod error;
mod ids;
pub(crate) mod plan;
pub(crate) mod poll;
mod relay;
pub(crate) mod status;
mod variables;
pub(crate) mod version;

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use xshell::{Shell, cmd};

pub(crate) use api::{Deployment, Op, ServiceInstance};
pub(crate) use call::Call;
pub(crate) use domains::Domain;
pub(crate) use error::RailwayError;
pub(crate) use ids::Ids;
pub(crate) use relay::{Relay, relayed};
pub(crate) use status::{DeploymentStatus, Phase};
pub(crate) use variables::Variables;
pub(crate) use version::{Feature, Needs, Version};

/// The CLI release this wrapper's argument vectors and parsers were checked against
/// (railwayapp 5.71.0 from crates.io: its clap definitions, GraphQL schema and IaC engine).
/// What each task needs at least is in [`version::TABLE`].
#[cfg(test)]
pub(crate) const TESTED_VERSION: Version = Version(5, 71, 0);
/// How to get the CLI, pinned to [`TESTED_VERSION`] (docs/railway-cli.md: trade-offs).
pub(crate) const INSTALL: &str = "`cargo install railwayapp --locked --version 5.71.0` (crates.io has every release; a build takes about 11 minutes on 2 cores), `npm install --global @railway/cli@VERSION` (a prebuilt binary in seconds, but a registry may lag: `npm view @railway/cli versions` lists what it has), or Railway's installer `bash <(curl -fsSL cli.new)` (the latest release, unpinned)";

/// Which service and environment every call names.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) service: String,
    pub(crate) environment: String,
}

/// A located CLI whose version passed the task's [`Needs`].
#[derive(Debug, Clone)]
pub(crate) struct Railway {
    pub(crate) bin: PathBuf,
    pub(crate) version: Version,
    pub(crate) target: Target,
    /// Set for `--dry-run`: mutating calls are refused here, not just skipped by the caller.
    pub(crate) read_only: bool,
    /// What the version gate let through: a call outside it is a bug of the task's `Needs`.
    gated: Vec<Feature>,
    /// The one way CLI text reaches people (masked, escaped); shared by every clone.
    relay: Relay,
}

/// A finished CLI run.
#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Railway {
    /// Finds the CLI (RAILWAY_BIN, else PATH), reads `railway --version` once and refuses
    /// one older than what `needs` names, before anything else runs.
    pub(crate) fn locate(
        sh: &Shell,
        target: Target,
        needs: &Needs,
    ) -> Result<Railway, RailwayError> {
        let bin = match std::env::var_os("RAILWAY_BIN").filter(|v| !v.is_empty()) {
            Some(path) => PathBuf::from(path),
            None => crate::util::which::find("railway").ok_or(RailwayError::NotInstalled)?,
        };
        if !bin.is_file() {
            return Err(RailwayError::NotInstalled);
        }
        let out = run(sh, &bin, &Call::Version.args(&target))?;
        let version = Version::parse(&out.stdout)
            .filter(|_| out.code == 0)
            .ok_or_else(|| RailwayError::UnknownVersion {
                bin: bin.clone(),
                printed: relayed(&format!("{}{}", out.stdout, out.stderr)),
            })?;
        needs.check(version)?;
        Ok(Railway {
            bin,
            version,
            target,
            read_only: false,
            gated: needs.features.clone(),
            relay: Relay::default(),
        })
    }

    /// The command line a call runs, for `--dry-run` and messages (no secret is ever in it).
    pub(crate) fn display(&self, call: &Call) -> String {
        let args = call.args(&self.target);
        let shown: Vec<String> = args
            .iter()
            .map(|a| {
                if a.contains(' ') {
                    format!("'{a}'")
                } else {
                    a.clone()
                }
            })
            .collect();
        format!("railway {}", shown.join(" "))
    }

    /// Masks and escapes text that came from the CLI, with every value read so far.
    pub(crate) fn relay(&self) -> &Relay {
        &self.relay
    }

    /// Runs a call whatever its exit code (refusing mutations in a dry run).
    pub(crate) fn run(&self, sh: &Shell, call: &Call) -> Result<Output, RailwayError> {
        if self.read_only && call.mutates() {
            return Err(RailwayError::ReadOnly {
                command: call.name().into(),
            });
        }
        debug_assert!(
            call.features().iter().all(|f| self.gated.contains(f)),
            "`railway {}` uses {:?}, which the task's version gate ({:?}) did not check",
            call.name(),
            call.features(),
            self.gated
        );
        run(sh, &self.bin, &call.args(&self.target))
    }

    /// Runs a call; stdout on success, a typed error otherwise.
    pub(crate) fn call(&self, sh: &Shell, call: &Call) -> Result<String, RailwayError> {
        let out = self.run(sh, call)?;
        match out.code {
            0 => Ok(out.stdout),
            _ => Err(self.failure(call, &out)),
        }
    }

    fn failure(&self, call: &Call, out: &Output) -> RailwayError {
        match out.code {
            2 => RailwayError::Usage {
                command: call.name().into(),
                version: self.version.to_string(),
                said: self.relay.text(&out.stderr),
            },
            _ => error::from_output(call.name(), out, &self.relay, &self.target),
        }
    }

    /// The JSON a call printed, or an error whose detail is relayed (serde quotes values).
    fn parse<T: for<'de> Deserialize<'de>>(
        &self,
        command: &str,
        text: &str,
    ) -> Result<T, RailwayError> {
        serde_json::from_str(text).map_err(|e| RailwayError::Json {
            command: command.into(),
            detail: self.relay.text(&e.to_string()),
        })
    }

    fn json<T: for<'de> Deserialize<'de>>(
        &self,
        sh: &Shell,
        call: &Call,
    ) -> Result<T, RailwayError> {
        let out = self.call(sh, call)?;
        self.parse(call.name(), &out)
    }

    /// Auth pre-flight: `status --json` works with project tokens (`whoami` does not). It
    /// also gives the ids the API needs.
    pub(crate) fn ids(&self, sh: &Shell) -> Result<Ids, RailwayError> {
        let status: Value = self.json(sh, &Call::Status)?;
        Ids::from_status(&status, &self.target.environment, &self.target.service)
    }

    /// A service's rendered variables, sealed ones without a value. Values are secrets:
    /// never print them (every one read is masked from then on).
    pub(crate) fn variables(&self, sh: &Shell, service: &str) -> Result<Variables, RailwayError> {
        let other = Railway {
            target: Target {
                service: service.to_owned(),
                ..self.target.clone()
            },
            ..self.clone()
        };
        let variables: Variables = other.json(sh, &Call::Variables)?;
        self.relay.learn(&variables);
        Ok(variables)
    }

    /// `redeploy`: the new deployment's id (`None` with `--from-source`, which prints none).
    pub(crate) fn redeploy(
        &self,
        sh: &Shell,
        from_source: bool,
    ) -> Result<Option<String>, RailwayError> {
        #[derive(Deserialize)]
        struct Out {
            id: Option<String>,
        }
        let id = self.json::<Out>(sh, &Call::Redeploy { from_source })?.id;
        Ok(id.map(|id| relayed(&id)))
    }

    pub(crate) fn up(&self, sh: &Shell, path: &Path) -> Result<String, RailwayError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Out {
            deployment_id: String,
        }
        let call = Call::Up {
            path: path.to_path_buf(),
        };
        Ok(relayed(&self.json::<Out>(sh, &call)?.deployment_id))
    }

    /// `deployment list --json`, newest first (statuses and `meta`, no `canRollback`).
    pub(crate) fn deployments(
        &self,
        sh: &Shell,
        limit: u32,
    ) -> Result<Vec<Deployment>, RailwayError> {
        self.json(sh, &Call::Deployments { limit })
    }

    /// One deployment as `deployment list` shows it now (`None`: not listed).
    pub(crate) fn deployment(
        &self,
        sh: &Shell,
        id: &str,
    ) -> Result<Option<Deployment>, RailwayError> {
        Ok(self.deployments(sh, 20)?.into_iter().find(|d| d.id == id))
    }

    /// Log lines as JSON objects (one per stdout line; non-JSON lines are skipped), numbers
    /// kept as written (see `log_line::parse_object`: the masker must see their digits).
    pub(crate) fn logs(
        &self,
        sh: &Shell,
        call: &Call,
    ) -> Result<Vec<serde_json::Map<String, Value>>, RailwayError> {
        let out = self.call(sh, call)?;
        Ok(out
            .lines()
            .filter_map(crate::logs::log_line::parse_object)
            .collect())
    }

    /// `config plan --json --detailed-exit-code`: exit 0 (no change) and 2 (changes
    /// pending) both carry the plan on stdout, and so does exit 1 with `ok: false` (the file
    /// could not be planned); a 2 without a plan is clap refusing the arguments.
    pub(crate) fn config_plan(&self, sh: &Shell, file: &Path) -> Result<plan::Plan, RailwayError> {
        let call = Call::ConfigPlan {
            file: file.to_path_buf(),
        };
        let out = self.run(sh, &call)?;
        match plan::parse(&out.stdout, &self.relay) {
            Ok(plan) if matches!(out.code, 0 | 2) || (out.code == 1 && !plan.ok) => Ok(plan),
            _ if out.code == 0 => Err(RailwayError::Json {
                command: call.name().into(),
                detail: "no plan on stdout".into(),
            }),
            _ => Err(self.failure(&call, &out)),
        }
    }
}

fn run(sh: &Shell, bin: &Path, args: &[String]) -> Result<Output, RailwayError> {
    let out = cmd!(sh, "{bin} {args...}")
        .env("RAILWAY_NO_AUTO_UPDATE", "1")
        .quiet()
        .ignore_status()
        .output()
        .map_err(|source| RailwayError::Spawn {
            bin: bin.to_path_buf(),
            source,
        })?;
    Ok(Output {
        code: out.status.code().unwrap_or(1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::railway::version::TABLE;

    /// The target every test call names.
    pub(crate) fn t() -> Target {
        Target {
            service: "backend".into(),
            environment: "production".into(),
        }
    }

    /// The contract with the real CLI: its version passes the gate of every task, and no
    /// argument vector this wrapper produces is a usage error (exit 2). Runs without
    /// credentials (every call then fails with exit 1, "Unauthorized", after clap accepted
    /// the arguments). `config plan` may also exit 2 for "changes pending", but only after
    /// authenticating, which it cannot do here.
    ///
    /// Without the real CLI the test is skipped with a note, unless `RAILWAY_CONTRACT=1`
    /// asks for the contract: then a missing CLI fails it. The gate itself is shown refusing
    /// an older CLI by xtask/tests/it/railway_cli.rs (a stand-in printing `railway 5.63.1`).
    #[test]
    fn the_real_cli_passes_the_version_gate_and_accepts_every_argument_vector() {
        let required = std::env::var_os("RAILWAY_CONTRACT").is_some_and(|v| v == "1");
        let Some(bin) = crate::util::which::find("railway") else {
            assert!(
                !required,
                "RAILWAY_CONTRACT=1 but the real Railway CLI is not on PATH: install with {INSTALL}"
            );
            intowork_testkit::skip(&format!(
                "the real Railway CLI is not installed (install with {INSTALL}); set RAILWAY_CONTRACT=1 to require it"
            ));
            return;
        };
        let sh = Shell::new().unwrap();
        let home = sh.create_temp_dir().unwrap();
        let real = |args: &[String]| {
            let out = cmd!(sh, "{bin} {args...}")
                .env("RAILWAY_NO_AUTO_UPDATE", "1")
                .env("HOME", home.path())
                .env_remove("RAILWAY_TOKEN")
                .env_remove("RAILWAY_API_TOKEN")
                .quiet()
                .ignore_status()
                .output()
                .unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        let (_, printed, _) = real(&Call::Version.args(&t()));
        let version = Version::parse(&printed)
            .unwrap_or_else(|| panic!("`railway --version` printed {printed:?}"));
        let every = Needs::new("every task", &TABLE.map(|r| r.feature));
        if let Err(e) = every.check(version) {
            panic!("the installed CLI is too old for this workspace: {e}");
        }
        for call in Call::every_shape() {
            let args = call.args(&t());
            let (code, _, stderr) = real(&args);
            assert_ne!(
                code,
                Some(2),
                "`railway {}` is a usage error for the real CLI:\n{stderr}",
                args.join(" ")
            );
        }
    }

    #[test]
    fn the_install_hint_pins_the_tested_release() {
        assert!(
            INSTALL.contains(&format!("--version {TESTED_VERSION}`")),
            "{INSTALL}"
        );
    }
}
