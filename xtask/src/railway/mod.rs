//! One typed wrapper around the `railway` CLI (v5). Every call goes through `xshell::cmd!`
//! with `--service`/`--environment` explicit, `-y` where the CLI would prompt, `--json` where
//! the command has it, and `RAILWAY_NO_AUTO_UPDATE=1`. Only stdout of `--json` commands is
//! parsed; known stderr texts become typed errors with their fix.
//!
//! The wrapper owns the deployment statuses ([`status`]), the GraphQL documents sent through
//! `railway api` ([`api`]), the reading of `railway config plan` ([`plan`]) and the polling
//! that waits for a deployment's outcome ([`poll`]).

pub(crate) mod api;
mod call;
mod error;
mod ids;
pub(crate) mod plan;
pub(crate) mod poll;
pub(crate) mod status;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use xshell::{Shell, cmd};

pub(crate) use api::{Deployment, Op, ServiceInstance};
pub(crate) use call::Call;
pub(crate) use error::RailwayError;
pub(crate) use ids::Ids;
pub(crate) use status::{DeploymentStatus, Phase};

/// The CLI version this wrapper's argument vectors and parsers were checked against
/// (railwayapp 5.71.0 from crates.io: its clap definitions, GraphQL schema and IaC engine).
pub(crate) const TESTED_VERSION: (u32, u32, u32) = (5, 71, 0);
pub(crate) const INSTALL: &str = "install it with `cargo install railwayapp --locked`, `npm install -g @railway/cli`, or Railway's installer (https://docs.railway.com/guides/cli)";

/// Which service and environment every call names.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) service: String,
    pub(crate) environment: String,
}

/// A located, version-checked CLI.
#[derive(Debug, Clone)]
pub(crate) struct Railway {
    pub(crate) bin: PathBuf,
    pub(crate) version: String,
    pub(crate) target: Target,
    /// Set for `--dry-run`: mutating calls are refused here, not just skipped by the caller.
    pub(crate) read_only: bool,
}

