//! One PostgreSQL cluster for tests: an `intowork_pglocal::Server` in one of three flavours,
//! with panicking calls and one lazily started shared cluster per flavour and test binary.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use intowork_pglocal::{Server, ServerOptions, Tls, Validity, certs};

use crate::harness::{fail, new_dir, pg, template};

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
    fn tls(self) -> Tls {
        match self {
            Flavor::TlsOnly => Tls::RailwayLike,
            Flavor::Verified => Tls::CaSigned,
            Flavor::PlaintextOnly => Tls::Off,
        }
    }
}

/// One running PostgreSQL cluster (superuser `postgres`, trusted over its unix socket only).
#[derive(Debug)]
pub struct PgServer {
    flavor: Flavor,
    /// Stopped, and its directory removed, when dropped.
    server: Server,
    root_cert: PathBuf,
    wrong_ca: PathBuf,
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
            flavor.tls() != Tls::Off,
            "start_with_cert_expiring_in_days: {flavor:?} serves no certificate; use Flavor::TlsOnly or Flavor::Verified"
        );
        PgServer::create(flavor, None, Validity::ExpiresInDays(days))
    }

    /// Same as [`PgServer::start`], on a port chosen by the caller (e.g. from
    /// [`crate::free_port`], for "the server comes up later" tests). Panics if the port is taken.
    pub fn start_on_port(flavor: Flavor, port: u16) -> PgServer {
        PgServer::create(flavor, Some(port), Validity::Forever)
    }

    /// Stops the server (fast shutdown: clients are disconnected) and waits until it has
    /// exited; keeps its files so that [`PgServer::restart`] can start it again.
    pub fn stop(&self) {
        self.server
            .stop()
            .unwrap_or_else(|e| fail(&format!("{:?} ", self.flavor), &e));
    }

    /// Starts the server again on the same port and data directory (stopping it first if it
    /// runs) and waits until it accepts connections.
    pub fn restart(&self) {
        self.server
            .restart()
            .unwrap_or_else(|e| fail(&format!("{:?} ", self.flavor), &e));
    }

    /// `localhost`: the name in the certificates.
    pub fn host(&self) -> &str {
        self.server.host()
    }

    pub fn port(&self) -> u16 {
        self.server.port()
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
        self.server.cert_sha256()
    }

    /// The server's log (stdout and stderr, every start appended): read it when a test fails.
    pub fn log_path(&self) -> PathBuf {
        self.server.log_path()
    }

    pub(crate) fn inner(&self) -> &Server {
        &self.server
    }

    fn create(flavor: Flavor, port: Option<u16>, validity: Validity) -> PgServer {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let started = Instant::now();
        // First, so that a machine without PostgreSQL hears how to install it.
        let pg = pg();
        let options = ServerOptions {
            tls: flavor.tls(),
            validity,
            port,
            max_connections: 200,
            template: Some(template().to_owned()),
        };
        let dir = new_dir(&NEXT.fetch_add(1, Ordering::Relaxed).to_string());
        let server =
            Server::start(pg, dir, &options).unwrap_or_else(|e| fail(&format!("{flavor:?} "), &e));
        let root_cert = match server.root_cert_path() {
            Some(path) => path.to_owned(),
            // The server has no TLS; clients still get a real file to point `sslrootcert` at.
            None => write_pem(&server, "root.crt", || {
                certs::railway_like(Validity::Forever).map(|c| c.cert_pem)
            }),
        };
        let wrong_ca = write_pem(&server, "wrong-ca.crt", certs::unrelated_ca);
        // Shown with a failing test's output: where to look, and how long it took.
        eprintln!(
            "intowork-testkit: {flavor:?} server on port {} ready in {:.2?} (log: {})",
            server.port(),
            started.elapsed(),
            server.log_path().display()
        );
        PgServer {
            flavor,
            server,
            root_cert,
            wrong_ca,
        }
    }
}

/// A generated PEM file in the cluster's directory (removed with it).
fn write_pem(
    server: &Server,
    name: &str,
    generate: impl FnOnce() -> Result<String, certs::CertError>,
) -> PathBuf {
    let path = server.dir().join(name);
    let pem = generate().unwrap_or_else(|e| fail(&format!("{name}: "), &e));
    fs::write(&path, pem).unwrap_or_else(|e| fail(&format!("write {}: ", path.display()), &e));
    path
}
