//! The application's pool: every connection it opens is TLS-proven.

use std::time::Duration;

use intowork_config::DatabaseSettings;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::connect::{close, connect};
use crate::error::ConnectError;
use crate::locality::Route;
use crate::options::route_options;
use crate::proof::{SessionTls, session_tls};

/// How long a request may wait for a pooled connection before the caller answers 503.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

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

fn build(db: &DatabaseSettings, options: PgConnectOptions, max_connections: u32) -> PgPool {
    let require_tls = db.target().tls_mode().guarantees_encryption();
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
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