/// A finished CLI run.
pub(crate) struct Output {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Railway {
    /// Finds the CLI (RAILWAY_BIN, else PATH) and checks it is v5+. Returns a note when it is
    /// older than the version this wrapper was tested with.
    pub(crate) fn locate(
        sh: &Shell,
        target: Target,
    ) -> Result<(Railway, Option<String>), RailwayError> {
        let bin = match std::env::var_os("RAILWAY_BIN").filter(|v| !v.is_empty()) {
            Some(path) => PathBuf::from(path),
            None => crate::which::find("railway").ok_or(RailwayError::NotInstalled)?,
        };
        if !bin.is_file() {
            return Err(RailwayError::NotInstalled);
        }
        let out = run(sh, &bin, &Call::Version.args(&target))?;
        let found = out
            .stdout
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .trim_start_matches("railway")
            .trim()
            .to_owned();
        let note = match parse_version(&found) {
            Some(v) if v.0 < 5 => return Err(RailwayError::TooOld { bin, found }),
            None => {
                let found = if found.is_empty() {
                    "unknown".into()
                } else {
                    found
                };
                return Err(RailwayError::TooOld { bin, found });
            }
            Some(v) if v < TESTED_VERSION => Some(format!(
                "Railway CLI {found} is older than {}.{}.{}, the version this tool was tested with: update it (`railway upgrade`, or {INSTALL})",
                TESTED_VERSION.0, TESTED_VERSION.1, TESTED_VERSION.2
            )),
            Some(_) => None,
        };
        let railway = Railway {
            bin,
            version: found,
            target,
            read_only: false,
        };
        Ok((railway, note))
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

    /// Runs a call whatever its exit code (refusing mutations in a dry run).
    pub(crate) fn run(&self, sh: &Shell, call: &Call) -> Result<Output, RailwayError> {
        if self.read_only && call.mutates() {
            return Err(RailwayError::ReadOnly {
                command: call.name().into(),
            });
        }
        run(sh, &self.bin, &call.args(&self.target))
    }

    /// Runs a call; stdout on success, a typed error otherwise.
    pub(crate) fn call(&self, sh: &Shell, call: &Call) -> Result<String, RailwayError> {
        let out = self.run(sh, call)?;
        match out.code {
            0 => Ok(out.stdout),
            code => Err(self.failure(call, code, &out.stderr)),
        }
    }

    fn failure(&self, call: &Call, code: i32, stderr: &str) -> RailwayError {
        match code {
            2 => RailwayError::Usage {
                command: call.name().into(),
                version: self.version.clone(),
                stderr: stderr.trim().to_owned(),
            },
            code => error::classify(call.name(), code, stderr, &self.target),
        }
    }

    fn json<T: for<'de> Deserialize<'de>>(
        &self,
        sh: &Shell,
        call: &Call,
    ) -> Result<T, RailwayError> {
        let out = self.call(sh, call)?;
        serde_json::from_str(&out).map_err(|source| RailwayError::Json {
            command: call.name().into(),
            source,
        })
    }

    /// Auth pre-flight: `status --json` works with project tokens (`whoami` does not). It
    /// also gives the ids the API needs.
    pub(crate) fn ids(&self, sh: &Shell) -> Result<Ids, RailwayError> {
        let status: Value = self.json(sh, &Call::Status)?;
        Ids::from_status(&status, &self.target.environment, &self.target.service)
    }

    /// The service's rendered variables. Values are secrets: never print them.
    pub(crate) fn variables(
        &self,
        sh: &Shell,
        service: &str,
    ) -> Result<BTreeMap<String, String>, RailwayError> {
        let other = Railway {
            target: Target {
                service: service.to_owned(),
                ..self.target.clone()
            },
            ..self.clone()
        };
        other.json(sh, &Call::Variables)
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
        Ok(self.json::<Out>(sh, &Call::Redeploy { from_source })?.id)
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
        Ok(self.json::<Out>(sh, &call)?.deployment_id)
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
            .filter_map(crate::log_line::parse_object)
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
        match plan::parse(&out.stdout) {
            Ok(plan) if matches!(out.code, 0 | 2) || (out.code == 1 && !plan.ok) => Ok(plan),
            _ => Err(self.failure(&call, out.code.max(1), &out.stderr)),
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

fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.split(['.', '-', '+']).map(|p| p.parse::<u32>());
    Some((
        parts.next()?.ok()?,
        parts.next()?.ok()?,
        parts.next().and_then(Result::ok).unwrap_or(0),
    ))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The target every test call names.
    pub(crate) fn t() -> Target {
        Target {
            service: "backend".into(),
            environment: "production".into(),
        }
    }

    /// The contract with the real CLI: no argument vector this wrapper produces may be a usage
    /// error (exit 2). Runs without credentials (every call then fails with exit 1,
    /// "Unauthorized", after clap accepted the arguments). `config plan` may also exit 2 for
    /// "changes pending", but only after authenticating, which it cannot do here.
    ///
    /// Without the real CLI the test is skipped with a note, unless `RAILWAY_CONTRACT=1`
    /// asks for the contract: then a missing CLI fails it.
    #[test]
    fn the_real_cli_accepts_every_argument_vector() {
        let required = std::env::var_os("RAILWAY_CONTRACT").is_some_and(|v| v == "1");
        let Some(bin) = crate::which::find("railway") else {
            assert!(
                !required,
                "RAILWAY_CONTRACT=1 but the real Railway CLI is not on PATH: {INSTALL} (tested with {}.{}.{})",
                TESTED_VERSION.0, TESTED_VERSION.1, TESTED_VERSION.2
            );
            eprintln!(
                "skipped: the real Railway CLI is not installed ({INSTALL}); set RAILWAY_CONTRACT=1 to require it"
            );
            return;
        };
        let sh = Shell::new().unwrap();
        let home = sh.create_temp_dir().unwrap();
        for call in Call::every_shape() {
            let args = call.args(&t());
            let shown = args.join(" ");
            let out = cmd!(sh, "{bin} {args...}")
                .env("RAILWAY_NO_AUTO_UPDATE", "1")
                .env("HOME", home.path())
                .env_remove("RAILWAY_TOKEN")
                .env_remove("RAILWAY_API_TOKEN")
                .quiet()
                .ignore_status()
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_ne!(
                out.status.code(),
                Some(2),
                "`railway {shown}` is a usage error for the real CLI:\n{stderr}"
            );
        }
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version("5.43.1"), Some((5, 43, 1)));
        assert_eq!(parse_version("4.0"), Some((4, 0, 0)));
        assert_eq!(parse_version("5.71.0-beta.1"), Some((5, 71, 0)));
        assert_eq!(parse_version("garbage"), None);
    }
}
