//! PgBouncer's files: `pgbouncer.ini`, the auth file, and its own TLS certificate and key.
//! Everything is generated for one run (passwords, keys) and readable only by the account
//! PgBouncer runs as.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use intowork_pglocal::{ServerUser, certs, ipv6_loopback};

use super::{BouncerOptions, PoolMode};
use crate::sql::TestDb;

/// The admin console's account (`admin_users`, `stats_users`): `SHOW POOLS`, `SHOW SERVERS`…
pub(crate) const ADMIN_USER: &str = "testkit_admin";

/// Where PgBouncer's own files go, in its directory.
#[derive(Debug, Clone)]
pub(crate) struct Files {
    pub(crate) ini: PathBuf,
    /// PgBouncer's certificate, for a client's `sslrootcert` (self-signed, CA-flagged and for
    /// `localhost`, like the harness's TLS-only PostgreSQL and like Railway's).
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
    pub(crate) auth_file: PathBuf,
}

impl Files {
    pub(crate) fn in_dir(dir: &Path) -> Files {
        Files {
            ini: dir.join("pgbouncer.ini"),
            cert: dir.join("pgbouncer.crt"),
            key: dir.join("pgbouncer.key"),
            auth_file: dir.join("userlist.txt"),
        }
    }

    /// The certificate and the auth file: once per PgBouncer (the port may change between
    /// attempts, these do not).
    pub(crate) fn write_secrets(
        &self,
        user: ServerUser,
        databases: &[&TestDb],
        admin_password: &str,
    ) -> io::Result<()> {
        let cert = certs::railway_like(certs::Validity::Forever).map_err(io::Error::other)?;
        fs::write(&self.cert, &cert.cert_pem)?;
        user.give(&self.cert)?;
        write_private(user, &self.key, &cert.key_pem)?;
        // Plain text: with `auth_type = scram-sha-256` PgBouncer answers the client's SCRAM
        // exchange and logs in to the server with the same password (SCRAM too).
        let mut auth = format!("\"{ADMIN_USER}\" \"{admin_password}\"\n");
        for db in databases {
            writeln!(auth, "\"{}\" \"{}\"", db.user, db.password).expect("a String");
        }
        write_private(user, &self.auth_file, &auth)
    }

    /// `pgbouncer.ini` for `port`: the databases in front of `server_port`, TLS to clients
    /// (`require`) and to the server (`verify-full` against the server's own certificate).
    pub(crate) fn write_ini(
        &self,
        user: ServerUser,
        port: u16,
        server: (u16, &Path),
        databases: &[&TestDb],
        options: &BouncerOptions,
    ) -> io::Result<()> {
        let (server_port, server_root) = server;
        let mut ini = String::from("[databases]\n");
        for db in databases {
            writeln!(
                ini,
                "{0} = host=localhost port={server_port} dbname={0}",
                db.name
            )
            .expect("a String");
        }
        let listen = if ipv6_loopback() {
            "127.0.0.1,::1"
        } else {
            "127.0.0.1"
        };
        let mode = match options.pool_mode {
            PoolMode::Transaction => "transaction",
            PoolMode::Session => "session",
        };
        let settings = [
            ("listen_addr", listen.to_owned()),
            ("listen_port", port.to_string()),
            // No unix socket: a stray `/tmp/.s.PGSQL.<port>` would outlive a killed run.
            ("unix_socket_dir", String::new()),
            ("auth_type", "scram-sha-256".to_owned()),
            ("auth_file", display(&self.auth_file)),
            ("admin_users", ADMIN_USER.to_owned()),
            ("stats_users", ADMIN_USER.to_owned()),
            ("pool_mode", mode.to_owned()),
            ("default_pool_size", options.default_pool_size.to_string()),
            ("max_client_conn", options.max_client_conn.to_string()),
            // sqlx sends it at start-up; Railway's image ignores it too (its entrypoint.sh).
            ("ignore_startup_parameters", "extra_float_digits".to_owned()),
            ("client_tls_sslmode", "require".to_owned()),
            ("client_tls_cert_file", display(&self.cert)),
            ("client_tls_key_file", display(&self.key)),
            ("server_tls_sslmode", "verify-full".to_owned()),
            ("server_tls_ca_file", display(server_root)),
            ("log_connections", "1".to_owned()),
            ("log_disconnections", "1".to_owned()),
        ];
        ini.push_str("\n[pgbouncer]\n");
        for (key, value) in settings {
            writeln!(ini, "{key} = {value}").expect("a String");
        }
        fs::write(&self.ini, ini)?;
        user.give(&self.ini)
    }
}

/// Created 0600 (never readable by others), then given to PgBouncer's account.
fn write_private(user: ServerUser, path: &Path, text: &str) -> io::Result<()> {
    intowork_pglocal::write_private_file(path, text).map_err(io::Error::other)?;
    user.give(path)
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
