//! `/health` (liveness, no database) and `/health/ready` (what Railway's health check polls).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use intowork_db::migrate::MIGRATOR;
use serde_json::{Value, json};

use crate::email::outbox::{self, Backlog};
use crate::state::AppState;

/// Readiness answers within this, even when the database hangs (Railway's probe and load
/// balancers give up, they do not wait).
pub const READY_BUDGET: Duration = Duration::from_millis(1500);

/// Liveness, and which build answers: `cargo xtask deploy` compares `commit` with the commit
/// it deployed, so a stale build is never taken for the new one.
pub async fn live() -> Json<Value> {
    let build = crate::build_info::BuildInfo::current();
    Json(json!({ "status": "ok", "version": build.version, "commit": build.commit }))
}

pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let checks = match tokio::time::timeout(READY_BUDGET, probe(&state)).await {
        Ok(checks) => checks,
        Err(_) => Checks {
            database: "timeout",
            tls: None,
            migrations: None,
            outbox: None,
        },
    };
    let ok = checks.database == "ok"
        && checks
            .tls
            .as_deref()
            .is_some_and(|t| t != "not encrypted" || !state.tls_required)
        && checks.migrations.as_deref() == Some("up to date");
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if ok { "ready" } else { "unavailable" },
        "checks": { "database": checks.database, "tls": checks.tls, "migrations": checks.migrations },
        // Information only: email never decides readiness.
        "outbox": checks.outbox.map(|b| json!({
            "pending": b.pending,
            "oldest_pending_secs": b.oldest_pending_secs,
        })),
    });
    (status, Json(body))
}

/// Short, fixed words only: the body is public, error detail goes to the log.
struct Checks {
    database: &'static str,
    tls: Option<String>,
    migrations: Option<String>,
    outbox: Option<Backlog>,
}

async fn probe(state: &AppState) -> Checks {
    let mut conn = match state.pool.acquire().await {
        Ok(conn) => conn,
        Err(e) => {
            tracing::warn!(error = %e, "readiness: no database connection");
            return Checks {
                database: "unreachable",
                tls: None,
                migrations: None,
                outbox: None,
            };
        }
    };
    let tls = match intowork_db::proof::session_tls(&mut conn).await {
        Ok(s) if s.ssl => s.version.unwrap_or_else(|| "encrypted".to_owned()),
        Ok(_) => "not encrypted".to_owned(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: query failed");
            return Checks {
                database: "error",
                tls: None,
                migrations: None,
                outbox: None,
            };
        }
    };
    let migrations = match pending(&mut conn).await {
        Ok(0) => "up to date".to_owned(),
        Ok(n) => format!("{n} pending"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: cannot read migrations");
            "unknown".to_owned()
        }
    };
    let outbox = match outbox::backlog(&mut conn).await {
        Ok(b) => Some(b),
        // Before the outbox migration, or a slow moment: reported as unknown (null).
        Err(e) => {
            tracing::debug!(error = %e, "readiness: cannot read the email outbox");
            None
        }
    };
    Checks {
        database: "ok",
        tls: Some(tls),
        migrations: Some(migrations),
        outbox,
    }
}

/// Embedded migrations not applied (with the same checksum) in the database.
async fn pending(conn: &mut sqlx::PgConnection) -> Result<usize, sqlx::Error> {
    let table_exists =
        sqlx::query_scalar!(r#"SELECT to_regclass('_sqlx_migrations') IS NOT NULL AS "exists!""#)
            .fetch_one(&mut *conn)
            .await?;
    let applied: Vec<(i64, Vec<u8>)> = if table_exists {
        sqlx::query!("SELECT version, checksum FROM _sqlx_migrations WHERE success")
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|r| (r.version, r.checksum))
            .collect()
    } else {
        Vec::new()
    };
    Ok(MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .filter(|m| {
            !applied
                .iter()
                .any(|(v, c)| *v == m.version && c.as_slice() == &*m.checksum)
        })
        .count())
}
