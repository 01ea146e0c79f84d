//! The files we own in a data directory: our settings in `pglocal.conf` (read last, so ours
//! win), `pg_hba.conf`, and the server's certificate and key.

use std::fmt::Write as _;
use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::certs::ServerCert;
use crate::error::Error;
use crate::ports::listen_addresses;
use crate::server_user::ServerUser;

/// Holds every setting we own; rewritten before each start (the port can change).
const SETTINGS_FILE: &str = "pglocal.conf";
const CERT_FILE: &str = "server.crt";
const KEY_FILE: &str = "server.key";

/// What a cluster is for: its settings follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Data thrown away with the cluster (tests, `prepare`): no fsync, small shared buffers,
    /// every connection logged for the test that fails.
    Throwaway,
    /// Data kept across runs (`dev`, `bench`): PostgreSQL's defaults.
    Durable,
}

#[derive(Debug, Clone)]
pub(crate) struct Settings<'a> {
    pub(crate) port: u16,
    pub(crate) tls: bool,
    /// `None`: no unix socket at all (TCP over TLS only).
    pub(crate) socket_dir: Option<&'a Path>,
    pub(crate) max_connections: u32,
    pub(crate) durability: Durability,
}

/// Makes `postgresql.conf` read [`SETTINGS_FILE`] last, once (clusters are reused).
pub(crate) fn include_settings(data_dir: &Path) -> Result<(), Error> {
    let conf = data_dir.join("postgresql.conf");
    let line = format!("include_if_exists = '{SETTINGS_FILE}'");
    let text = fs::read_to_string(&conf).map_err(Error::io("read", &conf))?;
    if text.lines().any(|l| l.trim() == line) {
        return Ok(());
    }
    let mut file = OpenOptions::new()
        .append(true)
        .open(&conf)
        .map_err(Error::io("open", &conf))?;
    writeln!(file, "\n{line}").map_err(Error::io("append to", &conf))
}

pub(crate) fn write_settings(
    data_dir: &Path,
    user: ServerUser,
    settings: &Settings<'_>,
) -> Result<(), Error> {
    let socket_dir = match settings.socket_dir {
        Some(dir) => dir.to_str().ok_or_else(|| Error::Io {
            action: "use (not UTF-8)",
            path: dir.to_owned(),
            source: std::io::ErrorKind::InvalidInput.into(),
        })?,
        None => "",
    };
    let mut lines = vec![
        format!("listen_addresses = '{}'", listen_addresses()),
        format!("port = {}", settings.port),
        format!("unix_socket_directories = '{socket_dir}'"),
        format!("max_connections = {}", settings.max_connections),
        "password_encryption = 'scram-sha-256'".to_owned(),
        format!("ssl = {}", if settings.tls { "on" } else { "off" }),
        format!("ssl_cert_file = '{CERT_FILE}'"),
        format!("ssl_key_file = '{KEY_FILE}'"),
        // Server messages in English, whatever the machine's locale: callers quote them.
        "lc_messages = 'C'".to_owned(),
    ];
    if settings.durability == Durability::Throwaway {
        lines.extend(
            [
                "shared_buffers = '16MB'",
                "fsync = off",
                "synchronous_commit = off",
                "full_page_writes = off",
                // stdout and stderr go to the server log (see `postmaster.rs`).
                "logging_collector = off",
                "log_connections = on",
            ]
            .map(str::to_owned),
        );
    }
    let mut text = String::new();
    for line in lines {
        let _ = writeln!(text, "{line}");
    }
    write_owned(&data_dir.join(SETTINGS_FILE), &text, user)
}

/// The port written by [`write_settings`], if any (a cluster created elsewhere has none).
pub(crate) fn read_port(data_dir: &Path) -> Option<u16> {
    let text = fs::read_to_string(data_dir.join(SETTINGS_FILE)).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("port = "))
        .and_then(|p| p.trim().parse().ok())
}

/// TCP only with SCRAM, and only over TLS when `tls` — so plaintext TCP fails with SQLSTATE
/// 28000 "no pg_hba.conf entry … no encryption", as on Railway. `local_trust`: the superuser
/// over the unix socket without a password (the socket directory is private to the cluster).
pub(crate) fn write_hba(
    data_dir: &Path,
    user: ServerUser,
    tls: bool,
    local_trust: bool,
) -> Result<(), Error> {
    let tcp = if tls { "hostssl" } else { "host" };
    let local = if local_trust {
        "local all all trust\n"
    } else {
        ""
    };
    let hba = format!(
        "{local}{tcp} all all 127.0.0.1/32 scram-sha-256\n\
         {tcp} all all ::1/128 scram-sha-256\n"
    );
    write_owned(&data_dir.join("pg_hba.conf"), &hba, user)
}

/// Writes the server certificate and key (the key 0600 and owned by the server account, or
/// PostgreSQL refuses it).
pub(crate) fn install_certificate(
    data_dir: &Path,
    user: ServerUser,
    server: &ServerCert,
) -> Result<(), Error> {
    write_owned(&data_dir.join(CERT_FILE), &server.cert_pem, user)?;
    write_private(&data_dir.join(KEY_FILE), &server.key_pem, user)
}

/// A file owned by the server account, readable by others (nothing secret).
fn write_owned(path: &Path, text: &str, user: ServerUser) -> Result<(), Error> {
    fs::write(path, text).map_err(Error::io("write", path))?;
    user.give(path).map_err(Error::io("chown", path))
}

/// A file created 0600 (never readable by others, even for an instant) and given to the
/// server account; an existing one is replaced.
pub(crate) fn write_private(path: &Path, text: &str, user: ServerUser) -> Result<(), Error> {
    write_private_file(path, text)?;
    user.give(path).map_err(Error::io("chown", path))
}

/// A file created 0600 (never readable by others, even for an instant) for a password or a
/// key; an existing one is replaced.
pub fn write_private_file(path: &Path, text: &str) -> Result<(), Error> {
    let _ = fs::remove_file(path);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(Error::io("create", path))?;
    file.write_all(text.as_bytes())
        .map_err(Error::io("write", path))
}

/// A directory created (with its parents) and given to the server account.
pub(crate) fn server_dir(path: &Path, user: ServerUser) -> Result<(), Error> {
    fs::create_dir_all(path).map_err(Error::io("create", path))?;
    user.give(path).map_err(Error::io("chown", path))
}
