//! A libpq client: the system `psql`, as the reference these servers must satisfy.

use intowork_pglocal::{Database, Pg};
use xshell::{Shell, cmd};

pub const SSL_IN_USE: &str = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

/// Connects as `db`'s role with `sslmode` and runs `sql`: `Ok(stdout)` or `Err(stderr)`.
pub fn connect(db: &Database, sslmode: &str, sql: &str) -> Result<String, String> {
    let psql = Pg::find().expect("PostgreSQL installed").binaries.psql;
    let conninfo = format!(
        "host={} port={} user={} dbname={} sslmode={sslmode} gssencmode=disable",
        db.host, db.port, db.user, db.name
    );
    let sh = Shell::new().unwrap();
    let out = cmd!(sh, "{psql} -X -q -A -t -d {conninfo} -c {sql}")
        .env("PGPASSWORD", &db.password)
        .env("PGCONNECT_TIMEOUT", "10")
        .env("LC_ALL", "C")
        .env_remove("PGSSLMODE")
        .quiet()
        .ignore_status()
        .output()
        .unwrap();
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}
