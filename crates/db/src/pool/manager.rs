//! How the pool opens, checks and lets go of connections (bb8's `ManageConnection`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _};

use super::closing::Closing;
use super::pinned::Bounds;
use super::tracked::Tracked;
use crate::proof::session_tls;

/// One connection attempt may take this long (sqlx 0.8 has no connect timeout of its own).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Background connection failures are logged at most this often.
const LOG_EVERY: Duration = Duration::from_secs(5);

/// What the pool and its manager share.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) options: PgConnectOptions,
    /// The TLS policy requires encryption: every new session is asked (`pg_stat_ssl`).
    pub(super) require_tls: bool,
    /// How transactions start and end on its connections (a transaction pooler: pinned).
    pub(super) bounds: Bounds,
    /// Bumped when a connection is found broken: idle connections last known alive in an
    /// older epoch are pinged once before their next use (the server may have restarted).
    pub(super) epoch: AtomicU64,
    pub(super) closed: AtomicBool,
    pub(super) closing: Arc<Closing>,
    last_logged: LastLogged,
}

impl Shared {
    pub(super) fn new(options: PgConnectOptions, require_tls: bool, bounds: Bounds) -> Shared {
        Shared {
            options,
            require_tls,
            bounds,
            epoch: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            closing: Arc::default(),
            last_logged: LastLogged::default(),
        }
    }

    /// A connection turned out broken: every idle one is suspect until pinged.
    pub(super) fn suspect_all(&self) {
        self.epoch.fetch_add(1, Ordering::Relaxed);
    }
}

#[derive(Debug)]
pub(super) struct Manager(pub(super) Arc<Shared>);

impl bb8::ManageConnection for Manager {
    type Connection = Tracked;
    type Error = sqlx::Error;

    async fn connect(&self) -> Result<Tracked, sqlx::Error> {
        let shared = &self.0;
        // Read first: a connection opened after a suspicion is alive in that epoch.
        let epoch = shared.epoch.load(Ordering::Relaxed);
        let mut raw = tokio::time::timeout(CONNECT_TIMEOUT, shared.options.connect())
            .await
            .map_err(|_| sqlx::Error::Io(std::io::ErrorKind::TimedOut.into()))??;
        if shared.require_tls && !session_tls(&mut raw).await?.ssl {
            let _ = raw.close().await;
            return Err(sqlx::Error::Tls(
                "the session is not encrypted although the policy requires TLS".into(),
            ));
        }
        Ok(Tracked::new(
            raw,
            epoch,
            shared.closing.clone(),
            shared.bounds,
        ))
    }

    /// No round trip, unless a broken connection made this one suspect since it was last
    /// known alive.
    async fn is_valid(&self, conn: &mut Tracked) -> Result<(), sqlx::Error> {
        let epoch = self.0.epoch.load(Ordering::Relaxed);
        if conn.alive_in < epoch {
            conn.ping().await?;
            conn.alive_in = epoch;
        }
        Ok(())
    }

    /// On release, without I/O: abandoned mid-flight, broken, or the pool is closing.
    fn has_broken(&self, conn: &mut Tracked) -> bool {
        conn.health.busy || conn.health.broken || self.0.closed.load(Ordering::Relaxed)
    }
}

/// Logs the pool's background connection failures (bb8 retries them until a waiting
/// request's acquire timeout), at most once per [`LOG_EVERY`].
#[derive(Debug, Clone)]
pub(super) struct LogSink(pub(super) Arc<Shared>);

impl bb8::ErrorSink<sqlx::Error> for LogSink {
    fn sink(&self, error: sqlx::Error) {
        if self.0.last_logged.due(LOG_EVERY) {
            tracing::warn!(error = %error, "database pool: cannot open a connection");
        }
    }

    fn boxed_clone(&self) -> Box<dyn bb8::ErrorSink<sqlx::Error>> {
        Box::new(self.clone())
    }
}

/// When a line was last logged.
#[derive(Debug)]
struct LastLogged {
    origin: Instant,
    /// Milliseconds since `origin` plus one; 0: never.
    at: AtomicU64,
}

impl Default for LastLogged {
    fn default() -> LastLogged {
        LastLogged {
            origin: Instant::now(),
            at: AtomicU64::new(0),
        }
    }
}

impl LastLogged {
    /// True (and now recorded) when nothing was logged within `every`.
    fn due(&self, every: Duration) -> bool {
        let now = self.origin.elapsed().as_millis() as u64 + 1;
        let last = self.at.load(Ordering::Relaxed);
        let due = last == 0 || now - last >= every.as_millis() as u64;
        due && self
            .at
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }
}
