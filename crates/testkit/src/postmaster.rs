//! The `postgres` process of one data directory: start it and wait until it accepts
//! connections, or stop it and wait until it is gone.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::thread;
use std::time::{Duration, Instant};

use xshell::{Shell, cmd};

use crate::binaries::binaries;
use crate::server_user::setpriv_switch_args;
use crate::spawner::spawn_postgres;

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
const POLL_INTERVAL: Duration = Duration::from_millis(20);
const LOG_FILE: &str = "server.log";
const LOG_TAIL_LINES: usize = 40;

/// Why a start attempt failed (the process is gone in every case).
#[derive(Debug)]
pub(crate) enum LaunchFailure {
    /// Another process holds the port on at least one listen address: try another port.
    PortTaken,
    Exited(ExitStatus),
    NotReady,
    Spawn(io::Error),
}

impl fmt::Display for LaunchFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LaunchFailure::PortTaken => write!(f, "could not listen on its port (already in use)"),
            LaunchFailure::Exited(status) => write!(f, "exited during start-up ({status})"),
            LaunchFailure::NotReady => {
                write!(
                    f,
                    "did not accept connections within {READY_TIMEOUT:?} (killed)"
                )
            }
            LaunchFailure::Spawn(error) => {
                write!(f, "could not be spawned through setpriv: {error}")
            }
        }
    }
}

/// Where the server's stdout and stderr go, every start appended.
pub(crate) fn log_path(data_dir: &Path) -> PathBuf {
    data_dir.join(LOG_FILE)
}

/// The last lines of the log, for panic messages.
pub(crate) fn log_tail(data_dir: &Path) -> String {
    let log = fs::read(log_path(data_dir)).unwrap_or_default();
    let log = String::from_utf8_lossy(&log);
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
}

/// Starts `postgres -D data_dir` and waits until it accepts connections.
pub(crate) fn launch(data_dir: &Path) -> Result<Child, LaunchFailure> {
    let log_path = log_path(data_dir);
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .expect("open the server log");
    let log_start = log.metadata().map(|m| m.len()).unwrap_or(0);
    let this_attempt_log = || {
        let log = fs::read(&log_path).unwrap_or_default();
        String::from_utf8_lossy(log.get(log_start as usize..).unwrap_or_default()).into_owned()
    };
    let mut child = spawn_postgres(data_dir, log).map_err(LaunchFailure::Spawn)?;
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().expect("poll the postgres process") {
            let port_taken = port_taken(&this_attempt_log());
            return Err(if port_taken {
                LaunchFailure::PortTaken
            } else {
                LaunchFailure::Exited(status)
            });
        }
        if accepts_connections(data_dir, child.id()) {
            // PostgreSQL starts if it can bind *one* listen address: with 127.0.0.1 taken it
            // would run on ::1 alone, and clients of 127.0.0.1 would reach the squatter.
            if port_taken(&this_attempt_log()) {
                let _ = shut_down(data_dir, child);
                return Err(LaunchFailure::PortTaken);
            }
            return Ok(child);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(LaunchFailure::NotReady);
        }
        thread::sleep(POLL_INTERVAL);
    }
}

/// Fast shutdown (clients are disconnected), then waits for the process to exit; after
/// [`STOP_TIMEOUT`] it is killed and an error says so.
pub(crate) fn shut_down(data_dir: &Path, mut child: Child) -> Result<(), String> {
    if let Ok(Some(_)) = child.try_wait() {
        return Ok(());
    }
    // pg_ctl rather than `kill`: it comes with the server, and it checks the pid file.
    let (setpriv, pg_ctl) = (&binaries().setpriv, &binaries().pg_ctl);
    let switch_user = setpriv_switch_args();
    if let Ok(sh) = Shell::new() {
        sh.change_dir(data_dir);
        let _ = cmd!(
            sh,
            "{setpriv} {switch_user...} {pg_ctl} stop -D {data_dir} -m fast -W"
        )
        .quiet()
        .ignore_status()
        .ignore_stdout()
        .ignore_stderr()
        .run();
    }
    let deadline = Instant::now() + STOP_TIMEOUT;
    while Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return Ok(());
        }
        thread::sleep(POLL_INTERVAL);
    }
    let _ = child.kill();
    let _ = child.wait();
    Err(format!(
        "did not stop within {STOP_TIMEOUT:?} of a fast shutdown and was killed"
    ))
}

/// Readiness as `pg_ctl -w` sees it: line 8 of `postmaster.pid` says `ready` once the server
/// accepts connections (a connect alone can hit "the database system is starting up").
/// The pid check ignores a file left by an earlier run.
fn accepts_connections(data_dir: &Path, pid: u32) -> bool {
    let Ok(pid_file) = fs::read_to_string(data_dir.join("postmaster.pid")) else {
        return false;
    };
    let lines: Vec<&str> = pid_file.lines().collect();
    lines.first().is_some_and(|l| l.trim() == pid.to_string())
        && lines.get(7).is_some_and(|l| l.trim() == "ready")
}

fn port_taken(log: &str) -> bool {
    log.contains("could not bind") || log.contains("could not create any TCP/IP sockets")
}
