//! Where the PostgreSQL programs and util-linux's `setpriv`/`setsid` live: one lookup order,
//! used by every caller.

use std::env;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use xshell::{Shell, cmd};

use crate::error::{Component, Missing, MissingPrerequisites};

/// Overrides the search, for machines where the server is installed somewhere unusual.
pub(crate) const BINDIR_VAR: &str = "INTOWORK_PG_BINDIR";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binaries {
    /// The directory that holds `initdb` and `postgres`.
    pub bindir: PathBuf,
    pub initdb: PathBuf,
    pub postgres: PathBuf,
    pub pg_ctl: PathBuf,
    pub psql: PathBuf,
    /// Runs the server as the `postgres` user when we are root, and ties a child's life to ours.
    pub setpriv: PathBuf,
    /// Starts a cluster that outlives us in its own session, out of reach of our Ctrl-C.
    pub setsid: PathBuf,
}

impl Binaries {
    /// Searches [`candidate_bindirs`], then `PATH` for the programs not found next to the server.
    pub fn find() -> Result<Binaries, MissingPrerequisites> {
        Binaries::locate(&candidate_bindirs())
    }

    /// The first of `candidates` that holds `initdb` and `postgres`; everything missing is
    /// reported at once.
    pub fn locate(candidates: &[PathBuf]) -> Result<Binaries, MissingPrerequisites> {
        let bindir = candidates
            .iter()
            .find(|dir| is_executable(&dir.join("initdb")) && is_executable(&dir.join("postgres")));
        let mut missing = Vec::new();
        let mut need = |component, detail: String| missing.push(Missing { component, detail });
        if bindir.is_none() {
            let looked: Vec<String> = candidates.iter().map(|d| d.display().to_string()).collect();
            need(
                Component::Server,
                format!(
                    "PostgreSQL server binaries (`initdb`, `postgres`) not found (looked in: {})",
                    looked.join(", ")
                ),
            );
        }
        let beside_or_on_path = |name: &str| match bindir {
            Some(dir) if is_executable(&dir.join(name)) => Some(dir.join(name)),
            _ => find_on_path(name),
        };
        let pg_ctl = beside_or_on_path("pg_ctl");
        if pg_ctl.is_none() && bindir.is_some() {
            need(
                Component::Server,
                "`pg_ctl` not found next to `initdb` nor on PATH".to_owned(),
            );
        }
        let psql = beside_or_on_path("psql");
        if psql.is_none() {
            need(
                Component::Client,
                "`psql` not found next to the server nor on PATH".to_owned(),
            );
        }
        let setpriv = find_on_path("setpriv");
        let setsid = find_on_path("setsid");
        for (name, found) in [("setpriv", &setpriv), ("setsid", &setsid)] {
            if found.is_none() {
                need(
                    Component::UtilLinux,
                    intowork_prereqs::UTIL_LINUX.not_installed(name),
                );
            }
        }
        match (bindir, pg_ctl, psql, setpriv, setsid) {
            (Some(dir), Some(pg_ctl), Some(psql), Some(setpriv), Some(setsid)) => Ok(Binaries {
                bindir: dir.clone(),
                initdb: dir.join("initdb"),
                postgres: dir.join("postgres"),
                pg_ctl,
                psql,
                setpriv,
                setsid,
            }),
            _ => Err(MissingPrerequisites { missing }),
        }
    }

    /// Another program of the same installation (e.g. `pgbench`): next to the server, else on PATH.
    pub fn program(&self, name: &str) -> Option<PathBuf> {
        let own = self.bindir.join(name);
        if is_executable(&own) {
            Some(own)
        } else {
            find_on_path(name)
        }
    }
}

/// The lookup order, most specific first: `INTOWORK_PG_BINDIR`, what `pg_config --bindir`
/// says, Debian's `/usr/lib/postgresql/<major>/bin` (newest first), Homebrew's
/// `/opt/homebrew/opt/postgresql@<major>/bin` and `/usr/local/opt/postgresql@<major>/bin`
/// (newest first), then every directory of `PATH`.
pub(crate) fn candidate_bindirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = env::var_os(BINDIR_VAR) {
        dirs.push(PathBuf::from(dir));
    }
    if let Some(dir) = pg_config_bindir() {
        dirs.push(dir);
    }
    dirs.extend(versioned_dirs(Path::new("/usr/lib/postgresql"), "", "bin"));
    for prefix in ["/opt/homebrew/opt", "/usr/local/opt"] {
        dirs.extend(versioned_dirs(Path::new(prefix), "postgresql@", "bin"));
    }
    dirs.extend(
        env::var_os("PATH")
            .map(|p| env::split_paths(&p).collect::<Vec<_>>())
            .unwrap_or_default(),
    );
    dirs
}

