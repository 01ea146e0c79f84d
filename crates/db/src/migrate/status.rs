//! What the database has applied compared with the embedded set, read without creating
//! anything (a database that never saw a migration stays untouched).

use std::collections::BTreeMap;

use sqlx::PgConnection;
use sqlx::migrate::Migrator;

use super::MigrateError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Applied {
        installed_on: String,
        execution_ms: i64,
    },
    Pending,
    /// Applied, but the file changed since (checksum mismatch).
    Drifted {
        installed_on: String,
    },
    /// Applied, but no longer in the source.
    Missing,
    /// A previous run failed part-way (`success = false`).
    Dirty,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub version: i64,
    pub description: String,
    pub state: State,
    /// `-- no-transaction`: cannot be dry-run.
    pub no_tx: bool,
    pub reversible: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub entries: Vec<Entry>,
    /// Whether `_sqlx_migrations` exists yet.
    pub table_exists: bool,
}

impl Status {
    pub fn with_state(&self, pick: impl Fn(&State) -> bool) -> Vec<&Entry> {
        self.entries.iter().filter(|e| pick(&e.state)).collect()
    }

    pub fn pending(&self) -> Vec<&Entry> {
        self.with_state(|s| *s == State::Pending)
    }

    /// Drift, missing files or a dirty row: anything that must stop a run.
    pub fn problems(&self) -> Vec<&Entry> {
        self.with_state(|s| matches!(s, State::Drifted { .. } | State::Missing | State::Dirty))
    }

    /// Nothing pending and nothing wrong.
    pub fn up_to_date(&self) -> bool {
        self.pending().is_empty() && self.problems().is_empty()
    }

    /// The first problem that forbids applying or reverting anything.
    pub fn check_runnable(&self) -> Result<(), MigrateError> {
        let versions = |pick: fn(&State) -> bool| -> Vec<i64> {
            self.with_state(pick).iter().map(|e| e.version).collect()
        };
        if let Some(&version) = versions(|s| *s == State::Dirty).first() {
            return Err(MigrateError::Dirty { version });
        }
        let drifted = versions(|s| matches!(s, State::Drifted { .. }));
        if !drifted.is_empty() {
            return Err(MigrateError::Drift { versions: drifted });
        }
        let missing = versions(|s| *s == State::Missing);
        if !missing.is_empty() {
            return Err(MigrateError::Missing { versions: missing });
        }
        Ok(())
    }
}

struct Row {
    version: i64,
    description: String,
    installed_on: String,
    success: bool,
    checksum: Vec<u8>,
    execution_time: i64,
}

pub async fn status(conn: &mut PgConnection, migrator: &Migrator) -> Result<Status, sqlx::Error> {
    let table_exists = sqlx::query_scalar!(
        r#"SELECT to_regclass($1) IS NOT NULL AS "exists!""#,
        super::TABLE
    )
    .fetch_one(&mut *conn)
    .await?;
    let rows: Vec<Row> = if table_exists {
        // `_sqlx_migrations` is `super::TABLE`, spelled out: the macro needs a literal.
        sqlx::query_as!(
            Row,
            r#"SELECT version, description,
                      to_char(installed_on AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS "installed_on!",
                      success, checksum, execution_time
                 FROM _sqlx_migrations ORDER BY version"#
        )
        .fetch_all(&mut *conn)
        .await?
    } else {
        Vec::new()
    };
    let mut applied: BTreeMap<i64, Row> = rows.into_iter().map(|r| (r.version, r)).collect();

    let downs: Vec<i64> = migrator
        .iter()
        .filter(|m| m.migration_type.is_down_migration())
        .map(|m| m.version)
        .collect();
    let mut entries = Vec::new();
    for m in migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
    {
        let state = match applied.remove(&m.version) {
            None => State::Pending,
            Some(row) if !row.success => State::Dirty,
            Some(row) if row.checksum != *m.checksum => State::Drifted {
                installed_on: row.installed_on,
            },
            // sqlx stores nanoseconds.
            Some(row) => State::Applied {
                installed_on: row.installed_on,
                execution_ms: row.execution_time / 1_000_000,
            },
        };
        entries.push(Entry {
            version: m.version,
            description: m.description.to_string(),
            state,
            no_tx: m.no_tx,
            reversible: downs.contains(&m.version),
        });
    }
    for (version, row) in applied {
        let state = if row.success {
            State::Missing
        } else {
            State::Dirty
        };
        entries.push(Entry {
            version,
            description: row.description,
            state,
            no_tx: false,
            reversible: false,
        });
    }
    entries.sort_by_key(|e| e.version);
    Ok(Status {
        entries,
        table_exists,
    })
}
