//! The one migration set, embedded once, used by the backend and by `cargo xtask migrate`.
//!
//! Safer than sqlx's `Migrator::run` and sqlx-cli: a dedicated connection (never a pooled one:
//! sqlx leaks its advisory lock on error), a lock that is waited for with a deadline instead of
//! forever, `lock_timeout`/`statement_timeout` on the session, and drift refused up front.
//!
//! That connection goes to the database itself ([`connect`]: `DATABASE_DIRECT_URL` when set),
//! never through a transaction pooler, where the lock and the session limits would not hold:
//! such a route is refused before anything is sent.

mod catalog;
mod error;
mod invalid;
mod lock;
mod plan;
mod route;
mod run;
mod status;

use std::time::Duration;

use sqlx::migrate::Migrator;

pub use error::MigrateError;
pub use plan::{Change, Step, StepKind, StepOutcome};
pub use route::connect;
pub use run::{revert, run};
pub use status::{Entry, State, Status, status};

/// sqlx 0.8's bookkeeping table (its name is fixed in that version).
pub const TABLE: &str = "_sqlx_migrations";

/// `migrations/` at the workspace root, embedded at compile time (see `build.rs`).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// Session limits for a migration run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long one statement may wait for a table lock before failing (instead of queueing
    /// every other query behind it and freezing production tables).
    pub lock_timeout: Duration,
    /// How long one statement may run.
    pub statement_timeout: Duration,
    /// How long to wait for another migrator (a replica starting at the same time) to finish.
    pub lock_wait: Duration,
}

/// How long to wait for another migrator: long enough for a real migration run to finish.
/// Not configurable; the two timeouts are (their defaults are the configuration's).
pub const LOCK_WAIT: Duration = Duration::from_secs(300);

impl Default for Limits {
    /// The configuration's defaults (`MIGRATION_LOCK_TIMEOUT_SECS`,
    /// `MIGRATION_STATEMENT_TIMEOUT_SECS` unset): one owner for those numbers.
    fn default() -> Limits {
        Limits::from_settings(intowork_config::MigrationSettings::default())
    }
}

impl Limits {
    /// The configured timeouts, with the default wait for another migrator.
    pub fn from_settings(m: intowork_config::MigrationSettings) -> Limits {
        Limits {
            lock_timeout: m.lock_timeout,
            statement_timeout: m.statement_timeout,
            lock_wait: LOCK_WAIT,
        }
    }
}