fn pg_config_bindir() -> Option<PathBuf> {
    let sh = Shell::new().ok()?;
    let out = cmd!(sh, "pg_config --bindir")
        .quiet()
        .ignore_stderr()
        .read()
        .ok()?;
    Some(PathBuf::from(out.trim()))
}

/// `<parent>/<prefix><major>/<sub>` for every numeric major version, newest first.
fn versioned_dirs(parent: &Path, prefix: &str, sub: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut found: Vec<(u32, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let major = name.strip_prefix(prefix)?.parse::<u32>().ok()?;
            Some((major, entry.path().join(sub)))
        })
        .collect();
    found.sort_by_key(|(major, _)| std::cmp::Reverse(*major));
    found.into_iter().map(|(_, dir)| dir).collect()
}

/// An executable file of that name in a directory of `PATH`, as `which` finds it.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    find_in(&env::var_os("PATH")?, name)
}

/// One of `package`'s programs: on `PATH`, else in the package's own directories
/// (`intowork_prereqs::Lookup::PathOr`: Debian's `/usr/sbin` for PgBouncer).
pub fn find_program(package: &intowork_prereqs::Package, name: &str) -> Option<PathBuf> {
    find_on_path(name).or_else(|| {
        package
            .search_dirs()
            .iter()
            .map(|dir| Path::new(dir).join(name))
            .find(|p| is_executable(p))
    })
}

/// [`find_on_path`] for a given search path (`PATH`'s syntax).
pub fn find_in(path: &std::ffi::OsStr, name: &str) -> Option<PathBuf> {
    env::split_paths(path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(label: &str) -> PathBuf {
        let dir = env::temp_dir().join(format!("pglocal-{label}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn fake_program(dir: &Path, name: &str) {
        let path = dir.join(name);
        fs::write(&path, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn missing_server_names_the_install_commands_and_where_it_looked() {
        let empty = scratch("no-postgres-here");
        let error = Binaries::locate(&[empty.clone(), PathBuf::from("/nonexistent")])
            .expect_err("no initdb in these places");
        let message = error.to_string();
        assert!(
            message.contains("sudo apt-get install -y postgresql"),
            "{message}"
        );
        assert!(message.contains("brew install postgresql@16"), "{message}");
        assert!(message.contains(BINDIR_VAR), "{message}");
        assert!(
            message.contains("pglocal-no-postgres-here"),
            "says where it looked: {message}"
        );
        assert!(error.components().contains(&Component::Server));
        fs::remove_dir_all(empty).unwrap();
    }

    #[test]
    fn the_first_candidate_with_initdb_and_postgres_wins() {
        let half = scratch("half");
        fake_program(&half, "initdb");
        let full = scratch("full");
        for name in ["initdb", "postgres", "pg_ctl", "psql"] {
            fake_program(&full, name);
        }
        let not_executable = scratch("not-executable");
        for name in ["initdb", "postgres"] {
            fs::write(not_executable.join(name), "").unwrap();
        }
        let candidates = [
            PathBuf::from("/nonexistent"),
            half.clone(),
            not_executable.clone(),
            full.clone(),
        ];
        match Binaries::locate(&candidates) {
            Ok(found) => {
                assert_eq!(found.bindir, full);
                assert_eq!(
                    found.psql,
                    full.join("psql"),
                    "psql next to the server first"
                );
            }
            // Only a machine without util-linux gets here; then that is all that is missing.
            Err(missing) => assert_eq!(
                missing.components().into_iter().collect::<Vec<_>>(),
                vec![Component::UtilLinux]
            ),
        }
        for dir in [half, full, not_executable] {
            fs::remove_dir_all(dir).unwrap();
        }
    }
}
