//! Throw-away databases with their own role, and SQL as the superuser.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::cluster::PgServer;
use crate::harness::fail;

/// A fresh database owned by a fresh login role of the same name, with a random SCRAM
/// password (32 alphanumeric characters: safe in a URL as is). `Debug` hides the password.
pub type TestDb = intowork_pglocal::Database;

impl PgServer {
    /// Creates a database and a login role of the same unique name (`t1`, `t2`, …), the role
    /// owning the database (enough for migrations and an application).
    pub fn create_database(&self) -> TestDb {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let name = format!("t{}", NEXT.fetch_add(1, Ordering::Relaxed));
        self.inner()
            .create_database(&name)
            .unwrap_or_else(|e| fail(&format!("creating database and role `{name}`: "), &e))
    }

    /// Runs `sql` as the superuser in `database` over the unix socket (`psql -X -A -t
    /// -v ON_ERROR_STOP=1 -c`) and returns its output, trimmed. Panics with psql's stderr.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        self.inner()
            .superuser()
            .query(database, sql)
            .unwrap_or_else(|e| fail("", &e))
    }

    /// Ends every session in `db` whose `application_name` is `application`, as an operator
    /// (or a failover) would: `pg_terminate_backend`. Returns how many it ended.
    pub fn terminate_sessions(&self, db: &TestDb, application: &str) -> u32 {
        let sql = format!(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{}' AND application_name = '{application}'",
            db.name
        );
        self.psql("postgres", &sql).parse().unwrap()
    }
}
