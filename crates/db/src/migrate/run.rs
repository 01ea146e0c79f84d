//! Applying and reverting, on a dedicated connection under the migration lock.

use std::time::Instant;

use intowork_config::DatabaseSettings;
use sqlx::migrate::{Migrate, Migration, Migrator};
use sqlx::{Acquire, Executor, PgConnection};

use super::error::from_execution;
use super::plan::{Step, StepKind, StepOutcome};
use super::status::{State, status};
use super::{Limits, MigrateError, catalog, invalid, lock, route};
use crate::connect::close;

/// Applies every pending migration (or, with `dry_run`, runs them in a transaction that is
/// rolled back). Refuses to start on drift, missing files or a dirty row.
pub async fn run(
    db: &DatabaseSettings,
    migrator: &Migrator,
    limits: Limits,
    dry_run: bool,
) -> Result<Vec<Step>, MigrateError> {
    with_lock(db, migrator, limits, Job::Apply { dry_run }).await
}

/// Reverts applied migrations newer than `target` (0: all), newest first, with their down files.
pub async fn revert(
    db: &DatabaseSettings,
    migrator: &Migrator,
    limits: Limits,
    target: i64,
    dry_run: bool,
) -> Result<Vec<Step>, MigrateError> {
    with_lock(db, migrator, limits, Job::Revert { target, dry_run }).await
}

#[derive(Debug, Clone, Copy)]
enum Job {
    Apply { dry_run: bool },
    Revert { target: i64, dry_run: bool },
}

/// A fresh connection to the database itself (never pooled: a failed run must not hand a
/// lock-holding session back; never through a transaction pooler: see [`route::connect`]),
/// session limits, the lock; then the job; then unlock and close, whatever happened.
async fn with_lock(
    db: &DatabaseSettings,
    migrator: &Migrator,
    limits: Limits,
    job: Job,
) -> Result<Vec<Step>, MigrateError> {
    let mut conn = route::connect(db).await?;
    let result = async {
        set_limits(&mut conn, limits).await?;
        let key = lock::key(&mut conn).await?;
        lock::acquire(&mut conn, key, limits.lock_wait).await?;
        let result = match job {
            Job::Apply { dry_run } => apply_pending(&mut conn, migrator, limits, dry_run).await,
            Job::Revert { target, dry_run } => {
                revert_to(&mut conn, migrator, limits, target, dry_run).await
            }
        };
        // On a lost connection this fails too; the server released the lock with the session.
        let _ = lock::release(&mut conn, key).await;
        result
    }
    .await;
    close(conn).await;
    result
}

async fn set_limits(conn: &mut PgConnection, limits: Limits) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"SELECT set_config('lock_timeout', $1, false) AS "lock_timeout",
                  set_config('statement_timeout', $2, false) AS "statement_timeout""#,
        format!("{}ms", limits.lock_timeout.as_millis()),
        format!("{}ms", limits.statement_timeout.as_millis())
    )
    .fetch_one(conn)
    .await?;
    Ok(())
}

async fn apply_pending(
    conn: &mut PgConnection,
    migrator: &Migrator,
    limits: Limits,
    dry_run: bool,
) -> Result<Vec<Step>, MigrateError> {
    // Read after taking the lock: another migrator may just have applied everything.
    let st = status(conn, migrator).await?;
    st.check_runnable()?;
    let pending: Vec<&Migration> = migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .filter(|m| {
            st.entries
                .iter()
                .any(|e| e.version == m.version && e.state == State::Pending)
        })
        .collect();
    if dry_run {
        return rehearse(conn, &pending, StepKind::Apply, limits).await;
    }
    if !pending.is_empty() {
        conn.ensure_migrations_table()
            .await
            .map_err(|e| bookkeeping(e, limits))?;
    }
    let mut steps = Vec::new();
    for m in pending {
        // Again before each file: one that ran `SET lock_timeout = 0` must not disarm the next.
        set_limits(conn, limits).await?;
        let took = apply_one(conn, m)
            .await
            .map_err(|e| execution(e, m, limits))?;
        tracing::info!(version = m.version, description = %m.description, took_ms = took.as_millis() as u64, "migration applied");
        steps.push(Step {
            version: m.version,
            description: m.description.to_string(),
            kind: StepKind::Apply,
            outcome: StepOutcome::Done { took },
        });
    }
    Ok(steps)
}

