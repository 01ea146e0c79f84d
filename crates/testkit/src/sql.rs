//! SQL as the superuser over the unix socket, and throw-away databases with their own role.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

use rand::Rng;
use rand::distr::Alphanumeric;
use xshell::{Cmd, Shell, cmd};

use crate::binaries::binaries;
use crate::cluster::PgServer;

const PASSWORD_LEN: usize = 24;

/// A fresh database owned by a fresh login role with a random SCRAM password.
#[derive(Clone, PartialEq, Eq)]
pub struct TestDb {
    /// Database name; also the role name.
    pub name: String,
    pub user: String,
    /// 24 alphanumeric characters: safe in a URL as is.
    pub password: String,
    pub host: String,
    pub port: u16,
}

impl TestDb {
    /// `postgres://user:password@localhost:PORT/name`, plus `?{query}` when `query` is not empty.
    pub fn url(&self, query: &str) -> String {
        self.url_with_host_port(&self.host, self.port, query)
    }

    /// The same URL through another host and port (a proxy in front of the server).
    pub fn url_with_host_port(&self, host: &str, port: u16, query: &str) -> String {
        let url = format!(
            "postgres://{}:{}@{host}:{port}/{}",
            self.user, self.password, self.name
        );
        if query.is_empty() {
            url
        } else {
            format!("{url}?{query}")
        }
    }
}

/// Never prints the password (test output and panic messages end up in CI logs).
impl fmt::Debug for TestDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestDb")
            .field("name", &self.name)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("host", &self.host)
            .field("port", &self.port)
            .finish()
    }
}

impl PgServer {
    /// Creates a database and a login role of the same unique name (`t1`, `t2`, …), the role
    /// owning the database (enough for migrations and an application).
    pub fn create_database(&self) -> TestDb {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let name = format!("t{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let password: String = rand::rng()
            .sample_iter(Alphanumeric)
            .take(PASSWORD_LEN)
            .map(char::from)
            .collect();
        // Through stdin, not `-c`/`-v`: a command line is visible to every local user in
        // /proc and is what xshell echoes.
        let script = format!(
            "CREATE ROLE {name} LOGIN PASSWORD '{password}';\nCREATE DATABASE {name} OWNER {name};\n"
        );
        let sh = Shell::new().expect("create an xshell Shell");
        let output = self
            .superuser_psql(&sh, "postgres")
            .stdin(script)
            .ignore_status()
            .output()
            .expect("intowork-testkit: cannot run psql");
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr).replace(&password, "<redacted>");
            panic!(
                "intowork-testkit: creating database and role `{name}` failed ({}): {stderr}",
                output.status
            );
        }
        TestDb {
            user: name.clone(),
            name,
            password,
            host: self.host().to_owned(),
            port: self.port(),
        }
    }

    /// Runs `sql` as the superuser in `database` over the unix socket (`psql -X -A -t
    /// -v ON_ERROR_STOP=1 -c`) and returns its output, trimmed. Panics with psql's stderr.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let sh = Shell::new().expect("create an xshell Shell");
        let output = self
            .superuser_psql(&sh, database)
            .args(["-c", sql])
            .ignore_status()
            .output()
            .expect("intowork-testkit: cannot run psql");
        if !output.status.success() {
            panic!(
                "intowork-testkit: psql in `{database}` failed ({}) on `{sql}`:\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    fn superuser_psql<'a>(&self, sh: &'a Shell, database: &str) -> Cmd<'a> {
        let psql = &binaries().psql;
        let socket_dir = self.socket_dir();
        let port = self.port().to_string();
        cmd!(sh, "{psql} -X -q -A -t -v ON_ERROR_STOP=1 -h {socket_dir} -p {port} -U postgres -d {database}")
            .quiet()
            // The developer's libpq settings must not change how the harness connects.
            .env_remove("PGSERVICE")
            .env_remove("PGOPTIONS")
            .env_remove("PGSSLMODE")
            .env_remove("PGPASSWORD")
            .env("LC_ALL", "C")
    }
}
