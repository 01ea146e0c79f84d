//! One typed wrapper around the `railway` CLI (v5). Every call goes through `xshell::cmd!`
//! with `--service`/`--environment` explicit, `-y` where the CLI would prompt, `--json` where
//! the command has it, and `RAILWAY_NO_AUTO_UPDATE=1`. Only stdout of `--json` commands is
//! parsed; known stderr texts become typed errors with their fix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use xshell::{Shell, cmd};

/// The CLI version this wrapper's argument vectors and parsers were checked against.
pub(crate) const TESTED_VERSION: (u32, u32, u32) = (5, 43, 1);
pub(crate) const INSTALL: &str = "install it with `cargo install railwayapp --locked`, `npm install -g @railway/cli`, or Railway's installer (https://docs.railway.com/guides/cli)";

#[derive(Debug, thiserror::Error)]
pub(crate) enum RailwayError {
    #[error("the Railway CLI (`railway`) was not found on PATH (or RAILWAY_BIN): {INSTALL}")]
    NotInstalled,
    #[error("`{}` is Railway CLI {found}, but v5 or newer is needed: {INSTALL}", bin.display())]
    TooOld { bin: PathBuf, found: String },
    #[error(
        "not logged in to Railway: run `railway login`, or in CI set RAILWAY_TOKEN (a project token) or RAILWAY_API_TOKEN"
    )]
    NotLoggedIn,
    #[error(
        "Railway rejected the token (RAILWAY_TOKEN / RAILWAY_API_TOKEN): create a new one in the project's settings (Tokens) and check it belongs to this project"
    )]
    InvalidToken,
    #[error(
        "no Railway project is linked here: run `railway link`, or set RAILWAY_TOKEN (a project token names its project)"
    )]
    NoLinkedProject,
    #[error("no Railway service is linked: pass --service NAME")]
    NoServiceLinked,
    #[error(
        "Railway has no service `{name}` in this project: check --service (see `railway status`)"
    )]
    ServiceNotFound { name: String },
    #[error("Railway has no environment `{name}` in this project: check --environment")]
    EnvironmentNotFound { name: String },
    #[error("Railway is rate-limiting this client ({text}): wait and retry")]
    RateLimited { text: String },
    #[error("`railway {command}` failed (exit {code}): {stderr}")]
    Failed {
        command: String,
        code: i32,
        stderr: String,
    },
    #[error(
        "`railway {command}` was refused as a usage error (exit 2): this wrapper and CLI {version} disagree on flags; please report it: {stderr}"
    )]
    Usage {
        command: String,
        version: String,
        stderr: String,
    },
    #[error("`railway {command}` printed something that is not the expected JSON: {source}")]
    Json {
        command: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("refusing to run `railway {command}` in a dry run: it would change the deployment")]
    ReadOnly { command: String },
    #[error("failed to run `{}`: {source}", bin.display())]
    Spawn {
        bin: PathBuf,
        #[source]
        source: xshell::Error,
    },
}

/// Every command the wrapper can issue. `args()` is the single source of argument vectors,
/// which the contract test replays against the real CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Call {
    Version,
    Status,
    Variables,
    Redeploy {
        from_source: bool,
    },
    Up {
        path: PathBuf,
    },
    Deployments {
        limit: u32,
    },
    Logs {
        deployment: Option<String>,
        build: bool,
        since: Option<String>,
        lines: Option<u32>,
        filter: Option<String>,
    },
}

/// Which service and environment every call names.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) service: String,
    pub(crate) environment: String,
}

impl Call {
    /// Whether the call changes anything on Railway (what `--dry-run` must never run).
    pub(crate) fn mutates(&self) -> bool {
        matches!(self, Call::Redeploy { .. } | Call::Up { .. })
    }

    pub(crate) fn args(&self, t: &Target) -> Vec<String> {
        let s = || {
            vec![
                "--service".to_owned(),
                t.service.clone(),
                "--environment".to_owned(),
                t.environment.clone(),
            ]
        };
        let mut a: Vec<String> = match self {
            Call::Version => return vec!["--version".into()],
            // `status` has no --service; the environment narrows it.
            Call::Status => vec![
                "status".into(),
                "--environment".into(),
                t.environment.clone(),
                "--json".into(),
            ],
            Call::Variables => [
                vec!["variable".into(), "list".into()],
                s(),
                vec!["--json".into()],
            ]
            .concat(),
            Call::Redeploy { from_source } => {
                let mut v = [
                    vec!["redeploy".into()],
                    s(),
                    vec!["--yes".into(), "--json".into()],
                ]
                .concat();
                if *from_source {
                    v.push("--from-source".into());
                }
                v
            }
            Call::Up { path } => [
                vec!["up".into(), path.display().to_string()],
                s(),
                vec!["--detach".into(), "--json".into()],
            ]
            .concat(),
            Call::Deployments { limit } => [
                vec!["deployment".into(), "list".into()],
                s(),
                vec!["--limit".into(), limit.to_string(), "--json".into()],
            ]
            .concat(),
            Call::Logs {
                deployment,
                build,
                since,
                lines,
                filter,
            } => {
                let mut v = vec!["logs".into()];
                v.extend(deployment.clone());
                v.extend(s());
                v.push(if *build { "--build" } else { "--deployment" }.into());
                v.push("--json".into());
                if let Some(since) = since {
                    v.extend(["--since".into(), since.clone()]);
                }
                if let Some(n) = lines {
                    v.extend(["--lines".into(), n.to_string()]);
                }
                if let Some(f) = filter {
                    v.extend(["--filter".into(), f.clone()]);
                }
                v
            }
        };
        a.shrink_to_fit();
        a
    }

