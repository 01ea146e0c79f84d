//! What can go wrong, typed: a missing prerequisite (with what provides it), a file or a
//! program that failed, or a server that did not start or stop.

use std::collections::BTreeSet;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

use intowork_prereqs::{POSTGRESQL, POSTGRESQL_CLIENT, Package, UTIL_LINUX};

use crate::binaries::BINDIR_VAR;
use crate::certs::CertError;

/// What provides a missing prerequisite: the installer's unit of decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Component {
    /// `initdb`, `postgres`, `pg_ctl`: the PostgreSQL server package.
    Server,
    /// `psql`: the PostgreSQL client package.
    Client,
    /// `setpriv` and `setsid`, which run the server as its own user, in its own session.
    UtilLinux,
    /// Running as root without a `postgres` system user (`initdb` and `postgres` refuse root).
    ServerAccount,
}

impl Component {
    /// The entry of the workspace's system package list that provides it (`None` for the
    /// account, which is made, not installed).
    pub fn package(self) -> Option<&'static Package> {
        match self {
            Component::Server => Some(&POSTGRESQL),
            Component::Client => Some(&POSTGRESQL_CLIENT),
            Component::UtilLinux => Some(&UTIL_LINUX),
            Component::ServerAccount => None,
        }
    }
}

/// One missing prerequisite: what provides it, and what exactly was not found where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub component: Component,
    pub detail: String,
}

/// Everything missing at once, so that one installation fixes it all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct MissingPrerequisites {
    pub missing: Vec<Missing>,
}

/// How to install the PostgreSQL programs: the installer, what it runs (from the one package
/// list), or where to point the lookup instead.
pub fn install_hint() -> String {
    let apt = [POSTGRESQL, POSTGRESQL_CLIENT]
        .map(|p| p.to_string())
        .join(" ");
    let brew = POSTGRESQL.homebrew.unwrap_or_default();
    format!(
        "install the PostgreSQL server and client with `cargo xtask dev setup` (Debian/Ubuntu: \
         `sudo apt-get install -y {apt}`; macOS: `brew install {brew}`), or set {BINDIR_VAR} to \
         the directory that holds `initdb` and `postgres`"
    )
}

impl MissingPrerequisites {
    /// What to install, without repetition.
    pub fn components(&self) -> BTreeSet<Component> {
        self.missing.iter().map(|m| m.component).collect()
    }
}

impl fmt::Display for MissingPrerequisites {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let details: Vec<&str> = self.missing.iter().map(|m| m.detail.as_str()).collect();
        write!(f, "{}", details.join("; "))?;
        let components = self.components();
        if components.contains(&Component::Server) || components.contains(&Component::Client) {
            write!(f, "; {}", install_hint())?;
        }
        Ok(())
    }
}

/// Why a server did not start or stop (the process is gone in every case but `NotStopped`).
#[derive(Debug)]
pub enum Failure {
    /// Another process holds the port on at least one listen address.
    PortTaken,
    Exited(ExitStatus),
    NotReady(Duration),
    Spawn(io::Error),
    /// `pg_ctl start` reported failure.
    StartFailed,
    /// Killed after a fast shutdown took longer than this.
    NotStopped(Duration),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::PortTaken => write!(f, "could not listen on its port (already in use)"),
            Failure::Exited(status) => write!(f, "exited during start-up ({status})"),
            Failure::NotReady(limit) => {
                write!(f, "did not accept connections within {limit:?} (killed)")
            }
            Failure::Spawn(error) => write!(f, "could not be spawned through setpriv: {error}"),
            Failure::StartFailed => write!(f, "did not start (`pg_ctl start` failed)"),
            Failure::NotStopped(limit) => write!(
                f,
                "did not stop within {limit:?} of a fast shutdown and was killed"
            ),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Missing(#[from] MissingPrerequisites),
    #[error("failed to {action} `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A PostgreSQL or system program failed; `detail` is its output (never a password).
    #[error("`{program}` failed: {detail}")]
    Program { program: String, detail: String },
    #[error("PostgreSQL (port {port}) {failure}; last lines of {}:\n{log_tail}", log.display())]
    Server {
        port: u16,
        failure: Failure,
        log: PathBuf,
        log_tail: String,
    },
    #[error(transparent)]
    Certificate(#[from] CertError),
    #[error("the PostgreSQL server (pid {pid}) was stopped but still runs after {waited:?}")]
    StillRunning { pid: u32, waited: Duration },
    #[error("no port free on both 127.0.0.1 and ::1 after {0} tries")]
    NoFreePort(u32),
    #[error("`{0}` is not a plain SQL name (lowercase letters, digits, `_`)")]
    BadName(String),
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    }

    /// Whether a start failed only because the port was taken (worth another port).
    pub fn is_port_taken(&self) -> bool {
        matches!(
            self,
            Error::Server {
                failure: Failure::PortTaken,
                ..
            }
        )
    }
}
