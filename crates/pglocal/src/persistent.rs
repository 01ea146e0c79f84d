//! A cluster kept across runs in a directory of the caller's (`cargo xtask dev`'s
//! `target/dev`, `bench`'s `target/bench/pg`): created once, TLS only like Railway's, with
//! no unix socket and a generated superuser password; started with `pg_ctl` in a session of
//! its own, so it outlives this process until [`Persistent::stop`].
//!
//! Files in the directory: `data-dir` (where the data directory is), `superuser.pw`
//! (mode 0600), `pgdata/` and `postgres.log` — the data directory lives elsewhere when the
//! server account cannot reach the directory (a checkout under /root, say).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::certs::{self, Validity};
use crate::conf::{self, Durability, Settings};
use crate::error::{Error, Failure};
use crate::pg::{Pg, Wrap};
use crate::ports::{free_port, is_free};
use crate::postmaster::{self, explain};
use crate::psql::{Access, Superuser, random_alphanumeric};

const DATA_POINTER: &str = "data-dir";
const PASSWORD_FILE: &str = "superuser.pw";
const LOG_FILE: &str = "postgres.log";
const SUPERUSER_PASSWORD_LEN: usize = 32;
/// How long `pg_ctl` waits for a start or a stop.
const PG_CTL_WAIT_SECS: &str = "60";
/// How long a stopped postmaster may take to leave the process table.
const EXIT_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Persistent {
    pg: Pg,
    dir: PathBuf,
    max_connections: u32,
}

/// What [`Persistent::start`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    pub port: u16,
    /// The cluster did not exist and was created (else it was reused).
    pub created: bool,
    /// It was running already (then nothing was started).
    pub was_running: bool,
}

