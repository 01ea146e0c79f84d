//! The per-cluster files in the data directory: `pg_hba.conf`, our settings in
//! `testkit.conf`, and the server's certificate and key.

use std::fmt::Write as _;
use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::certs::{self, Validity};
use crate::cluster::Flavor;
use crate::ports::ipv6_loopback;
use crate::server_user::give_to_server;

/// Holds every setting we own; rewritten for each start attempt (the port can change).
const SETTINGS_FILE: &str = "testkit.conf";
const CERT_FILE: &str = "server.crt";
const KEY_FILE: &str = "server.key";

/// Makes the initdb `postgresql.conf` read [`SETTINGS_FILE`] last, so ours win.
pub(crate) fn include_settings(data_dir: &Path) {
    let conf = data_dir.join("postgresql.conf");
    let mut file = OpenOptions::new()
        .append(true)
        .open(&conf)
        .expect("open postgresql.conf of a new cluster");
    writeln!(file, "\ninclude '{SETTINGS_FILE}'").expect("append to postgresql.conf");
}

pub(crate) fn write_settings(data_dir: &Path, flavor: Flavor, port: u16, socket_dir: &Path) {
    let listen = if ipv6_loopback() {
        "127.0.0.1,::1"
    } else {
        "127.0.0.1"
    };
    let ssl = if flavor.has_tls() { "on" } else { "off" };
    let socket_dir = socket_dir
        .to_str()
        .expect("the test directory path is UTF-8");
    let mut settings = String::new();
    let lines = [
        format!("listen_addresses = '{listen}'"),
        format!("port = {port}"),
        format!("unix_socket_directories = '{socket_dir}'"),
        "max_connections = 200".to_owned(),
        "shared_buffers = '16MB'".to_owned(),
        "password_encryption = 'scram-sha-256'".to_owned(),
        format!("ssl = {ssl}"),
        format!("ssl_cert_file = '{CERT_FILE}'"),
        format!("ssl_key_file = '{KEY_FILE}'"),
        // Throw-away data: durability only costs time.
        "fsync = off".to_owned(),
        "synchronous_commit = off".to_owned(),
        "full_page_writes = off".to_owned(),
        // stdout and stderr go to `server.log` in the data directory (see `postmaster.rs`).
        "logging_collector = off".to_owned(),
        "log_connections = on".to_owned(),
        "lc_messages = 'C'".to_owned(),
    ];
    for line in lines {
        writeln!(settings, "{line}").expect("write to a String");
    }
    fs::write(data_dir.join(SETTINGS_FILE), settings).expect("write testkit.conf");
}

/// Superuser over the unix socket without a password (the harness's own `psql`); TCP only
/// with SCRAM, and only over TLS for the TLS flavours — so plaintext TCP fails with SQLSTATE
/// 28000 "no pg_hba.conf entry … no encryption", as on Railway.
pub(crate) fn write_hba(data_dir: &Path, flavor: Flavor) {
    let tcp = if flavor.has_tls() { "hostssl" } else { "host" };
    let hba = format!(
        "local all all trust\n\
         {tcp} all all 127.0.0.1/32 scram-sha-256\n\
         {tcp} all all ::1/128 scram-sha-256\n"
    );
    fs::write(data_dir.join("pg_hba.conf"), hba).expect("write pg_hba.conf");
}

/// Writes the server certificate and key (the key 0600 and owned by the server account, or
/// PostgreSQL refuses it) and returns (fingerprint, PEM for the clients' `sslrootcert`).
pub(crate) fn install_certificates(
    data_dir: &Path,
    flavor: Flavor,
    validity: Validity,
) -> (Option<String>, String) {
    let (server, root_pem) = match flavor {
        Flavor::TlsOnly => {
            let server = certs::railway_like(validity);
            let root = server.cert_pem.clone();
            (server, root)
        }
        Flavor::Verified => certs::ca_signed(validity),
        // The server has no TLS; clients still get a real file to point `sslrootcert` at.
        Flavor::PlaintextOnly => return (None, certs::railway_like(validity).cert_pem),
    };
    let cert_path = data_dir.join(CERT_FILE);
    fs::write(&cert_path, &server.cert_pem).expect("write server.crt");
    give_to_server(&cert_path);
    let key_path = data_dir.join(KEY_FILE);
    // Created 0600, never readable by others even for an instant.
    let mut key_file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&key_path)
        .expect("create server.key");
    key_file
        .write_all(server.key_pem.as_bytes())
        .expect("write server.key");
    give_to_server(&key_path);
    (Some(server.sha256_hex), root_pem)
}
