//! PgBouncer's admin console (the virtual `pgbouncer` database): `SHOW POOLS`, `SHOW
//! SERVERS`, `SHOW STATS`… through `psql` over TLS, as the admin account.

use std::collections::BTreeMap;

use xshell::{Shell, cmd};

use super::config::ADMIN_USER;
use crate::harness::pg;

/// One row of a `SHOW` answer: column name → value as text.
pub type Row = BTreeMap<String, String>;

/// Runs `command` on the admin console listening on `port`; its rows. Panics with psql's
/// error output.
pub(crate) fn show(port: u16, password: &str, command: &str) -> Vec<Row> {
    let sh = Shell::new().expect("a shell");
    let psql = &pg().binaries.psql;
    let conninfo =
        format!("host=localhost port={port} user={ADMIN_USER} dbname=pgbouncer sslmode=require");
    let tab = "\t";
    // The password through the environment: not echoed, not in /proc's cmdline.
    let output = cmd!(
        sh,
        "{psql} -X -q -A -F {tab} -P footer=off -d {conninfo} -c {command}"
    )
    .env("PGPASSWORD", password)
    .env_remove("PGSERVICE")
    .env_remove("PGOPTIONS")
    .env_remove("PGSSLMODE")
    .env("LC_ALL", "C")
    .quiet()
    .ignore_status()
    .output()
    .expect("psql runs");
    assert!(
        output.status.success(),
        "intowork-testkit: PgBouncer's admin console refused `{command}`: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    rows(&String::from_utf8_lossy(&output.stdout))
}

/// `psql -A -F '\t'` output (a header line, then one line per row) as named rows.
fn rows(text: &str) -> Vec<Row> {
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let names: Vec<&str> = header.split('\t').collect();
    lines
        .map(|line| {
            names
                .iter()
                .map(|n| (*n).to_owned())
                .zip(line.split('\t').map(str::to_owned))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn rows_are_named_by_the_header() {
        let rows = super::rows("database\tuser\tcl_active\nt1\tt1\t2\npgbouncer\tpgbouncer\t1\n");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["database"], "t1");
        assert_eq!(rows[0]["cl_active"], "2");
        assert!(super::rows("").is_empty());
    }
}
