//! A real PgBouncer (Debian's `pgbouncer` package) in front of a harness server, the way
//! Railway's PgBouncer service sits in front of its database: transaction pooling by default,
//! TLS to clients (its own certificate, generated for the run, self-signed for `localhost`
//! like Railway's) and TLS to the server (`verify-full` against the server's certificate).
//!
//! ```no_run
//! use intowork_testkit::{Flavor, PgBouncer, PgServer};
//!
//! let server = PgServer::shared(Flavor::TlsOnly);
//! let db = server.create_database();
//! let bouncer = PgBouncer::start(server, &[&db]);
//! let through_the_pooler = bouncer.url(&db, "sslmode=require");
//! let pools = bouncer.show("SHOW POOLS");
//! # let _ = (through_the_pooler, pools);
//! ```
//!
//! PgBouncer refuses to run as root: as root it runs as the account the PostgreSQL servers
//! run as (`postgres`). Like them it is forked by pglocal's long-lived parent thread with a
//! parent-death signal (`intowork_pglocal::spawn_supervised`), so it dies with the test
//! process however that ends; [`PgBouncer::stop`] (and drop) sends SIGTERM — PgBouncer's
//! immediate shutdown — through `kill(2)` and waits for it to exit.

mod admin;
mod config;

use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::net::{Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use intowork_prereqs::PGBOUNCER;

pub use admin::Row;
use config::Files;

use crate::cluster::PgServer;
use crate::harness::{new_dir, pg};
use crate::process::{Signal, try_signal};
use crate::sql::TestDb;

/// Another process may take a free port before PgBouncer binds it.
const PORT_ATTEMPTS: u32 = 5;
const READY_TIMEOUT: Duration = Duration::from_secs(20);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(20);
/// What the kernel sends PgBouncer when the test process dies: its immediate shutdown.
const DEATH_SIGNAL: &str = "TERM";

/// When PgBouncer hands a server connection back to the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolMode {
    /// After each transaction (Railway's default): nothing session-scoped survives.
    Transaction,
    /// When the client disconnects.
    Session,
}

/// The pooler's knobs (`pool_mode`, `default_pool_size`, `max_client_conn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BouncerOptions {
    pub pool_mode: PoolMode,
    /// Server connections per database and user.
    pub default_pool_size: u32,
    pub max_client_conn: u32,
}

impl Default for BouncerOptions {
    /// Transaction pooling, few server connections (so that clients share them), room for
    /// many clients.
    fn default() -> BouncerOptions {
        BouncerOptions {
            pool_mode: PoolMode::Transaction,
            default_pool_size: 4,
            max_client_conn: 200,
        }
    }
}

/// One running PgBouncer, stopped (and its files removed) when dropped.
#[derive(Debug)]
pub struct PgBouncer {
    dir: PathBuf,
    port: u16,
    files: Files,
    /// The admin console's password (generated); never printed.
    admin_password: String,
    pid: u32,
    /// `None` once stopped.
    child: Mutex<Option<Child>>,
}

impl PgBouncer {
    /// A transaction-mode PgBouncer in front of `server` for `databases` (each reached under
    /// its own name, with its own role and password).
    pub fn start(server: &PgServer, databases: &[&TestDb]) -> PgBouncer {
        PgBouncer::start_with(server, databases, BouncerOptions::default())
    }

