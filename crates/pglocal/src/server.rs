//! A throwaway cluster: created in a directory of its own, run as our supervised child (it
//! cannot outlive this process, see `spawner.rs`), stopped and deleted when dropped.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use xshell::{Shell, cmd};

use crate::certs::{self, Validity};
use crate::conf::{self, Durability, Settings};
use crate::error::{Error, Failure};
use crate::pg::{Pg, program_error};
use crate::ports::free_port;
use crate::postmaster;
use crate::psql::{Access, Database, Superuser};
use crate::workdir::Workdir;

/// A port from [`free_port`] can be taken by someone else before the server binds it.
const PORT_ATTEMPTS: u32 = 5;
/// Where [`Server::throwaway`] puts its clusters: `<tmp>/intowork-pglocal/<pid>-<n>`.
const THROWAWAY_TREE: &str = "intowork-pglocal";

/// How the cluster accepts TCP connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tls {
    /// `ssl=on`, `hostssl` only; a self-signed certificate for `localhost` flagged CA:TRUE,
    /// shaped like Railway's.
    RailwayLike,
    /// `ssl=on`, `hostssl` only; a CA:FALSE certificate for `localhost` signed by a fresh CA.
    CaSigned,
    /// `ssl=off`: the server answers `N` to SSLRequest.
    Off,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOptions {
    pub tls: Tls,
    /// Of the server certificate (for [`Tls::CaSigned`], of the leaf only).
    pub validity: Validity,
    /// `None`: a free port, another one if it is taken meanwhile.
    pub port: Option<u16>,
    pub max_connections: u32,
    /// A data directory made by `initdb` earlier, copied instead of running `initdb` (the
    /// slow step) again; it must belong to the server account.
    pub template: Option<PathBuf>,
}

impl Default for ServerOptions {
    /// TLS only like Railway's, on a free port, room for a test suite's connections.
    fn default() -> ServerOptions {
        ServerOptions {
            tls: Tls::RailwayLike,
            validity: Validity::Forever,
            port: None,
            max_connections: 200,
            template: None,
        }
    }
}

/// One running throwaway cluster (superuser `postgres`, trusted over its private unix socket
/// only; TCP with SCRAM, over TLS only unless [`Tls::Off`]).
#[derive(Debug)]
pub struct Server {
    pg: Pg,
    port: u16,
    /// Everything of this cluster, removed on drop.
    dir: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    root_cert: Option<PathBuf>,
    cert_sha256: Option<String>,
    /// `None` while stopped.
    postmaster: Mutex<Option<Child>>,
}

impl Server {
    /// A TLS-only cluster like Railway's, in a fresh directory under the system temp dir:
    ///
    /// ```no_run
    /// let server = intowork_pglocal::Server::throwaway()?;
    /// let db = server.create_database("scratch")?;
    /// println!("{}", db.url("sslmode=require")); // postgres://scratch:…@localhost:PORT/scratch?…
    /// drop(server); // stops it and deletes its files
    /// # Ok::<(), intowork_pglocal::Error>(())
    /// ```
    pub fn throwaway() -> Result<Server, Error> {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let pg = Pg::find()?;
        let dir = Workdir::open(THROWAWAY_TREE, pg.user)?
            .new_dir(&NEXT.fetch_add(1, Ordering::Relaxed).to_string())?;
        Server::start(&pg, dir, &ServerOptions::default())
    }

    /// Creates a cluster in `dir` (empty, writable by the server account, as
    /// [`Workdir::new_dir`] makes them) and starts it. `dir` is deleted when the server is
    /// dropped, or at once if this fails.
    pub fn start(pg: &Pg, dir: PathBuf, options: &ServerOptions) -> Result<Server, Error> {
        let mut server = Server {
            pg: pg.clone(),
            port: 0,
            data_dir: dir.join("data"),
            socket_dir: dir.join("s"),
            dir,
            root_cert: None,
            cert_sha256: None,
            postmaster: Mutex::new(None),
        };
        server.write_files(options)?;
        server.launch_on_a_port(options)?;
        Ok(server)
    }

    /// `initdb` into `<dir>/data` (`dir` as [`Workdir::new_dir`] makes them), for
    /// [`ServerOptions::template`]: clusters copied from it skip the slow step.
    pub fn make_template(pg: &Pg, dir: &Path) -> Result<PathBuf, Error> {
        let data = dir.join("data");
        pg.initdb(&data, None, Durability::Throwaway)?;
        Ok(data)
    }

    /// Stops the server (fast shutdown: clients are disconnected) and waits until it has
    /// exited; keeps its files so that [`Server::restart`] can start it again.
    pub fn stop(&self) -> Result<(), Error> {
        let running = self.lock_postmaster().take();
        match running {
            Some(child) => postmaster::shut_down(&self.pg, &self.data_dir, child)
                .map_err(|failure| self.explain(failure)),
            None => Ok(()),
        }
    }