async fn revert_to(
    conn: &mut PgConnection,
    migrator: &Migrator,
    limits: Limits,
    target: i64,
    dry_run: bool,
) -> Result<Vec<Step>, MigrateError> {
    if target != 0
        && !migrator
            .iter()
            .any(|m| m.version == target && !m.migration_type.is_down_migration())
    {
        return Err(MigrateError::UnknownTarget { target });
    }
    let st = status(conn, migrator).await?;
    st.check_runnable()?;
    let mut applied: Vec<i64> = st
        .entries
        .iter()
        .filter(|e| e.version > target && matches!(e.state, State::Applied { .. }))
        .map(|e| e.version)
        .collect();
    applied.sort_unstable_by(|a, b| b.cmp(a));
    // Every down file must exist before anything is reverted.
    let mut downs = Vec::new();
    for version in applied {
        let down = migrator
            .iter()
            .find(|m| m.version == version && m.migration_type.is_down_migration());
        downs.push(down.ok_or(MigrateError::NotReversible { version })?);
    }
    if dry_run {
        return rehearse(conn, &downs, StepKind::Revert, limits).await;
    }
    let mut steps = Vec::new();
    for m in downs {
        let took = conn.revert(m).await.map_err(|e| execution(e, m, limits))?;
        tracing::info!(version = m.version, description = %m.description, took_ms = took.as_millis() as u64, "migration reverted");
        steps.push(Step {
            version: m.version,
            description: m.description.to_string(),
            kind: StepKind::Revert,
            outcome: StepOutcome::Done { took },
        });
    }
    Ok(steps)
}

/// sqlx's apply; around a `-- no-transaction` file, the invalid index an interrupted
/// `CREATE INDEX CONCURRENTLY` leaves behind is dropped, so the next start retries cleanly
/// instead of failing on "already exists" (or, with IF NOT EXISTS, keeping a useless index).
async fn apply_one(
    conn: &mut PgConnection,
    m: &Migration,
) -> Result<std::time::Duration, sqlx::migrate::MigrateError> {
    if !m.no_tx {
        return conn.apply(m).await;
    }
    invalid::drop_left_by(conn, &m.sql).await?;
    let result = conn.apply(m).await;
    if result.is_err() {
        // Best effort: a lost connection cannot clean up; the next start does it first.
        let _ = invalid::drop_left_by(conn, &m.sql).await;
    }
    result
}

/// Runs the SQL in one transaction and rolls it back, noting what each migration changed.
/// Bookkeeping is never touched, so schema and `_sqlx_migrations` stay as they were.
async fn rehearse(
    conn: &mut PgConnection,
    migrations: &[&Migration],
    kind: StepKind,
    limits: Limits,
) -> Result<Vec<Step>, MigrateError> {
    let mut steps = Vec::new();
    let mut tx = conn.begin().await?;
    let mut blocked = false;
    for m in migrations {
        let step = |outcome| Step {
            version: m.version,
            description: m.description.to_string(),
            kind,
            outcome,
        };
        if blocked {
            steps.push(step(StepOutcome::NotChecked));
            continue;
        }
        if m.no_tx {
            // Such a migration (CREATE INDEX CONCURRENTLY, …) cannot run in a transaction;
            // what follows may depend on it, so the rehearsal stops here, and says so.
            steps.push(step(StepOutcome::NotDryRunnable));
            blocked = true;
            continue;
        }
        let before = catalog::snapshot(tx.as_mut()).await?;
        let start = Instant::now();
        tx.as_mut()
            // Dynamic by nature: the migration files' own SQL, read at build or run time.
            .execute(&*m.sql)
            .await
            .map_err(|e| from_execution(e, m.version, &m.description, &limits))?;
        let took = start.elapsed();
        let after = catalog::snapshot(tx.as_mut()).await?;
        steps.push(step(StepOutcome::WouldDo {
            took,
            changes: catalog::diff(&before, &after),
        }));
    }
    tx.rollback().await?;
    Ok(steps)
}

fn execution(err: sqlx::migrate::MigrateError, m: &Migration, limits: Limits) -> MigrateError {
    match err {
        sqlx::migrate::MigrateError::ExecuteMigration(e, version) => {
            from_execution(e, version, &m.description, &limits)
        }
        sqlx::migrate::MigrateError::Execute(e) => {
            from_execution(e, m.version, &m.description, &limits)
        }
        other => MigrateError::Sql(sqlx::Error::Migrate(Box::new(other))),
    }
}

fn bookkeeping(err: sqlx::migrate::MigrateError, limits: Limits) -> MigrateError {
    match err {
        sqlx::migrate::MigrateError::Execute(e) => {
            from_execution(e, 0, "migrations table", &limits)
        }
        other => MigrateError::Sql(sqlx::Error::Migrate(Box::new(other))),
    }
}
