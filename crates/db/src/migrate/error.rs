//! Why a migration command failed, with the fix.

use std::time::Duration;

use crate::error::ConnectError;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Connect(#[from] ConnectError),

    /// No route to one server session (a transaction pooler, or an unreachable direct URL):
    /// refused before anything was sent.
    #[error(transparent)]
    Route(#[from] intowork_config::NoDirectRoute),

    #[error("migration{} {} {} edited after being applied (checksum differs from the database's). Fix: restore the applied file{} from git and add a new migration instead of editing an applied one", plural(versions), list(versions), if versions.len() == 1 { "was" } else { "were" }, plural(versions))]
    Drift { versions: Vec<i64> },

    #[error("migration{} {} applied to the database but missing from migrations/. Fix: deploy a build that contains {}, or restore the file{}", plural(versions), list(versions), if versions.len() == 1 { "it" } else { "them" }, plural(versions))]
    Missing { versions: Vec<i64> },

    #[error(
        "migration {version} failed part-way earlier and is marked dirty (success = false in _sqlx_migrations). Fix: repair its effects by hand, then delete its row"
    )]
    Dirty { version: i64 },

    #[error("another migrator held the migration lock for more than {}s. Fix: check for a stuck `migrate` or backend start-up in pg_stat_activity", waited.as_secs())]
    LockWait { waited: Duration },

    #[error("migration {version} ({description}) waited longer than lock_timeout ({}s) for a lock held by another session, and was rolled back. Fix: find the blocking session (pg_locks / pg_stat_activity), let it finish, and retry; a long-running transaction on the same table is the usual cause", lock_timeout.as_secs())]
    LockTimeout {
        version: i64,
        description: String,
        lock_timeout: Duration,
        #[source]
        source: sqlx::Error,
    },

    #[error("migration {version} ({description}) ran longer than statement_timeout ({}s) and was rolled back. Fix: split it, or raise MIGRATION_STATEMENT_TIMEOUT_SECS for this run", statement_timeout.as_secs())]
    StatementTimeout {
        version: i64,
        description: String,
        statement_timeout: Duration,
        #[source]
        source: sqlx::Error,
    },

    #[error("migration {version} ({description}) failed and was rolled back: {source}")]
    Failed {
        version: i64,
        description: String,
        #[source]
        source: sqlx::Error,
    },

    #[error(
        "the connection was lost while migrating (any migration in flight was rolled back by the server): {0}"
    )]
    ConnectionLost(#[source] sqlx::Error),

    #[error(
        "version {target} is not a known migration. Fix: pick one from `cargo xtask migrate status`, or 0 to revert everything"
    )]
    UnknownTarget { target: i64 },

    #[error(
        "migration {version} has no down file. Fix: add `{version}_<name>.down.sql`, or revert to a later version"
    )]
    NotReversible { version: i64 },

    #[error("migration bookkeeping failed: {0}")]
    Sql(#[from] sqlx::Error),
}

fn plural(v: &[i64]) -> &'static str {
    if v.len() == 1 { "" } else { "s" }
}

fn list(v: &[i64]) -> String {
    v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

/// Maps an error from running migration SQL to the most useful variant.
pub(crate) fn from_execution(
    err: sqlx::Error,
    version: i64,
    description: &str,
    limits: &super::Limits,
) -> MigrateError {
    let description = description.to_owned();
    let code = match &err {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    };
    match code.as_deref() {
        Some("55P03") => MigrateError::LockTimeout {
            version,
            description,
            lock_timeout: limits.lock_timeout,
            source: err,
        },
        Some("57014") => MigrateError::StatementTimeout {
            version,
            description,
            statement_timeout: limits.statement_timeout,
            source: err,
        },
        // 57P01: terminated by an administrator (pg_terminate_backend).
        Some("57P01") => MigrateError::ConnectionLost(err),
        _ if matches!(err, sqlx::Error::Io(_)) => MigrateError::ConnectionLost(err),
        _ => MigrateError::Failed {
            version,
            description,
            source: err,
        },
    }
}
