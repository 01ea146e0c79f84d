//! One PostgreSQL cluster: created from the initdb template, started, stopped, restarted.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Instant;

use crate::binaries::binaries;
use crate::certs::{self, Validity};
use crate::config;
use crate::ports::free_port;
use crate::postmaster::{self, LaunchFailure};
use crate::server_user::give_to_server;
use crate::template::copy_template_to;
use crate::workdir::next_cluster_dir;

/// A port from [`free_port`] can be taken by someone else before the server binds it.
const PORT_ATTEMPTS: u32 = 5;

/// How a cluster accepts TCP connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// `ssl=on`, `hostssl` only; a self-signed certificate for `localhost` flagged CA:TRUE,
    /// shaped like Railway's.
    TlsOnly,
    /// `ssl=on`, `hostssl` only; a CA:FALSE certificate for `localhost` signed by a test CA.
    Verified,
    /// `ssl=off`: the server answers `N` to SSLRequest.
    PlaintextOnly,
}

impl Flavor {
    pub(crate) fn has_tls(self) -> bool {
        !matches!(self, Flavor::PlaintextOnly)
    }
}

/// One running PostgreSQL cluster (superuser `postgres`, trusted over its unix socket only).
#[derive(Debug)]
pub struct PgServer {
    flavor: Flavor,
    port: u16,
    /// `<tmp>/intowork-testkit/<pid>-<n>`: everything of this cluster, removed on drop.
    dir: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    root_cert: PathBuf,
    wrong_ca: PathBuf,
    cert_sha256: Option<String>,
    /// `None` while stopped.
    postmaster: Mutex<Option<Child>>,
}

