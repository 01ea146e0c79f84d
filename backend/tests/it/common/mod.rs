//! Shared helpers for the backend's end-to-end tests.

pub mod app;
pub mod call;
pub mod http;
pub mod outbox;
pub mod process;
pub mod tokens;

use intowork_config::{Settings, Source, ValueOrigin};
use intowork_testkit::{PgServer, TestDb, ValidEnv};

/// Obviously fake (the testkit's); checked never to appear in any output.
pub use intowork_testkit::fake::NEXTAUTH_SECRET as SECRET;

/// The testkit's valid configuration on `db`, as the backend's tests run it: the frontend's
/// origin allowed, JSON logs. Knows every secret it holds (`db`'s password included).
pub fn valid_env(db: &TestDb) -> ValidEnv {
    ValidEnv::development(&db.url("sslmode=require")).with(&[
        ("ALLOWED_ORIGINS", intowork_testkit::fake::FRONTEND),
        ("LOG_FORMAT", "json"),
    ])
}

/// [`valid_env`]'s variables, overridden by `extra`.
pub fn env(db: &TestDb, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut vars = valid_env(db).vars();
    for (k, v) in extra {
        vars.retain(|(name, _)| name != k);
        vars.push((k.to_string(), v.to_string()));
    }
    vars
}

pub fn settings(db: &TestDb, extra: &[(&str, &str)]) -> Settings {
    match Settings::load(&Source::from_pairs(
        env(db, extra),
        ValueOrigin::Environment,
    )) {
        Ok(l) => l.settings,
        Err(e) => panic!("{e}"),
    }
}

/// An employer, a company and offers: `published` of them published one minute apart
/// (newest last), plus one draft. Returns (published ids newest first, draft id).
pub fn seed(server: &PgServer, db: &TestDb, published: usize) -> (Vec<i64>, i64) {
    let mut sql = String::from(
        "INSERT INTO users (email, full_name, role) VALUES ('boss@intowork.example', 'Boss', 'employer');
         INSERT INTO companies (owner_id, name, slug) SELECT id, 'Acme', 'acme' FROM users;\n",
    );
    for i in 0..published {
        sql.push_str(&format!(
            "INSERT INTO job_offers (company_id, title, status, published_at) SELECT id, 'Offer {i}', 'published', timestamptz '2026-11-01 00:00:00+00' + interval '{i} minutes' FROM companies;\n"
        ));
    }
    sql.push_str("INSERT INTO job_offers (company_id, title) SELECT id, 'Draft' FROM companies;");
    server.psql(&db.name, &sql);
    let ids = server.psql(&db.name, "SELECT string_agg(id::text, ',' ORDER BY published_at DESC, id DESC) FROM job_offers WHERE status = 'published'");
    let draft = server.psql(&db.name, "SELECT id FROM job_offers WHERE status = 'draft'");
    (
        ids.split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect(),
        draft.parse().unwrap(),
    )
}

/// `job_offers` held exclusively by another session: a request that reads it becomes slow
/// for real, with no test-only endpoint.
pub struct TableLock {
    conn: sqlx::PgConnection,
}

impl TableLock {
    pub async fn take(settings: &Settings) -> TableLock {
        use sqlx::Executor;
        let mut conn = intowork_db::connect(settings.database())
            .await
            .unwrap()
            .conn;
        conn.execute("BEGIN; LOCK TABLE job_offers IN ACCESS EXCLUSIVE MODE")
            .await
            .unwrap();
        TableLock { conn }
    }

    /// Waits until a session of `db` is queued behind the lock (a request is in flight).
    pub async fn wait_for_waiter(&self, server: &PgServer, db: &TestDb) {
        let waiting = format!(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '{}' AND wait_event_type = 'Lock'",
            db.name
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while server.psql("postgres", &waiting) == "0" {
            assert!(
                std::time::Instant::now() < deadline,
                "no request reached the lock"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    pub async fn release(mut self) {
        use sqlx::Executor;
        self.conn.execute("ROLLBACK").await.unwrap();
    }
}

/// Builds and serves on a free port; dropping the sender stops it.
pub async fn start(
    settings: &Settings,
) -> (
    u16,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let app::Serving { port, stop, handle } = app::TestApp::with_settings(settings).await.serve();
    (port, stop, handle)
}
