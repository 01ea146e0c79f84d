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
    pid_file(data_dir).is_some_and(|f| f.pid == pid && f.ready)
}

/// What a running server's `postmaster.pid` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PidFile {
    /// Line 1: the postmaster's process id.
    pub(crate) pid: u32,
    /// Line 4: the port it listens on.
    pub(crate) port: Option<u16>,
    /// Line 8: `ready` once it accepts connections.
    pub(crate) ready: bool,
}

/// `data_dir`'s `postmaster.pid`, read; `None` when there is none (the server is not running).
pub(crate) fn pid_file(data_dir: &Path) -> Option<PidFile> {
    let text = fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    Some(PidFile {
        pid: lines.first()?.parse().ok()?,
        port: lines.get(3).and_then(|l| l.parse().ok()),
        ready: lines.get(7) == Some(&"ready"),
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pid_file_is_read_line_by_line() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(pid_file(dir.path()), None);
        let path = dir.path().join("postmaster.pid");
        fs::write(
            &path,
            "4242\n/data\n1700000000\n5433\n\n127.0.0.1\n  1 2\nready   \n",
        )
        .unwrap();
        let ready = PidFile {
            pid: 4242,
            port: Some(5433),
            ready: true,
        };
        assert_eq!(pid_file(dir.path()), Some(ready));
        assert!(accepts_connections(dir.path(), 4242));
        assert!(
            !accepts_connections(dir.path(), 4243),
            "a file left by another run"
        );
        fs::write(
            &path,
            "4242\n/data\n1700000000\n5433\n\n127.0.0.1\n  1 2\nstarting\n",
        )
        .unwrap();
        assert!(!accepts_connections(dir.path(), 4242));
        fs::write(&path, "not a pid\n").unwrap();
        assert_eq!(pid_file(dir.path()), None);
    }
}
