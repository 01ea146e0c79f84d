//! The application's pool: bb8 over sqlx `PgConnection`s, every one TLS-proven, with no
//! round trip of its own per request.
//!
//! Why not sqlx's `PgPool`: sqlx 0.8 pings every connection on its way back to the pool
//! (`PoolConnection::return_to_pool`, unconditional — and still so in 0.9.1), a second round
//! trip per request that PostgreSQL must answer too. Here a connection knows whether its
//! last operation finished ([`Tracked`]): on release, one abandoned mid-flight (client gone,
//! request timeout) or broken is closed, the rest go back as they are, without I/O.
//!
//! What replaces the ping as the guard against dead connections: a read that fails because
//! its connection is gone is run once more ([`Pool::read`]), and every idle connection is
//! pinged once before its next use after such a failure (the server probably restarted).
//! Connections idle longer than [`IDLE_TIMEOUT`] are closed before a proxy would cut them,
//! and the server probes idle sessions with TCP keepalives ([`crate::KEEPALIVE`], set for every
//! connection in [`crate::connect_options`]).
//!
//! Behind a transaction pooler (the statement cache off: `DATABASE_POOL_MODE=transaction`,
//! or a URL that names a pooler) the pool's connections are *pinned* (`pinned.rs`): a
//! statement run outside a [`Tx`] gets a transaction of its own, and every transaction starts
//! and ends with `DEALLOCATE ALL`, so nothing outlives the transaction that PgBouncer lent a
//! server connection for. The pool decides, from the settings; queries and call sites do not change,
//! and the raw connection is only reachable inside a transaction ([`Tx`]) or through
//! [`Tracked`]'s `Executor`.

mod broken;
mod closing;
mod conn;
mod manager;
mod pinned;
mod tracked;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use intowork_config::DatabaseSettings;
use sqlx::postgres::PgConnectOptions;
use tokio::sync::Semaphore;

pub use broken::is_broken;
pub use conn::Conn;
pub use tracked::{Health, Tracked, Tx};

use crate::connect::connect;
use crate::error::ConnectError;
use crate::locality::Route;
use crate::options::route_options;
use crate::proof::SessionTls;
use manager::{LogSink, Manager, Shared};
use pinned::Bounds;

/// How long a request may wait for a pooled connection (including opening one, retried
/// while the server refuses) before the caller answers 503.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// A connection idle this long is closed (checked every [`REAPER_EVERY`]): well inside the
/// idle limits of common TCP proxies and load balancers (4 minutes and more), so the pool
/// never holds a connection a proxy has already dropped for idleness.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// How often idle and old connections are looked for.
pub const REAPER_EVERY: Duration = Duration::from_secs(15);
/// Connections are replaced after this long (a failover's new primary gets traffic).
pub const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// A pool of TLS-proven connections; cheap to clone.
#[derive(Debug, Clone)]
pub struct Pool {
    inner: bb8::Pool<Manager>,
    shared: Arc<Shared>,
    max: u32,
    /// Connections opened fresh for retries, beside the pool's own: at most `max` at once.
    fresh: Arc<Semaphore>,
}

/// The pool's size now, for readiness and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    /// Open connections (idle and in use).
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

/// Connects once with the full diagnosis (locality, pin, retries, TLS proof), then builds the
/// pool on the route that connection took, with that connection in it.
pub async fn connect_pool(db: &DatabaseSettings) -> Result<(Pool, SessionTls), ConnectError> {
    let first = connect(db).await?;
    let pool = pool(db, &first.route);
    let epoch = pool.shared.epoch.load(Ordering::Relaxed);
    let conn = Tracked::new(
        first.conn,
        epoch,
        pool.shared.closing.clone(),
        pool.shared.bounds,
    );
    // Full only if the configured size is 0, which the configuration refuses.
    let _ = pool.inner.add(conn);
    Ok((pool, first.session))
}

/// A lazy pool on `route` (from [`crate::locality::route`]) that refuses any unencrypted
/// session under a TLS policy. Needs a Tokio runtime (its reaper is a task).
pub fn pool(db: &DatabaseSettings, route: &Route) -> Pool {
    let options = route_options(db, route);
    let require_tls = db.target().tls_mode().guarantees_encryption();
    // The statement cache is off exactly when a transaction pooler is declared or guessed.
    let bounds = match db.statement_cache_disabled() {
        true => Bounds::Pinned,
        false => Bounds::Session,
    };
    let shared = Shared::new(options, require_tls, bounds);
    Pool::build(shared, db.max_connections())
}

