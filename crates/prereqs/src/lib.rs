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

/// How the installer learns whether a package is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Every one of its programs is on `PATH`.
    Path,
    /// Every one of its programs is on `PATH` or in one of these directories: Debian installs
    /// daemons in `/usr/sbin`, which a non-root user's `PATH` often lacks.
    PathOr(&'static [&'static str]),
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
            Lookup::Path | Lookup::Pglocal => &[],
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
/// browser itself decides what CORS allows.
pub const CHROMIUM: Package = Package::on_path(
    &["chromium"],
    &["chromium"],
    None,
    "the browser test: a real headless Chromium calling the backend from a frontend origin",
);

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
}