    /// One of each shape the wrapper produces, for the contract test.
    #[cfg(test)]
    pub(crate) fn every_shape() -> Vec<Call> {
        vec![
            Call::Version,
            Call::Status,
            Call::Variables,
            Call::Redeploy { from_source: false },
            Call::Redeploy { from_source: true },
            Call::Up {
                path: PathBuf::from("."),
            },
            Call::Deployments { limit: 5 },
            Call::Logs {
                deployment: Some("0000".into()),
                build: false,
                since: Some("2026-11-27T10:00:00Z".into()),
                lines: Some(500),
                filter: None,
            },
            Call::Logs {
                deployment: Some("0000".into()),
                build: true,
                since: None,
                lines: Some(100),
                filter: Some("@level:error".into()),
            },
            Call::Logs {
                deployment: None,
                build: false,
                since: Some("5m".into()),
                lines: None,
                filter: None,
            },
        ]
    }

    fn name(&self) -> &'static str {
        match self {
            Call::Version => "--version",
            Call::Status => "status",
            Call::Variables => "variable list",
            Call::Redeploy { .. } => "redeploy",
            Call::Up { .. } => "up",
            Call::Deployments { .. } => "deployment list",
            Call::Logs { .. } => "logs",
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Deployment {
    pub(crate) id: String,
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) created_at: Option<String>,
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
        let parsed = parse_version(&found);
        let note = match parsed {
            Some(v) if v.0 < 5 => return Err(RailwayError::TooOld { bin, found }),
            None => {
                return Err(RailwayError::TooOld {
                    bin,
                    found: if found.is_empty() {
                        "unknown".into()
                    } else {
                        found
                    },
                });
            }
            Some(v) if v < TESTED_VERSION => Some(format!(
                "Railway CLI {found} is older than {}.{}.{}, the version this tool was tested with: update it (`railway upgrade`, or {INSTALL})",
                TESTED_VERSION.0, TESTED_VERSION.1, TESTED_VERSION.2
            )),
            Some(_) => None,
        };
        Ok((
            Railway {
                bin,
                version: found,
                target,
                read_only: false,
            },
            note,
        ))
    }

