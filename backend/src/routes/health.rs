//! `/health` (liveness, no database) and `/health/ready` (what Railway's health check polls).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use intowork_db::migrate::{self, MIGRATOR, State as MigrationState, Status};
use serde::Serialize;
use serde_json::{Value, json};

use crate::email::outbox::{self, Backlog};
use crate::state::AppState;

/// Readiness answers within this, even when the database hangs (Railway's probe and load
/// balancers give up, they do not wait).
pub const READY_BUDGET: Duration = Duration::from_millis(1500);

/// `GET /health`'s body, borrowed from the process's build info (nothing built per request).
#[derive(Debug, Serialize)]
pub struct Live {
    status: &'static str,
    version: &'static str,
    commit: &'static str,
}

/// Liveness, and which build answers: `cargo xtask deploy` compares `commit` with the commit
/// it deployed, so a stale build is never taken for the new one.
pub async fn live() -> Json<Live> {
    let build = crate::build_info::BuildInfo::current();
    Json(Live {
        status: "ok",
        version: build.version,
        commit: &build.commit,
    })
}

pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let checks = match tokio::time::timeout(READY_BUDGET, probe(&state)).await {
        Ok(checks) => checks,
        Err(_) => Checks::without(Database::Timeout),
    };
    let ok = checks.ready(state.tls_required);
    let pool = state.pool.state();
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if ok { "ready" } else { "unavailable" },
        "checks": {
            "database": checks.database.word(),
            "tls": checks.tls.as_ref().map(Tls::word),
            "migrations": checks.migrations.map(Migrations::word),
        },
        // Information only: the pool's connections now (busy = open - idle).
        "pool": json!({ "open": pool.open, "idle": pool.idle, "max": pool.max }),
        // Information only: email never decides readiness.
        "outbox": checks.outbox.map(|b| json!({
            "pending": b.pending,
            "oldest_pending_secs": b.oldest_pending_secs,
        })),
    });
    (status, Json(body))
}

/// Whether the database answered the probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Database {
    Ok,
    Timeout,
    Unreachable,
    Error,
}

/// This session's encryption, as the server reports it (`pg_stat_ssl`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tls {
    Encrypted { version: Option<String> },
    NotEncrypted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Migrations {
    UpToDate,
    /// Embedded migrations not applied (or applied with another checksum, or failed).
    Pending(usize),
    Unknown,
}

/// What the probe found; the body shows it in short, fixed words only (the body is public,
/// error detail goes to the log).
#[derive(Debug)]
struct Checks {
    database: Database,
    tls: Option<Tls>,
    migrations: Option<Migrations>,
    /// Information only: email never decides readiness.
    outbox: Option<Backlog>,
}

impl Checks {
    fn without(database: Database) -> Checks {
        Checks {
            database,
            tls: None,
            migrations: None,
            outbox: None,
        }
    }

    /// The database answers, encrypted whenever the policy requires TLS, fully migrated.
    fn ready(&self, tls_required: bool) -> bool {
        let tls_ok = match &self.tls {
            Some(Tls::Encrypted { .. }) => true,
            Some(Tls::NotEncrypted) => !tls_required,
            None => false,
        };
        self.database == Database::Ok && tls_ok && self.migrations == Some(Migrations::UpToDate)
    }
}

impl Database {
    fn word(self) -> &'static str {
        match self {
            Database::Ok => "ok",
            Database::Timeout => "timeout",
            Database::Unreachable => "unreachable",
            Database::Error => "error",
        }
    }
}

impl Tls {
    fn word(&self) -> String {
        match self {
            Tls::Encrypted { version: Some(v) } => v.clone(),
            Tls::Encrypted { version: None } => "encrypted".to_owned(),
            Tls::NotEncrypted => "not encrypted".to_owned(),
        }
    }
}

impl Migrations {
    fn word(self) -> String {
        match self {
            Migrations::UpToDate => "up to date".to_owned(),
            Migrations::Pending(n) => format!("{n} pending"),
            Migrations::Unknown => "unknown".to_owned(),
        }
    }
}