impl PgServer {
    /// Shared per test binary, started lazily once, never stopped by tests (it dies with the
    /// test process). Do not `stop()` it: other tests use it concurrently.
    pub fn shared(flavor: Flavor) -> &'static PgServer {
        static TLS_ONLY: OnceLock<PgServer> = OnceLock::new();
        static VERIFIED: OnceLock<PgServer> = OnceLock::new();
        static PLAINTEXT_ONLY: OnceLock<PgServer> = OnceLock::new();
        let cell = match flavor {
            Flavor::TlsOnly => &TLS_ONLY,
            Flavor::Verified => &VERIFIED,
            Flavor::PlaintextOnly => &PLAINTEXT_ONLY,
        };
        cell.get_or_init(|| PgServer::create(flavor, None, Validity::Forever))
    }

    /// A dedicated cluster owned by the caller; dropping it stops it and removes its files.
    pub fn start(flavor: Flavor) -> PgServer {
        PgServer::create(flavor, None, Validity::Forever)
    }

    /// Same as [`PgServer::start`], with a server certificate that expires `days` days from
    /// now (negative: expired that long ago) and became valid a day before the earlier of now
    /// and its expiry — for "certificate expires soon" checks. PostgreSQL serves it either
    /// way, and libpq's `sslmode=require` does not look at dates. [`PgServer::cert_sha256`]
    /// and, for [`Flavor::TlsOnly`], [`PgServer::root_cert_path`] describe this certificate;
    /// for [`Flavor::Verified`] only the leaf expires, not the test CA.
    ///
    /// Panics for [`Flavor::PlaintextOnly`] (it serves no certificate) and beyond a century
    /// either way.
    pub fn start_with_cert_expiring_in_days(flavor: Flavor, days: i64) -> PgServer {
        assert!(
            flavor.has_tls(),
            "start_with_cert_expiring_in_days: {flavor:?} serves no certificate; use Flavor::TlsOnly or Flavor::Verified"
        );
        PgServer::create(flavor, None, Validity::ExpiresInDays(days))
    }

    /// Same as [`PgServer::start`], on a port chosen by the caller (e.g. from [`free_port`],
    /// for "the server comes up later" tests). Panics if the port is taken.
    pub fn start_on_port(flavor: Flavor, port: u16) -> PgServer {
        PgServer::create(flavor, Some(port), Validity::Forever)
    }

    /// Stops the server (fast shutdown: clients are disconnected) and waits until it has
    /// exited; keeps its files so that [`PgServer::restart`] can start it again.
    pub fn stop(&self) {
        let running = self.lock_postmaster().take();
        if let Some(child) = running {
            self.shut_down(child);
        }
    }

    /// Starts the server again on the same port and data directory (stopping it first if it
    /// runs) and waits until it accepts connections.
    pub fn restart(&self) {
        let mut postmaster = self.lock_postmaster();
        if let Some(child) = postmaster.take() {
            self.shut_down(child);
        }
        match postmaster::launch(&self.data_dir) {
            Ok(child) => *postmaster = Some(child),
            Err(failure) => panic!("{}", self.explain(&failure)),
        }
    }

    /// `localhost`: the name in the certificates.
    pub fn host(&self) -> &str {
        "localhost"
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// A PEM file for a client's `sslrootcert`: the test CA for [`Flavor::Verified`], the
    /// self-signed server certificate itself for [`Flavor::TlsOnly`]. For
    /// [`Flavor::PlaintextOnly`], a certificate the server never presents (it has no TLS).
    pub fn root_cert_path(&self) -> &Path {
        &self.root_cert
    }

    /// PEM of a CA unrelated to this server's certificate (for "wrong CA" tests).
    pub fn wrong_ca_path(&self) -> &Path {
        &self.wrong_ca
    }

    /// SHA-256 of the DER server certificate, lowercase hex, 64 characters, no colons
    /// (`None` for [`Flavor::PlaintextOnly`]).
    pub fn cert_sha256(&self) -> Option<&str> {
        self.cert_sha256.as_deref()
    }

    /// The server's log (stdout and stderr, every start appended): read it when a test fails.
    pub fn log_path(&self) -> PathBuf {
        postmaster::log_path(&self.data_dir)
    }

    pub(crate) fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    fn create(flavor: Flavor, port: Option<u16>, validity: Validity) -> PgServer {
        let started = Instant::now();
        // First, so that a machine without PostgreSQL hears how to install it.
        binaries();
        let dir = next_cluster_dir();
        let data_dir = dir.join("data");
        let socket_dir = dir.join("s");
        copy_template_to(&data_dir);
        fs::create_dir(&socket_dir).expect("create the socket directory");
        give_to_server(&socket_dir);
        config::include_settings(&data_dir);
        config::write_hba(&data_dir, flavor);
        let (cert_sha256, root_pem) = config::install_certificates(&data_dir, flavor, validity);
        let root_cert = dir.join("root.crt");
        fs::write(&root_cert, root_pem).expect("write root.crt");
        let wrong_ca = dir.join("wrong-ca.crt");
        fs::write(&wrong_ca, certs::unrelated_ca()).expect("write wrong-ca.crt");

        // From here on, a panic drops `server`, which removes `dir`.
        let mut server = PgServer {
            flavor,
            port: 0,
            dir,
            data_dir,
            socket_dir,
            root_cert,
            wrong_ca,
            cert_sha256,
            postmaster: Mutex::new(None),
        };
        for attempt in 1..=PORT_ATTEMPTS {
            server.port = port.unwrap_or_else(free_port);
            config::write_settings(&server.data_dir, flavor, server.port, &server.socket_dir);
            match postmaster::launch(&server.data_dir) {
                Ok(child) => {
                    *server.lock_postmaster() = Some(child);
                    // Shown with a failing test's output: where to look, and how long it took.
                    eprintln!(
                        "intowork-testkit: {flavor:?} server on port {} ready in {:.2?} (log: {})",
                        server.port,
                        started.elapsed(),
                        server.log_path().display()
                    );
                    return server;
                }
                Err(LaunchFailure::PortTaken) if port.is_none() && attempt < PORT_ATTEMPTS => {}
                Err(failure) => panic!("{}", server.explain(&failure)),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    fn shut_down(&self, child: Child) {
        if let Err(failure) = postmaster::shut_down(&self.data_dir, child) {
            panic!("{}", self.explain(&failure));
        }
    }

    /// A failure, with what the server logged about it.
    fn explain(&self, failure: &dyn std::fmt::Display) -> String {
        format!(
            "intowork-testkit: PostgreSQL ({:?}, port {}) {failure}; last lines of {}:\n{}",
            self.flavor,
            self.port,
            self.log_path().display(),
            postmaster::log_tail(&self.data_dir)
        )
    }

    fn lock_postmaster(&self) -> MutexGuard<'_, Option<Child>> {
        // A panicking test must not make the server unstoppable.
        self.postmaster
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        // No panics here: this also runs while a failed test unwinds.
        let running = self
            .postmaster
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(child) = running
            && let Err(failure) = postmaster::shut_down(&self.data_dir, child)
        {
            eprintln!("{}", self.explain(&failure));
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}
