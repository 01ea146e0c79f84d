//! Where the PostgreSQL programs and util-linux `setpriv` live, found once per process.

use std::env;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use xshell::{Shell, cmd};

/// Overrides the search, for machines where the server is installed somewhere unusual.
const BINDIR_VAR: &str = "INTOWORK_PG_BINDIR";

const INSTALL_HINT: &str = "install the PostgreSQL server with `apt-get install -y postgresql` \
     (Debian/Ubuntu) or `brew install postgresql@16` (macOS), \
     or set INTOWORK_PG_BINDIR to the directory that holds `initdb` and `postgres`";

#[derive(Debug)]
pub(crate) struct Binaries {
    pub(crate) initdb: PathBuf,
    pub(crate) postgres: PathBuf,
    pub(crate) pg_ctl: PathBuf,
    pub(crate) psql: PathBuf,
    /// Runs the server as the `postgres` user when we are root and ties it to our life.
    pub(crate) setpriv: PathBuf,
}

/// The programs, or a panic that says how to install them (the first thing a new machine hits).
pub(crate) fn binaries() -> &'static Binaries {
    static BINARIES: OnceLock<Binaries> = OnceLock::new();
    BINARIES
        .get_or_init(|| locate(&candidate_bindirs()).unwrap_or_else(|message| panic!("{message}")))
}

fn locate(candidates: &[PathBuf]) -> Result<Binaries, String> {
    let bindir = candidates
        .iter()
        .find(|dir| is_executable(&dir.join("initdb")) && is_executable(&dir.join("postgres")))
        .ok_or_else(|| {
            let looked: Vec<String> = candidates.iter().map(|d| d.display().to_string()).collect();
            format!(
                "intowork-testkit: PostgreSQL server binaries (`initdb`, `postgres`) not found \
                 (looked in: {}); {INSTALL_HINT}",
                looked.join(", ")
            )
        })?;
    let in_bindir_or_path = |name: &str| {
        let own = bindir.join(name);
        if is_executable(&own) {
            Some(own)
        } else {
            find_on_path(name)
        }
    };
    let missing = |name: &str| {
        format!(
            "intowork-testkit: `{name}` not found next to {} nor on PATH; {INSTALL_HINT}",
            bindir.display()
        )
    };
    Ok(Binaries {
        initdb: bindir.join("initdb"),
        postgres: bindir.join("postgres"),
        pg_ctl: in_bindir_or_path("pg_ctl").ok_or_else(|| missing("pg_ctl"))?,
        psql: in_bindir_or_path("psql").ok_or_else(|| missing("psql"))?,
        setpriv: find_on_path("setpriv").ok_or_else(|| {
            "intowork-testkit: util-linux `setpriv` not found on PATH (it ties the servers' life \
             to the test process, so the harness runs on Linux only): `apt-get install -y util-linux`"
                .to_owned()
        })?,
    })
}

/// Most specific first: the override, what `pg_config` says, Debian's versioned directories
/// (newest first), Homebrew's kegs, then PATH.
fn candidate_bindirs() -> Vec<PathBuf> {
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

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_server_names_the_install_commands() {
        let empty = std::env::temp_dir().join("intowork-testkit-no-postgres-here");
        let message = locate(&[empty]).expect_err("no initdb in an empty list of places");
        assert!(
            message.contains("apt-get install -y postgresql"),
            "{message}"
        );
        assert!(message.contains("brew install postgresql@16"), "{message}");
        assert!(
            message.contains("intowork-testkit-no-postgres-here"),
            "says where it looked: {message}"
        );
    }
}