    /// The command line a call runs, for `--dry-run` and messages (no secret is ever in it).
    pub(crate) fn display(&self, call: &Call) -> String {
        std::iter::once("railway".to_owned())
            .chain(call.args(&self.target))
            .collect::<Vec<_>>()
            .join(" ")
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

    /// Runs a call; stdout on success, a typed error otherwise.
    pub(crate) fn call(&self, sh: &Shell, call: &Call) -> Result<String, RailwayError> {
        if self.read_only && call.mutates() {
            return Err(RailwayError::ReadOnly {
                command: call.name().into(),
            });
        }
        let out = run(sh, &self.bin, &call.args(&self.target))?;
        match out.code {
            0 => Ok(out.stdout),
            2 => Err(RailwayError::Usage {
                command: call.name().into(),
                version: self.version.clone(),
                stderr: out.stderr.trim().to_owned(),
            }),
            code => Err(classify(call.name(), code, &out.stderr, &self.target)),
        }
    }

    /// Auth pre-flight: `status --json` works with project tokens (`whoami` does not).
    pub(crate) fn check_auth(&self, sh: &Shell) -> Result<(), RailwayError> {
        self.json::<serde_json::Value>(sh, &Call::Status).map(drop)
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
        Ok(self
            .json::<Out>(
                sh,
                &Call::Up {
                    path: path.to_path_buf(),
                },
            )?
            .deployment_id)
    }

    pub(crate) fn deployments(
        &self,
        sh: &Shell,
        limit: u32,
    ) -> Result<Vec<Deployment>, RailwayError> {
        self.json(sh, &Call::Deployments { limit })
    }

    /// Log lines as JSON objects (one per stdout line; non-JSON lines are skipped).
    pub(crate) fn logs(
        &self,
        sh: &Shell,
        call: &Call,
    ) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, RailwayError> {
        let out = self.call(sh, call)?;
        Ok(out
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect())
    }
}

/// Statuses after which a deployment never changes.
pub(crate) fn is_terminal(status: &str) -> bool {
    matches!(
        status,
        "SUCCESS" | "FAILED" | "CRASHED" | "REMOVED" | "SKIPPED"
    )
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
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

/// Maps the CLI's stderr texts (v5) to errors that say what to do.
fn classify(command: &str, code: i32, stderr: &str, t: &Target) -> RailwayError {
    let text = stderr.trim();
    if text.starts_with("Unauthorized.") {
        return if text.contains("RAILWAY_TOKEN") || text.contains("RAILWAY_API_TOKEN") {
            RailwayError::InvalidToken
        } else {
            RailwayError::NotLoggedIn
        };
    }
    if text.starts_with("Invalid RAILWAY_TOKEN") || text.starts_with("Invalid RAILWAY_API_TOKEN") {
        return RailwayError::InvalidToken;
    }
    if text.starts_with("No linked project found") {
        return RailwayError::NoLinkedProject;
    }
    if text.starts_with("No service linked") {
        return RailwayError::NoServiceLinked;
    }
    if text.starts_with("Service '") || text.starts_with("Service \"") {
        let name = text
            .split(['\'', '"'])
            .nth(1)
            .unwrap_or(&t.service)
            .to_owned();
        return RailwayError::ServiceNotFound { name };
    }
    if text.starts_with("Environment \"") {
        let name = text.split('"').nth(1).unwrap_or(&t.environment).to_owned();
        return RailwayError::EnvironmentNotFound { name };
    }
    if text.contains("ratelimited") || text.contains("rate limited") {
        return RailwayError::RateLimited {
            text: text.lines().next().unwrap_or(text).to_owned(),
        };
    }
    RailwayError::Failed {
        command: command.to_owned(),
        code,
        stderr: text.to_owned(),
    }
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
mod tests {
    use super::*;

    fn t() -> Target {
        Target {
            service: "backend".into(),
            environment: "production".into(),
        }
    }

    #[test]
    fn stderr_texts_become_typed_errors() {
        let cases = [
            (
                "Unauthorized. Please login with `railway login`",
                "NotLoggedIn",
            ),
            (
                "Unauthorized. Please check that your RAILWAY_TOKEN is valid and has access to the resource you're trying to use.",
                "InvalidToken",
            ),
            (
                "Invalid RAILWAY_TOKEN. Please check that it is valid and has access to the resource you're trying to use.",
                "InvalidToken",
            ),
            (
                "No linked project found. Run railway link to connect to a project\n  → Run `railway link` to connect to a project.",
                "NoLinkedProject",
            ),
            (
                "No service linked\nRun `railway service` to link a service",
                "NoServiceLinked",
            ),
            ("Service 'backnd' not found", "ServiceNotFound"),
            ("Service \"backnd\" not found.", "ServiceNotFound"),
            (
                "Environment \"prod\" not found.\nRun `railway environment` to connect to an environment.",
                "EnvironmentNotFound",
            ),
            (
                "You are being ratelimited. Try again in 30 seconds",
                "RateLimited",
            ),
            ("Something else broke", "Failed"),
        ];
        for (text, kind) in cases {
            let e = classify("status", 1, text, &t());
            assert!(format!("{e:?}").starts_with(kind), "{text} → {e:?}");
        }
        assert!(
            matches!(classify("logs", 1, "Service 'backnd' not found", &t()), RailwayError::ServiceNotFound { name } if name == "backnd")
        );
    }

    /// The contract with the real CLI: no argument vector this wrapper produces may be a usage
    /// error (exit 2). Runs without credentials (every call then fails with exit 1,
    /// "Unauthorized", after clap accepted the arguments). Skipped when no real CLI is installed.
    #[test]
    fn the_real_cli_accepts_every_argument_vector() {
        let Some(bin) = crate::which::find("railway") else {
            eprintln!(
                "skipped: the real Railway CLI is not installed ({INSTALL}); the contract test needs it"
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
                "`railway {}` is a usage error for the real CLI:\n{stderr}",
                shown
            );
        }
    }

    #[test]
    fn only_redeploy_and_up_mutate() {
        let mutating: Vec<_> = Call::every_shape()
            .into_iter()
            .filter(Call::mutates)
            .collect();
        assert!(
            mutating
                .iter()
                .all(|c| matches!(c, Call::Redeploy { .. } | Call::Up { .. }))
        );
        assert_eq!(mutating.len(), 3);
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version("5.43.1"), Some((5, 43, 1)));
        assert_eq!(parse_version("4.0"), Some((4, 0, 0)));
        assert_eq!(parse_version("5.71.0-beta.1"), Some((5, 71, 0)));
        assert_eq!(parse_version("garbage"), None);
    }

    #[test]
    fn every_call_names_service_and_environment_and_asks_for_json() {
        for call in Call::every_shape() {
            let args = call.args(&t());
            if call == Call::Version {
                continue;
            }
            assert!(args.contains(&"--environment".to_owned()), "{args:?}");
            assert!(args.contains(&"--json".to_owned()), "{args:?}");
            if call != Call::Status {
                assert!(args.contains(&"--service".to_owned()), "{args:?}");
            }
            if matches!(call, Call::Redeploy { .. }) {
                assert!(
                    args.contains(&"--yes".to_owned()),
                    "redeploy must not prompt: {args:?}"
                );
            }
        }
    }
}