    /// Starts the server again on the same port and data directory (stopping it first if it
    /// runs) and waits until it accepts connections.
    pub fn restart(&self) -> Result<(), Error> {
        let mut postmaster = self.lock_postmaster();
        if let Some(child) = postmaster.take() {
            postmaster::shut_down(&self.pg, &self.data_dir, child)
                .map_err(|failure| self.explain(failure))?;
        }
        let child = postmaster::launch(&self.pg, &self.data_dir)
            .map_err(|failure| self.explain(failure))?;
        *postmaster = Some(child);
        Ok(())
    }

    /// `localhost`: the name in the certificates.
    pub fn host(&self) -> &str {
        "localhost"
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster's directory (deleted on drop): a place for the caller's files too.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// A PEM file for a client's `sslrootcert`: the self-signed server certificate itself for
    /// [`Tls::RailwayLike`], the CA for [`Tls::CaSigned`]; `None` for [`Tls::Off`].
    pub fn root_cert_path(&self) -> Option<&Path> {
        self.root_cert.as_deref()
    }

    /// SHA-256 of the DER server certificate, lowercase hex, 64 characters, no colons
    /// (`None` for [`Tls::Off`]).
    pub fn cert_sha256(&self) -> Option<&str> {
        self.cert_sha256.as_deref()
    }

    /// The server's log (stdout and stderr, every start appended).
    pub fn log_path(&self) -> PathBuf {
        postmaster::log_path(&self.data_dir)
    }

    pub fn superuser(&self) -> Superuser {
        Superuser {
            psql: self.pg.binaries.psql.clone(),
            port: self.port,
            access: Access::Socket(self.socket_dir.clone()),
        }
    }

    /// A database and a login role named `name`, with a random password.
    pub fn create_database(&self, name: &str) -> Result<Database, Error> {
        self.superuser().create_database(name)
    }

    fn write_files(&mut self, options: &ServerOptions) -> Result<(), Error> {
        let user = self.pg.user;
        match &options.template {
            Some(template) => copy_data_dir(template, &self.data_dir)?,
            None => self
                .pg
                .initdb(&self.data_dir, None, Durability::Throwaway)?,
        }
        conf::server_dir(&self.socket_dir, user)?;
        conf::include_settings(&self.data_dir)?;
        conf::write_hba(&self.data_dir, user, options.tls != Tls::Off, true)?;
        let (server_cert, root_pem) = match options.tls {
            Tls::RailwayLike => {
                let cert = certs::railway_like(options.validity)?;
                let root = cert.cert_pem.clone();
                (cert, root)
            }
            Tls::CaSigned => certs::ca_signed(options.validity)?,
            Tls::Off => return Ok(()),
        };
        conf::install_certificate(&self.data_dir, user, &server_cert)?;
        let root_cert = self.dir.join("root.crt");
        fs::write(&root_cert, root_pem).map_err(Error::io("write", &root_cert))?;
        self.root_cert = Some(root_cert);
        self.cert_sha256 = Some(server_cert.sha256_hex);
        Ok(())
    }

    fn launch_on_a_port(&mut self, options: &ServerOptions) -> Result<(), Error> {
        for attempt in 1..=PORT_ATTEMPTS {
            self.port = match options.port {
                Some(port) => port,
                None => free_port()?,
            };
            let settings = Settings {
                port: self.port,
                tls: options.tls != Tls::Off,
                socket_dir: Some(&self.socket_dir),
                max_connections: options.max_connections,
                durability: Durability::Throwaway,
            };
            conf::write_settings(&self.data_dir, self.pg.user, &settings)?;
            match postmaster::launch(&self.pg, &self.data_dir) {
                Ok(child) => {
                    *self.lock_postmaster() = Some(child);
                    return Ok(());
                }
                Err(Failure::PortTaken) if options.port.is_none() && attempt < PORT_ATTEMPTS => {}
                Err(failure) => return Err(self.explain(failure)),
            }
        }
        unreachable!("the last attempt returns")
    }

    fn explain(&self, failure: Failure) -> Error {
        postmaster::explain(self.port, &self.log_path(), failure)
    }

    fn lock_postmaster(&self) -> MutexGuard<'_, Option<Child>> {
        // A panicking caller must not make the server unstoppable.
        self.postmaster
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // No panics here: this also runs while a failed test unwinds.
        let running = self
            .postmaster
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(child) = running
            && let Err(failure) = postmaster::shut_down(&self.pg, &self.data_dir, child)
        {
            eprintln!("intowork-pglocal: {}", self.explain(failure));
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Copies a data directory, keeping owners and modes: PostgreSQL insists its data directory
/// is private to its owner.
fn copy_data_dir(from: &Path, to: &Path) -> Result<(), Error> {
    let sh = Shell::new().map_err(program_error("cp"))?;
    cmd!(sh, "cp -a {from} {to}")
        .quiet()
        .run()
        .map_err(program_error("cp"))
}