impl Pool {
    fn build(shared: Shared, max_connections: u32) -> Pool {
        let shared = Arc::new(shared);
        let inner = bb8::Pool::builder()
            .max_size(max_connections)
            .min_idle(None)
            .connection_timeout(ACQUIRE_TIMEOUT)
            // `is_valid` does no I/O unless the connection is suspect.
            .test_on_check_out(true)
            .idle_timeout(IDLE_TIMEOUT)
            .max_lifetime(MAX_LIFETIME)
            .reaper_rate(REAPER_EVERY)
            .retry_connection(true)
            .error_sink(Box::new(LogSink(shared.clone())))
            .build_unchecked(Manager(shared.clone()));
        Pool {
            inner,
            shared,
            max: max_connections,
            fresh: Arc::new(Semaphore::new(max_connections as usize)),
        }
    }

    /// A second, smaller pool to where this one connects (same route, options and TLS
    /// proof), for a background task that must not take the requests' connections (the
    /// email outbox worker).
    pub fn sibling(&self, max_connections: u32) -> Pool {
        let shared = Shared::new(
            self.shared.options.clone(),
            self.shared.require_tls,
            self.shared.bounds,
        );
        Pool::build(shared, max_connections)
    }

    /// The options every connection of this pool is opened with.
    pub fn connect_options(&self) -> &PgConnectOptions {
        &self.shared.options
    }

    /// Whether this pool's connections are pinned for a transaction pooler (see above).
    pub fn pinned(&self) -> bool {
        self.shared.bounds == Bounds::Pinned
    }

    /// A connection within [`ACQUIRE_TIMEOUT`], or `PoolTimedOut` (the caller's 503).
    /// Writes and transactions take one here: they are never retried by the pool.
    pub async fn acquire(&self) -> Result<Conn, sqlx::Error> {
        if self.shared.closed.load(Ordering::Relaxed) {
            return Err(sqlx::Error::PoolClosed);
        }
        match self.inner.get_owned().await {
            Ok(conn) => Ok(Conn::pooled(conn)),
            Err(bb8::RunError::TimedOut) => Err(sqlx::Error::PoolTimedOut),
            Err(bb8::RunError::User(e)) => Err(e),
        }
    }

    /// Runs a read-only `query` on a pooled connection. If it fails because the connection is
    /// gone (reset, closed, `57P01` after a restart or `pg_terminate_backend`, …) — before any
    /// row could reach a client, since it returns only once complete — it runs once more, on
    /// a connection opened for it (an idle one may have been ended by the same restart or
    /// `pg_terminate_backend` call, even if it still answered a ping a moment ago); the
    /// other idle connections are pinged once before their next use. Only for statements
    /// that change nothing: a write whose connection broke may have committed.
    pub async fn read<T, F, Fut>(&self, query: F) -> Result<T, sqlx::Error>
    where
        F: Fn(Conn) -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>>,
    {
        match query(self.acquire().await?).await {
            Err(e) if is_broken(&e) => {
                tracing::info!(error = %e, "a pooled connection was gone; reading again on a live one");
                self.shared.suspect_all();
                query(Conn::fresh(&self.inner, &self.fresh, ACQUIRE_TIMEOUT).await?).await
            }
            done => done,
        }
    }

    pub fn state(&self) -> PoolState {
        let state = self.inner.state();
        PoolState {
            open: state.connections,
            idle: state.idle_connections,
            max: self.max,
        }
    }

    /// Closes every connection: idle ones now, the others as they come back; waits (at most
    /// `budget`) until each has said goodbye to the server.
    pub async fn close(&self, budget: Duration) {
        self.shared.closed.store(true, Ordering::Relaxed);
        let _ = tokio::time::timeout(budget, async {
            // Taking an idle connection and giving it back discards it (`has_broken`).
            while self.inner.state().idle_connections > 0 {
                let take = tokio::time::timeout(Duration::from_millis(50), self.inner.get());
                drop(take.await);
            }
            self.shared.closing.wait().await;
        })
        .await;
    }
}
