//! A libpq client for the tests: the system `psql`, the reference client these servers must
//! satisfy before any Rust driver is pointed at them.

use intowork_testkit::TestDb;
use xshell::{Shell, cmd};

/// Asks the server whether this very connection is encrypted (`t` / `f`).
pub const SSL_IN_USE: &str = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

/// Connects as `db`'s role to `host:port` with extra libpq `options` (e.g. `sslmode=require`)
/// and runs `sql`: `Ok(stdout)` or `Err(stderr)`.
pub fn psql(
    db: &TestDb,
    host: &str,
    port: u16,
    options: &str,
    sql: &str,
) -> Result<String, String> {
    // gssencmode=disable: libpq may otherwise open with a GSSENCRequest when a Kerberos
    // cache exists, which would change what the peers see first.
    let conninfo = format!(
        "host={host} port={port} user={} dbname={} gssencmode=disable {options}",
        db.user, db.name
    );
    let sh = Shell::new().expect("create an xshell Shell");
    let output = cmd!(
        sh,
        "psql -X -q -A -t -v ON_ERROR_STOP=1 -d {conninfo} -c {sql}"
    )
    .quiet()
    .env("PGPASSWORD", &db.password)
    .env("PGCONNECT_TIMEOUT", "10")
    .env("LC_ALL", "C")
    .env_remove("PGSSLMODE")
    .env_remove("PGSSLROOTCERT")
    .ignore_status()
    .output()
    .expect("run psql (apt-get install -y postgresql-client)");
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// [`psql`] against the database's own server.
pub fn psql_direct(db: &TestDb, options: &str, sql: &str) -> Result<String, String> {
    psql(db, &db.host, db.port, options, sql)
}

/// Panics with psql's error when the connection was expected to work.
pub fn expect_ok(result: Result<String, String>, what: &str) -> String {
    result.unwrap_or_else(|stderr| panic!("{what}: psql failed: {stderr}"))
}

/// Panics when the connection was expected to fail with `needle` in psql's error.
pub fn expect_err(result: Result<String, String>, needle: &str, what: &str) {
    match result {
        Ok(stdout) => panic!("{what}: psql unexpectedly connected (output: {stdout:?})"),
        Err(stderr) => assert!(
            stderr.contains(needle),
            "{what}: expected {needle:?} in psql's error, got: {stderr}"
        ),
    }
}