async fn probe(state: &AppState) -> Checks {
    let mut pooled = match state.pool.acquire().await {
        Ok(conn) => conn,
        Err(e) => {
            let pool = state.pool.state();
            tracing::warn!(error = %e, open = pool.open, idle = pool.idle, max = pool.max, "readiness: no database connection");
            return Checks::without(Database::Unreachable);
        }
    };
    // One transaction: behind a transaction pooler every statement must run inside one (the
    // pool pins it). Cut by READY_BUDGET half-way, the transaction is dropped unfinished and
    // the pool closes its connection rather than reuse it mid-protocol.
    let mut tx = match pooled.begin().await {
        Ok(tx) => tx,
        Err(e) => {
            tracing::warn!(error = %e, "readiness: query failed");
            return Checks::without(Database::Error);
        }
    };
    let tls = match intowork_db::session_tls(&mut tx).await {
        Ok(s) if s.ssl => Tls::Encrypted { version: s.version },
        Ok(_) => Tls::NotEncrypted,
        Err(e) => {
            tracing::warn!(error = %e, "readiness: query failed");
            let _ = tx.rollback().await;
            return Checks::without(Database::Error);
        }
    };
    let migrations = match migrate::status(&mut tx, &MIGRATOR).await {
        Ok(status) => match not_applied(&status) {
            0 => Migrations::UpToDate,
            n => Migrations::Pending(n),
        },
        Err(e) => {
            tracing::warn!(error = %e, "readiness: cannot read migrations");
            Migrations::Unknown
        }
    };
    // Last: it fails before the outbox migration, and a failed statement ends what the
    // transaction can do.
    let outbox = match outbox::backlog(&mut tx).await {
        Ok(b) => Some(b),
        // Before the outbox migration, or a slow moment: reported as unknown (null).
        Err(e) => {
            tracing::debug!(error = %e, "readiness: cannot read the email outbox");
            None
        }
    };
    // Nothing was written: committing or rolling back is the same; a broken connection is
    // closed by the pool.
    let _ = tx.rollback().await;
    Checks {
        database: Database::Ok,
        tls: Some(tls),
        migrations: Some(migrations),
        outbox,
    }
}

/// Embedded migrations the database has not applied with the same checksum (pending,
/// drifted or failed part-way). Rows the embedded set does not know — a newer release's —
/// do not make this one unready.
fn not_applied(status: &Status) -> usize {
    status
        .entries
        .iter()
        .filter(|e| MIGRATOR.iter().any(|m| m.version == e.version))
        .filter(|e| !matches!(e.state, MigrationState::Applied { .. }))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checks(tls: Tls, migrations: Migrations) -> Checks {
        Checks {
            database: Database::Ok,
            tls: Some(tls),
            migrations: Some(migrations),
            outbox: None,
        }
    }

    #[test]
    fn ready_only_when_answering_encrypted_as_required_and_migrated() {
        let tls13 = || Tls::Encrypted {
            version: Some("TLSv1.3".to_owned()),
        };
        assert!(checks(tls13(), Migrations::UpToDate).ready(true));
        assert!(!checks(Tls::NotEncrypted, Migrations::UpToDate).ready(true));
        assert!(checks(Tls::NotEncrypted, Migrations::UpToDate).ready(false));
        assert!(!checks(tls13(), Migrations::Pending(1)).ready(true));
        assert!(!checks(tls13(), Migrations::Unknown).ready(false));
        for database in [Database::Timeout, Database::Unreachable, Database::Error] {
            assert!(!Checks::without(database).ready(false), "{database:?}");
        }
    }

    #[test]
    fn the_public_words_stay_the_same() {
        assert_eq!(Database::Unreachable.word(), "unreachable");
        assert_eq!(
            Tls::Encrypted {
                version: Some("TLSv1.3".to_owned())
            }
            .word(),
            "TLSv1.3"
        );
        assert_eq!(Tls::Encrypted { version: None }.word(), "encrypted");
        assert_eq!(Tls::NotEncrypted.word(), "not encrypted");
        assert_eq!(Migrations::Pending(2).word(), "2 pending");
        assert_eq!(Migrations::UpToDate.word(), "up to date");
    }
}