    /// [`PgBouncer::start`] with other knobs.
    pub fn start_with(
        server: &PgServer,
        databases: &[&TestDb],
        options: BouncerOptions,
    ) -> PgBouncer {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let started = Instant::now();
        let program = program();
        let pg = pg();
        let dir = new_dir(&format!(
            "pgbouncer{}",
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let files = Files::in_dir(&dir);
        let admin_password = intowork_pglocal::random_alphanumeric(32);
        files
            .write_secrets(pg.user, databases, &admin_password)
            .unwrap_or_else(|e| {
                panic!(
                    "intowork-testkit: PgBouncer's files in {}: {e}",
                    dir.display()
                )
            });
        let target = (server.port(), server.root_cert_path());
        for attempt in 1..=PORT_ATTEMPTS {
            let port = crate::free_port();
            files
                .write_ini(pg.user, port, target, databases, &options)
                .unwrap_or_else(|e| panic!("intowork-testkit: {}: {e}", files.ini.display()));
            match launch(&program, &dir, &files, port) {
                Ok(child) => {
                    eprintln!(
                        "intowork-testkit: PgBouncer ({:?} pooling) on port {port} in front of port {} ready in {:.2?} (log: {})",
                        options.pool_mode,
                        server.port(),
                        started.elapsed(),
                        log_path(&dir).display()
                    );
                    return PgBouncer {
                        pid: child.id(),
                        child: Mutex::new(Some(child)),
                        dir,
                        port,
                        files,
                        admin_password,
                    };
                }
                Err(Launch::PortTaken) if attempt < PORT_ATTEMPTS => continue,
                Err(failure) => panic!(
                    "intowork-testkit: PgBouncer did not start: {failure}; log {}:\n{}",
                    log_path(&dir).display(),
                    fs::read_to_string(log_path(&dir)).unwrap_or_default()
                ),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    /// `localhost`: the name in PgBouncer's certificate.
    pub fn host(&self) -> &str {
        "localhost"
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// PgBouncer's process id (to signal it, or to find it in the process table).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// `db`'s URL through the pooler: `postgres://user:password@localhost:<port>/name?{query}`.
    pub fn url(&self, db: &TestDb, query: &str) -> String {
        db.url_with_host_port(self.host(), self.port, query)
    }

    /// PgBouncer's certificate (self-signed, CA-flagged), for a client's `sslrootcert`.
    pub fn root_cert_path(&self) -> &Path {
        &self.files.cert
    }

    /// PgBouncer's log (its stderr: connections, disconnections, errors).
    pub fn log_path(&self) -> PathBuf {
        log_path(&self.dir)
    }

    /// How many times a client logged in to `db` through this PgBouncer (its log's `login
    /// attempt: db=…` lines): 0 proves nothing was sent through it.
    pub fn logins(&self, db: &TestDb) -> usize {
        let log = fs::read_to_string(self.log_path()).unwrap_or_default();
        let needle = format!("login attempt: db={} ", db.name);
        log.lines().filter(|l| l.contains(&needle)).count()
    }

    /// An admin console command (`SHOW POOLS`, `SHOW SERVERS`, `SHOW STATS`, `SHOW CONFIG`…),
    /// its rows by column name.
    pub fn show(&self, command: &str) -> Vec<Row> {
        admin::show(self.port, &self.admin_password, command)
    }

    /// SIGTERM (PgBouncer's immediate shutdown: clients are disconnected), then waits until
    /// the process is gone; after a timeout it is killed. Idempotent.
    pub fn stop(&self) {
        let running = self
            .child
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(child) = running {
            shut_down(child);
        }
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        // No panics here (stop has none): this also runs while a failed test unwinds.
        self.stop();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The `pgbouncer` program (on PATH, or in Debian's `/usr/sbin`), or a panic saying how to
/// install it.
fn program() -> PathBuf {
    intowork_pglocal::find_program(&PGBOUNCER, "pgbouncer")
        .unwrap_or_else(|| panic!("intowork-testkit: {}", PGBOUNCER.not_installed("pgbouncer")))
}

fn log_path(dir: &Path) -> PathBuf {
    dir.join("pgbouncer.log")
}

#[derive(Debug)]
enum Launch {
    PortTaken,
    Exited(std::process::ExitStatus),
    NotReady(Duration),
    Spawn(std::io::Error),
}

impl std::fmt::Display for Launch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Launch::PortTaken => f.write_str("its port was taken"),
            Launch::Exited(status) => write!(f, "it exited ({status})"),
            Launch::NotReady(after) => write!(f, "it did not listen within {after:?}"),
            Launch::Spawn(e) => write!(f, "it could not be started: {e}"),
        }
    }
}

/// Starts PgBouncer on `port` and waits until it accepts TCP connections there.
fn launch(program: &Path, dir: &Path, files: &Files, port: u16) -> Result<Child, Launch> {
    let log_file = log_path(dir);
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_file)
        .map_err(Launch::Spawn)?;
    let log_start = log.metadata().map(|m| m.len()).unwrap_or(0);
    let args = [OsString::from(&files.ini)];
    let mut child =
        intowork_pglocal::spawn_supervised(pg(), program, &args, dir, log, DEATH_SIGNAL)
            .map_err(Launch::Spawn)?;
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().map_err(Launch::Spawn)? {
            let log = fs::read(&log_file).unwrap_or_default();
            let this_attempt =
                String::from_utf8_lossy(log.get(log_start as usize..).unwrap_or_default());
            return Err(if this_attempt.contains("Address already in use") {
                Launch::PortTaken
            } else {
                Launch::Exited(status)
            });
        }
        if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return Ok(child);
        }
        if Instant::now() > deadline {
            shut_down(child);
            return Err(Launch::NotReady(READY_TIMEOUT));
        }
        thread::sleep(POLL);
    }
}

/// SIGTERM through `kill(2)`, then a wait; SIGKILL after [`STOP_TIMEOUT`].
fn shut_down(mut child: Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = try_signal(child.id(), Signal::TERM);
    let deadline = Instant::now() + STOP_TIMEOUT;
    while Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        thread::sleep(POLL);
    }
    eprintln!(
        "intowork-testkit: PgBouncer (pid {}) still ran {STOP_TIMEOUT:?} after SIGTERM: killed",
        child.id()
    );
    let _ = child.kill();
    let _ = child.wait();
}
