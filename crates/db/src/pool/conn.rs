//! What a caller holds: a connection of the pool, or one opened fresh for a retry.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::broken::is_broken;
use super::manager::Manager;
use super::tracked::Tracked;

/// A connection; `&mut *conn` is the executor for sqlx's queries. Dropping it gives the
/// connection back (or closes it: see [`super`]).
pub struct Conn(Held);

enum Held {
    Pooled(bb8::PooledConnection<'static, Manager>),
    /// Opened for a retry, outside the pool's count; offered to the pool when given back.
    Fresh {
        conn: Option<Tracked>,
        pool: bb8::Pool<Manager>,
        _permit: OwnedSemaphorePermit,
    },
}

impl Conn {
    pub(super) fn pooled(conn: bb8::PooledConnection<'static, Manager>) -> Conn {
        Conn(Held::Pooled(conn))
    }

    /// A connection opened now, never one that existed before the caller's failure: with
    /// at most `limit`'s permits of them at once, retrying while the server refuses
    /// (restarting), within `budget`.
    pub(super) async fn fresh(
        pool: &bb8::Pool<Manager>,
        limit: &Arc<Semaphore>,
        budget: Duration,
    ) -> Result<Conn, sqlx::Error> {
        let open = async {
            let permit = limit.clone().acquire_owned().await.expect("never closed");
            let mut pause = Duration::from_millis(50);
            loop {
                match pool.dedicated_connection().await {
                    Ok(conn) => {
                        return Ok(Conn(Held::Fresh {
                            conn: Some(conn),
                            pool: pool.clone(),
                            _permit: permit,
                        }));
                    }
                    Err(e) if transient(&e) => {
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(Duration::from_millis(500));
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        tokio::time::timeout(budget, open)
            .await
            .unwrap_or(Err(sqlx::Error::PoolTimedOut))
    }
}

/// The server is not there yet, restarting, or full: worth another try within the budget.
fn transient(e: &sqlx::Error) -> bool {
    let full = matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("53300"));
    full || is_broken(e)
}

impl Deref for Conn {
    type Target = Tracked;
    fn deref(&self) -> &Tracked {
        match &self.0 {
            Held::Pooled(c) => c,
            Held::Fresh { conn, .. } => conn.as_ref().expect("only Drop takes it"),
        }
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut Tracked {
        match &mut self.0 {
            Held::Pooled(c) => c,
            Held::Fresh { conn, .. } => conn.as_mut().expect("only Drop takes it"),
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Held::Fresh { conn, pool, .. } = &mut self.0 {
            // Kept if healthy and the pool has room (`add` checks both); closed otherwise.
            if let Some(conn) = conn.take() {
                let _ = pool.add(conn);
            }
        }
    }
}

impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.0 {
            Held::Pooled(_) => "pooled",
            Held::Fresh { .. } => "fresh",
        };
        f.debug_tuple("Conn").field(&kind).field(&**self).finish()
    }
}
