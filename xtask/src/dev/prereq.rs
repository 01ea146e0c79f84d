//! The PostgreSQL server binaries, and who runs them (never root: `initdb` refuses it).

use std::path::{Path, PathBuf};

use xshell::{Shell, cmd};

use crate::exit::Reported;

pub(crate) const INSTALL: &str = "install the PostgreSQL server: Debian/Ubuntu `sudo apt-get install -y postgresql`, macOS `brew install postgresql@16`";

#[derive(Debug, Clone)]
pub(crate) struct Postgres {
    pub(crate) bindir: PathBuf,
    /// `Some("postgres")` when running as root: the server runs as that system user.
    pub(crate) run_as: Option<String>,
}

impl Postgres {
    pub(crate) fn find(sh: &Shell) -> anyhow::Result<Postgres> {
        let from_pg_config = cmd!(sh, "pg_config --bindir")
            .quiet()
            .ignore_stderr()
            .read()
            .ok()
            .map(PathBuf::from);
        let from_debian = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|entries| {
                let mut dirs: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.path().join("bin"))
                    .collect();
                dirs.sort_by_key(|d| {
                    d.parent()
                        .and_then(|v| v.file_name())
                        .and_then(|v| v.to_str())
                        .and_then(|v| v.parse::<u32>().ok())
                        .unwrap_or(0)
                });
                dirs.pop()
            });
        let from_path = std::env::var_os("PATH")
            .and_then(|p| std::env::split_paths(&p).find(|d| has_server(d)));
        let bindir = pick_bindir(
            [from_pg_config, from_debian, from_path]
                .into_iter()
                .flatten(),
        )?;
        for tool in ["psql"] {
            if cmd!(sh, "{tool} --version")
                .quiet()
                .ignore_stdout()
                .ignore_stderr()
                .run()
                .is_err()
                && !bindir.join(tool).is_file()
            {
                return Err(Reported(format!("dev: `{tool}` was not found: {INSTALL}")).into());
            }
        }
        let uid = cmd!(sh, "id -u").quiet().read()?;
        let run_as = if uid.trim() == "0" {
            if cmd!(sh, "id -u postgres")
                .quiet()
                .ignore_stdout()
                .ignore_stderr()
                .run()
                .is_err()
            {
                return Err(Reported("dev: running as root, but there is no `postgres` system user to run the server as (initdb refuses root): create one (`useradd --system postgres`) or run as a normal user".into()).into());
            }
            Some("postgres".to_owned())
        } else {
            None
        };
        Ok(Postgres { bindir, run_as })
    }

    /// A server binary run as the right user (through `runuser` when we are root).
    pub(crate) fn cmd<'a>(&self, sh: &'a Shell, name: &str) -> xshell::Cmd<'a> {
        let bin = self.bin(name);
        match &self.run_as {
            Some(user) => cmd!(sh, "runuser -u {user} -- {bin}"),
            None => cmd!(sh, "{bin}"),
        }
    }

    /// The same, in a new session: a Ctrl-C meant for the backend must not reach PostgreSQL,
    /// which would shut down before the backend drains.
    pub(crate) fn cmd_detached<'a>(&self, sh: &'a Shell, name: &str) -> xshell::Cmd<'a> {
        let bin = self.bin(name);
        match &self.run_as {
            Some(user) => cmd!(sh, "setsid runuser -u {user} -- {bin}"),
            None => cmd!(sh, "setsid {bin}"),
        }
    }

    pub(crate) fn bin(&self, name: &str) -> PathBuf {
        self.bindir.join(name)
    }
}

fn has_server(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"]
        .iter()
        .all(|b| dir.join(b).is_file())
}

/// The first candidate holding the server binaries, or the error that says how to install them.
fn pick_bindir(candidates: impl IntoIterator<Item = PathBuf>) -> Result<PathBuf, Reported> {
    candidates
        .into_iter()
        .find(|d| has_server(d))
        .ok_or_else(|| Reported(format!("dev: the PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found: {INSTALL}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_binaries_name_the_install_commands() {
        let empty = tempfile_dir();
        let e = pick_bindir([empty.clone(), PathBuf::from("/nonexistent")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("sudo apt-get install -y postgresql")
                && e.contains("brew install postgresql@16"),
            "{e}"
        );
        for b in ["initdb", "pg_ctl", "postgres"] {
            std::fs::write(empty.join(b), "").unwrap();
        }
        assert_eq!(
            pick_bindir([PathBuf::from("/nonexistent"), empty.clone()]).unwrap(),
            empty
        );
        std::fs::remove_dir_all(empty).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-prereq-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
