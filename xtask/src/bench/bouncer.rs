//! A PgBouncer for the bench: Debian's (1.18), in front of the bench's TLS-only cluster, as
//! Railway's PgBouncer template runs — transaction pooling, TLS to clients (its own
//! certificate, generated) and to the server (`require`, the template's SERVER_TLS_SSLMODE),
//! SCRAM. It runs as the server account (PgBouncer refuses root) and dies with this process.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use intowork_pglocal::{Database, Pg, certs, free_port, random_alphanumeric, write_private_file};

use crate::util::child::terminate;

/// Server connections PgBouncer may open: the backend's own pool size (DATABASE_MAX_CONNECTIONS
/// default), so the two sides of the comparison hold the same number of sessions.
pub(crate) const SERVER_CONNECTIONS: u32 = 10;

#[derive(Debug)]
pub(crate) struct Bouncer {
    child: Option<Child>,
    pub(crate) port: u16,
}

impl Bouncer {
    /// Started in `dir` for `db`, listening (10 s at most).
    pub(crate) fn start(
        pg: &Pg,
        program: &Path,
        dir: &Path,
        db: &Database,
    ) -> anyhow::Result<Bouncer> {
        std::fs::create_dir_all(dir)?;
        pg.user.give(dir)?;
        let cert = certs::railway_like(certs::Validity::Forever)?;
        let files = [
            ("pgbouncer.crt", cert.cert_pem.clone()),
            ("pgbouncer.key", cert.key_pem.clone()),
            (
                "userlist.txt",
                format!(
                    "\"{}\" \"{}\"\n\"bench_admin\" \"{}\"\n",
                    db.user,
                    db.password,
                    random_alphanumeric(32)
                ),
            ),
        ];
        for (name, text) in &files {
            let path = dir.join(name);
            write_private_file(&path, text)?;
            pg.user.give(&path)?;
        }
        let port = free_port()?;
        let ini = dir.join("pgbouncer.ini");
        write_private_file(&ini, &ini_text(dir, port, db))?;
        pg.user.give(&ini)?;
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("pgbouncer.log"))?;
        let args = [OsString::from(&ini)];
        let child = intowork_pglocal::spawn_supervised(pg, program, &args, dir, log, "TERM")
            .with_context(|| format!("failed to start `{}`", program.display()))?;
        let mut bouncer = Bouncer {
            child: Some(child),
            port,
        };
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = bouncer
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            anyhow::ensure!(
                exited.is_none() && start.elapsed() < Duration::from_secs(10),
                "PgBouncer did not listen on port {port}; see {}",
                dir.join("pgbouncer.log").display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(bouncer)
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub(crate) fn stop(mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            terminate(&mut child)?;
        }
        Ok(())
    }
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn ini_text(dir: &Path, port: u16, db: &Database) -> String {
    let file = |name: &str| -> PathBuf { dir.join(name) };
    format!(
        "[databases]\n{name} = host={host} port={db_port} dbname={name}\n\n[pgbouncer]\n\
         listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
         auth_type = scram-sha-256\nauth_file = {auth}\nadmin_users = bench_admin\n\
         pool_mode = transaction\ndefault_pool_size = {SERVER_CONNECTIONS}\nmax_client_conn = 200\n\
         ignore_startup_parameters = extra_float_digits\n\
         client_tls_sslmode = require\nclient_tls_cert_file = {cert}\nclient_tls_key_file = {key}\n\
         server_tls_sslmode = require\n",
        name = db.name,
        host = db.host,
        db_port = db.port,
        auth = file("userlist.txt").display(),
        cert = file("pgbouncer.crt").display(),
        key = file("pgbouncer.key").display(),
    )
}
