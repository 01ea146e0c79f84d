//! The application's pool: every connection it opens is TLS-proven.

use std::time::Duration;

use intowork_config::DatabaseSettings;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection as _, PgPool};

use crate::connect::{close, connect};
use crate::error::ConnectError;
use crate::locality::Route;
use crate::options::route_options;
use crate::proof::{SessionTls, session_tls};

/// How long a request may wait for a pooled connection before the caller answers 503.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// A pooled connection idle longer than this is pinged before it is handed out. sqlx's
/// default pings on *every* acquire, a full round trip per request (see [`build`]).
pub const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// Connects once with the full diagnosis (locality, pin, retries, TLS proof), then builds the
/// pool on the route that connection took.
pub async fn connect_pool(db: &DatabaseSettings) -> Result<(PgPool, SessionTls), ConnectError> {
    let first = connect(db).await?;
    let session = first.session.clone();
    close(first.conn).await;
    Ok((pool(db, &first.route), session))
}

/// A lazy pool on `route` (from [`crate::locality::route`]) whose `after_connect` refuses any
/// unencrypted session under a TLS policy.
pub fn pool(db: &DatabaseSettings, route: &Route) -> PgPool {
    build(db, route_options(db, route), db.max_connections())
}

/// A second, smaller pool to where `pool` connects (same route, same TLS proof), for a
/// background task that must not take the requests' connections (the email outbox worker).
pub fn sibling(pool: &PgPool, db: &DatabaseSettings, max_connections: u32) -> PgPool {
    build(db, (*pool.connect_options()).clone(), max_connections)
}

/// sqlx 0.8 pings a connection when it goes back to the pool (always) and again when it is
/// taken out (`test_before_acquire`, on by default): two extra round trips per request. The
/// release ping already proved the connection alive, so it is pinged on acquire only after
/// [`PING_AFTER_IDLE`]: a busy pool skips the ping, a connection that sat idle while the
/// server restarted is still caught and replaced before a request gets it. The price: a
/// connection released less than that before a restart can reach one request, which fails,
/// and sqlx's release ping then discards the connection.
fn build(db: &DatabaseSettings, options: PgConnectOptions, max_connections: u32) -> PgPool {
    let require_tls = db.target().tls_mode().guarantees_encryption();
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_AFTER_IDLE {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if require_tls && !session_tls(conn).await?.ssl {
                    return Err(sqlx::Error::Tls(
                        "the session is not encrypted although the policy requires TLS".into(),
                    ));
                }
                Ok(())
            })
        })
        .connect_lazy_with(options)
}
