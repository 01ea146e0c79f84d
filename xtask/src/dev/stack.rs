//! One local stack in a directory: the cluster (an `intowork_pglocal::Persistent`, TLS only,
//! reused across runs) and, beside it, the env file the backend and `verify` read, and the
//! backend's log and pid.

use std::path::PathBuf;

use anyhow::Context;
use intowork_pglocal::{Persistent, Pg, Started, write_private_file};

/// The application's database and its login role (the bench's cluster uses the same name).
pub(crate) const APP_DB: &str = "intowork";
const MAX_CONNECTIONS: u32 = 100;
const SECRET_LEN: usize = 40;

/// A generated NEXTAUTH_SECRET for a local backend: long enough for the configuration's rule,
/// letters and digits only (no quoting in an env file).
pub(crate) fn dev_secret() -> String {
    intowork_pglocal::random_alphanumeric(SECRET_LEN)
}

/// The prefix of the secret the stack's env file gets (`NEXTAUTH_SECRET=dev-…`).
pub(crate) const DEV_SECRET_PREFIX: &str = "dev-";

/// Whether `value` has the shape of the secret this stack generates: `dev-` and
/// [`SECRET_LEN`] letters and digits.
pub(crate) fn is_generated_secret(value: &str) -> bool {
    value.strip_prefix(DEV_SECRET_PREFIX).is_some_and(|rest| {
        rest.len() == SECRET_LEN && rest.chars().all(|c| c.is_ascii_alphanumeric())
    })
}

#[derive(Debug)]
pub(crate) struct Stack {
    pub(crate) dir: PathBuf,
    pub(crate) cluster: Persistent,
}

impl Stack {
    pub(crate) fn new(pg: Pg, dir: PathBuf) -> Stack {
        Stack {
            cluster: Persistent::new(pg, &dir, MAX_CONNECTIONS),
            dir,
        }
    }

    pub(crate) fn env_file(&self) -> PathBuf {
        self.dir.join("dev.env")
    }

    pub(crate) fn backend_log(&self) -> PathBuf {
        self.dir.join("backend.log")
    }

    pub(crate) fn backend_pid(&self) -> PathBuf {
        self.dir.join("backend.pid")
    }

    /// Starts the database, creating it (with the application's role and the env file) the
    /// first time; a reused one keeps its port unless that was taken meanwhile, and the env
    /// file follows it.
    pub(crate) fn start_database(&self) -> anyhow::Result<Started> {
        let started = self
            .cluster
            .start()
            .context("failed to start the local database")?;
        if started.created {
            let db = self
                .cluster
                .superuser()?
                .create_database(APP_DB)
                .context("failed to create the application role and database")?;
            self.write_env_file(&db.url("sslmode=require"))?;
        } else {
            self.follow_port(started.port)?;
        }
        Ok(started)
    }

    /// The generated settings: the database URL with its password, a development secret.
    fn write_env_file(&self, database_url: &str) -> anyhow::Result<()> {
        let secret = dev_secret();
        let env = format!(
            "# Written by `cargo xtask dev` for the local stack; git-ignored (target/). Regenerate with --reset.\n\
             DATABASE_URL={database_url}\n\
             NEXTAUTH_SECRET={DEV_SECRET_PREFIX}{secret}\n\
             ENVIRONMENT=development\n\
             ALLOWED_ORIGINS=http://localhost:3000\n\
             FRONTEND_URL=http://localhost:3000\n"
        );
        // Created 0600: the file holds a password and a secret.
        Ok(write_private_file(&self.env_file(), &env)?)
    }

    /// Rewrites the env file's port when the cluster had to move.
    fn follow_port(&self, port: u16) -> anyhow::Result<()> {
        let env = std::fs::read_to_string(self.env_file())
            .context("the stack's env file is missing: run `cargo xtask dev --reset`")?;
        let old = env
            .lines()
            .find_map(|l| l.strip_prefix("DATABASE_URL="))
            .and_then(|u| u.split("@localhost:").nth(1))
            .and_then(|rest| rest.split('/').next())
            .and_then(|p| p.parse::<u16>().ok())
            .context(
                "the stack's env file has no usable DATABASE_URL: run `cargo xtask dev --reset`",
            )?;
        if old != port {
            let moved = env.replace(
                &format!("@localhost:{old}/"),
                &format!("@localhost:{port}/"),
            );
            write_private_file(&self.env_file(), &moved)?;
        }
        Ok(())
    }
}