impl Persistent {
    /// The cluster kept in `dir` (nothing is created until [`Persistent::start`]).
    pub fn new(pg: Pg, dir: impl Into<PathBuf>, max_connections: u32) -> Persistent {
        Persistent {
            pg,
            dir: dir.into(),
            max_connections,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the data directory is, once created.
    pub fn data_dir(&self) -> Option<PathBuf> {
        fs::read_to_string(self.dir.join(DATA_POINTER))
            .ok()
            .map(|s| PathBuf::from(s.trim()))
            .filter(|p| p.join("PG_VERSION").is_file())
    }

    /// The server's log, next to its data directory.
    pub fn log_path(&self) -> PathBuf {
        match self.data_dir() {
            Some(data) => data.with_file_name(LOG_FILE),
            None => self.dir.join(LOG_FILE),
        }
    }

    pub fn is_running(&self) -> bool {
        self.data_dir()
            .is_some_and(|data| self.pg.is_running(&data))
    }

    /// The port of the running server (from its `postmaster.pid`).
    pub fn port(&self) -> Option<u16> {
        postmaster::pid_file(&self.data_dir()?)?.port
    }

    /// The running server's process id (from its `postmaster.pid`): its sessions are its
    /// children.
    pub fn postmaster_pid(&self) -> Option<u32> {
        Some(postmaster::pid_file(&self.data_dir()?)?.pid)
    }

    /// Creates the cluster if it does not exist, and starts it unless it runs: on the port it
    /// had if that is free, else on a new one.
    pub fn start(&self) -> Result<Started, Error> {
        let (data, created) = match self.data_dir() {
            Some(data) => (data, false),
            None => (self.create()?, true),
        };
        if self.pg.is_running(&data)
            && let Some(port) = self.port()
        {
            return Ok(Started {
                port,
                created,
                was_running: true,
            });
        }
        let port = match conf::read_port(&data).filter(|&p| is_free(p)) {
            Some(port) => port,
            None => free_port()?,
        };
        let settings = Settings {
            port,
            tls: true,
            socket_dir: None,
            max_connections: self.max_connections,
            durability: Durability::Durable,
        };
        // Also brings clusters made by earlier versions to today's settings.
        conf::include_settings(&data)?;
        conf::write_settings(&data, self.pg.user, &settings)?;
        let log = self.log_path();
        if !log.exists() {
            fs::write(&log, "").map_err(Error::io("create", &log))?;
        }
        self.pg.user.give(&log).map_err(Error::io("chown", &log))?;
        let log_arg = log.display().to_string();
        let started = self.pg.pg_ctl_wrapped(
            &data,
            Wrap::NewSession,
            &["-l", &log_arg, "-w", "-t", PG_CTL_WAIT_SECS, "start"],
        );
        if started.is_err() {
            return Err(explain(port, &log, Failure::StartFailed));
        }
        Ok(Started {
            port,
            created,
            was_running: false,
        })
    }

    /// Fast shutdown (clients are disconnected); whether it was running.
    pub fn stop(&self) -> Result<bool, Error> {
        let Some(data) = self.data_dir() else {
            return Ok(false);
        };
        if !self.pg.is_running(&data) {
            return Ok(false);
        }
        let postmaster = postmaster::pid_file(&data).map(|f| f.pid);
        self.pg
            .pg_ctl(&data, &["-m", "fast", "-w", "-t", PG_CTL_WAIT_SECS, "stop"])?;
        // `pg_ctl -w` returns once the pid file is gone, which the postmaster removes while
        // it exits: wait until the process itself is gone, so "stopped" means nothing runs.
        if let Some(pid) = postmaster {
            let deadline = Instant::now() + EXIT_WAIT;
            while is_alive(pid) {
                if Instant::now() >= deadline {
                    return Err(Error::StillRunning {
                        pid,
                        waited: EXIT_WAIT,
                    });
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        Ok(true)
    }

    /// Stops the cluster and deletes it with its whole directory.
    pub fn remove(&self) -> Result<(), Error> {
        self.stop()?;
        if let Some(data) = self.data_dir()
            && let Some(outside) = data.parent().filter(|p| *p != self.dir)
        {
            fs::remove_dir_all(outside).map_err(Error::io("remove", outside))?;
        }
        if self.dir.exists() {
            fs::remove_dir_all(&self.dir).map_err(Error::io("remove", &self.dir))?;
        }
        Ok(())
    }

    /// The superuser, over TLS with its password (the cluster must run).
    pub fn superuser(&self) -> Result<Superuser, Error> {
        let file = self.dir.join(PASSWORD_FILE);
        let password = fs::read_to_string(&file).map_err(Error::io("read", &file))?;
        let port = self.port().ok_or_else(|| Error::Program {
            program: "postgres".to_owned(),
            detail: format!("the cluster in `{}` is not running", self.dir.display()),
        })?;
        Ok(Superuser {
            psql: self.pg.binaries.psql.clone(),
            port,
            access: Access::Tls {
                password: password.trim().to_owned(),
            },
        })
    }

    /// initdb with a generated superuser password, the Railway-like certificate, `hostssl`
    /// only; returns the data directory.
    fn create(&self) -> Result<PathBuf, Error> {
        let user = self.pg.user;
        fs::create_dir_all(&self.dir).map_err(Error::io("create", &self.dir))?;
        let data = self.data_location()?;
        let password = random_alphanumeric(SUPERUSER_PASSWORD_LEN);
        conf::write_private(
            &self.dir.join(PASSWORD_FILE),
            &password,
            crate::ServerUser::Current,
        )?;
        // initdb reads its copy as the server account, which may not reach `dir`.
        let for_initdb = data.with_file_name("initdb.pw");
        conf::write_private(&for_initdb, &password, user)?;
        let initdb = self
            .pg
            .initdb(&data, Some(&for_initdb), Durability::Durable);
        let _ = fs::remove_file(&for_initdb);
        if initdb.is_err() {
            // The next run starts over instead of tripping on a half-made directory.
            let _ = fs::remove_dir_all(&data);
        }
        initdb?;
        conf::install_certificate(&data, user, &certs::railway_like(Validity::Forever)?)?;
        // hostssl only: a plaintext client is rejected ("no encryption"), as TLS-only Railway
        // would reset it.
        conf::write_hba(&data, user, true, false)?;
        let pointer = self.dir.join(DATA_POINTER);
        fs::write(&pointer, data.display().to_string()).map_err(Error::io("write", &pointer))?;
        Ok(data)
    }

    /// `<dir>/pgdata`, unless the server account cannot reach it: then a directory of ours
    /// under the system temp dir, named after `dir`.
    fn data_location(&self) -> Result<PathBuf, Error> {
        let user = self.pg.user;
        let inside = self.dir.join("pgdata");
        let parent = if user.can_reach(&inside) {
            self.dir.clone()
        } else {
            let hash: u64 = self
                .dir
                .to_string_lossy()
                .bytes()
                .fold(0xcbf2_9ce4_8422_2325, |h, b| {
                    (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
                });
            let name = format!("intowork-pglocal-{hash:016x}");
            let tmp = env::temp_dir().join(&name);
            if user.can_reach(&tmp) {
                tmp
            } else {
                Path::new("/tmp").join(name)
            }
        };
        let data = parent.join("pgdata");
        if parent != self.dir {
            conf::server_dir(&parent, user)?;
        }
        conf::server_dir(&data, user)?;
        Ok(data)
    }
}

/// Whether `pid` still runs: present in /proc and not a zombie (Linux; elsewhere, assumed gone).
fn is_alive(pid: u32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state follows the command name, which is in parentheses and may hold spaces.
    let state = stat
        .rfind(')')
        .and_then(|i| stat[i + 1..].split_whitespace().next());
    !matches!(state, Some("Z" | "X"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_process_is_alive_and_a_reaped_one_is_not() {
        assert!(is_alive(std::process::id()));
        #[allow(clippy::disallowed_methods)]
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!is_alive(pid));
    }
}
