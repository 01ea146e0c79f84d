//! SQL as the cluster's superuser through `psql`, and databases with their own login role.

use std::fmt;
use std::path::PathBuf;

use rand::Rng;
use rand::distr::Alphanumeric;
use xshell::{Cmd, Shell, cmd};

use crate::error::Error;
use crate::pg::program_error;

const PASSWORD_LEN: usize = 32;

/// How the superuser reaches the cluster.
#[derive(Clone)]
pub(crate) enum Access {
    /// Over the cluster's private unix socket, trusted (throwaway clusters).
    Socket(PathBuf),
    /// Over TLS on loopback with the superuser's password (clusters without a socket).
    Tls { password: String },
}

/// The cluster's superuser `postgres`, through `psql`.
#[derive(Clone)]
pub struct Superuser {
    pub(crate) psql: PathBuf,
    pub(crate) port: u16,
    pub(crate) access: Access,
}

/// Never prints the password.
impl fmt::Debug for Superuser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let access = match &self.access {
            Access::Socket(dir) => format!("socket {}", dir.display()),
            Access::Tls { .. } => "TLS with a password".to_owned(),
        };
        f.debug_struct("Superuser")
            .field("port", &self.port)
            .field("access", &access)
            .finish()
    }
}

impl Superuser {
    /// Runs `sql` in `database` (`psql -X -A -t -v ON_ERROR_STOP=1 -c`) and returns its
    /// output, trimmed; psql's error output on failure.
    pub fn query(&self, database: &str, sql: &str) -> Result<String, Error> {
        let sh = Shell::new().map_err(program_error("psql"))?;
        let output = self
            .psql(&sh, database)
            .args(["-c", sql])
            .ignore_status()
            .output()
            .map_err(program_error("psql"))?;
        if !output.status.success() {
            return Err(Error::Program {
                program: "psql".to_owned(),
                detail: format!(
                    "in `{database}` ({}) on `{sql}`:\n{}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr)
                ),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// Runs a script through psql's stdin — never a command line, which every local user can
    /// read in /proc: scripts may carry passwords. `hide` is replaced in error output.
    pub fn execute(&self, database: &str, script: &str, hide: Option<&str>) -> Result<(), Error> {
        let sh = Shell::new().map_err(program_error("psql"))?;
        let output = self
            .psql(&sh, database)
            .stdin(script)
            .ignore_status()
            .output()
            .map_err(program_error("psql"))?;
        if output.status.success() {
            return Ok(());
        }
        let mut stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        if let Some(secret) = hide.filter(|s| !s.is_empty()) {
            stderr = stderr.replace(secret, "<redacted>");
        }
        Err(Error::Program {
            program: "psql".to_owned(),
            detail: format!("in `{database}` ({}): {stderr}", output.status),
        })
    }

    /// Creates a login role `name` with a random SCRAM password and a database `name` it
    /// owns (enough for migrations and an application).
    pub fn create_database(&self, name: &str) -> Result<Database, Error> {
        check_name(name)?;
        let password = random_password();
        let script = format!(
            "CREATE ROLE {name} LOGIN PASSWORD '{password}';\nCREATE DATABASE {name} OWNER {name};\n"
        );
        self.execute("postgres", &script, Some(&password))?;
        Ok(self.database(name, password))
    }

    /// The same, for a cluster that is reused: creates what is missing and gives the role a
    /// new random password either way.
    pub fn ensure_database(&self, name: &str) -> Result<Database, Error> {
        check_name(name)?;
        let password = random_password();
        let role = format!(
            "DO $$ BEGIN\n  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{name}') THEN\n    ALTER ROLE {name} LOGIN PASSWORD '{password}';\n  ELSE\n    CREATE ROLE {name} LOGIN PASSWORD '{password}';\n  END IF;\nEND $$;\n"
        );
        self.execute("postgres", &role, Some(&password))?;
        let exists = self.query(
            "postgres",
            &format!("SELECT count(*) FROM pg_database WHERE datname = '{name}'"),
        )?;
        if exists == "0" {
            self.execute(
                "postgres",
                &format!("CREATE DATABASE {name} OWNER {name};\n"),
                None,
            )?;
        }
        Ok(self.database(name, password))
    }

    fn database(&self, name: &str, password: String) -> Database {
        Database {
            name: name.to_owned(),
            user: name.to_owned(),
            password,
            host: "localhost".to_owned(),
            port: self.port,
        }
    }

    fn psql<'a>(&self, sh: &'a Shell, database: &str) -> Cmd<'a> {
        let psql = &self.psql;
        let port = self.port.to_string();
        let command = match &self.access {
            Access::Socket(dir) => {
                cmd!(
                    sh,
                    "{psql} -X -q -A -t -v ON_ERROR_STOP=1 -h {dir} -p {port} -U postgres -d {database}"
                )
            }
            Access::Tls { password } => {
                let conninfo = format!(
                    "host=localhost port={port} user=postgres dbname={database} sslmode=require"
                );
                // The password through the environment: not echoed, not in /proc's cmdline.
                cmd!(sh, "{psql} -X -q -A -t -v ON_ERROR_STOP=1 -d {conninfo}")
                    .env("PGPASSWORD", password)
            }
        };
        let command = command
            .quiet()
            // The developer's libpq settings must not change how we connect.
            .env_remove("PGSERVICE")
            .env_remove("PGOPTIONS")
            .env_remove("PGSSLMODE")
            .env("LC_ALL", "C");
        match &self.access {
            Access::Socket(_) => command.env_remove("PGPASSWORD"),
            Access::Tls { .. } => command,
        }
    }
}

/// A database owned by a login role of the same name, with its password.
#[derive(Clone, PartialEq, Eq)]
pub struct Database {
    /// Database name; also the role name.
    pub name: String,
    pub user: String,
    /// 32 alphanumeric characters: safe in a URL as is.
    pub password: String,
    pub host: String,
    pub port: u16,
}

impl Database {
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

/// Never prints the password (output and panic messages end up in CI logs).
impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("name", &self.name)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("host", &self.host)
            .field("port", &self.port)
            .finish()
    }
}

/// `n` random alphanumeric characters: passwords and secrets safe in URLs and env files.
pub fn random_alphanumeric(n: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

fn random_password() -> String {
    random_alphanumeric(PASSWORD_LEN)
}

/// Names go into SQL unquoted: only what needs no quoting.
fn check_name(name: &str) -> Result<(), Error> {
    let mut chars = name.chars();
    let plain = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63;
    if plain {
        Ok(())
    } else {
        Err(Error::BadName(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_reach_sql() {
        for good in ["t1", "intowork", "bench_migrations", "_x"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "1t", "T1", "a-b", "a;drop", "a b", &"x".repeat(64)] {
            assert!(matches!(check_name(bad), Err(Error::BadName(_))), "{bad}");
        }
    }

    #[test]
    fn debug_hides_passwords() {
        let db = Database {
            name: "t1".into(),
            user: "t1".into(),
            password: random_password(),
            host: "localhost".into(),
            port: 5432,
        };
        assert!(!format!("{db:?}").contains(&db.password));
        let superuser = Superuser {
            psql: PathBuf::from("psql"),
            port: 5432,
            access: Access::Tls {
                password: db.password.clone(),
            },
        };
        assert!(!format!("{superuser:?}").contains(&db.password));
    }
}
