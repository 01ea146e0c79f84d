//! The `postgres` process of a throwaway cluster, supervised as our child: start it and wait
//! until it accepts connections, or stop it and wait until it is gone.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Error, Failure};
use crate::pg::Pg;
use crate::spawner::spawn_postgres;

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
const POLL_INTERVAL: Duration = Duration::from_millis(20);
const LOG_FILE: &str = "server.log";
const LOG_TAIL_LINES: usize = 40;

/// Where the server's stdout and stderr go, every start appended.
pub(crate) fn log_path(data_dir: &Path) -> PathBuf {
    data_dir.join(LOG_FILE)
}

/// The last lines of a log, for error messages.
pub(crate) fn log_tail(log: &Path) -> String {
    let log = fs::read(log).unwrap_or_default();
    let log = String::from_utf8_lossy(&log);
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
}

/// Starts `postgres -D data_dir` and waits until it accepts connections.
pub(crate) fn launch(pg: &Pg, data_dir: &Path) -> Result<Child, Failure> {
    let log_path = log_path(data_dir);
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(Failure::Spawn)?;
    let log_start = log.metadata().map(|m| m.len()).unwrap_or(0);
    let this_attempt_log = || {
        let log = fs::read(&log_path).unwrap_or_default();
        String::from_utf8_lossy(log.get(log_start as usize..).unwrap_or_default()).into_owned()
    };
    let mut child = spawn_postgres(pg, data_dir, log).map_err(Failure::Spawn)?;
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().map_err(Failure::Spawn)? {
            return Err(if port_taken(&this_attempt_log()) {
                Failure::PortTaken
            } else {
                Failure::Exited(status)
            });
        }
        if accepts_connections(data_dir, child.id()) {
            // PostgreSQL starts if it can bind *one* listen address: with 127.0.0.1 taken it
            // would run on ::1 alone, and clients of 127.0.0.1 would reach the squatter.
            if port_taken(&this_attempt_log()) {
                let _ = shut_down(pg, data_dir, child);
                return Err(Failure::PortTaken);
            }
            return Ok(child);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Failure::NotReady(READY_TIMEOUT));
        }
        thread::sleep(POLL_INTERVAL);
    }
}

/// Fast shutdown (clients are disconnected), then waits for the process to exit; after
/// [`STOP_TIMEOUT`] it is killed and the failure says so.
pub(crate) fn shut_down(pg: &Pg, data_dir: &Path, mut child: Child) -> Result<(), Failure> {
    if let Ok(Some(_)) = child.try_wait() {
        return Ok(());
    }
    // pg_ctl rather than `kill`: it comes with the server, and it checks the pid file.
    let _ = pg.pg_ctl(data_dir, &["stop", "-m", "fast", "-W"]);
    let deadline = Instant::now() + STOP_TIMEOUT;
    while Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return Ok(());
        }
        thread::sleep(POLL_INTERVAL);
    }
    let _ = child.kill();
    let _ = child.wait();
    Err(Failure::NotStopped(STOP_TIMEOUT))
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

/// A failure as the caller sees it: with the port and what the server logged about it.
pub(crate) fn explain(port: u16, log: &Path, failure: Failure) -> Error {
    Error::Server {
        port,
        failure,
        log: log.to_owned(),
        log_tail: log_tail(log),
    }
}
