//! A pooled `PgConnection` that knows whether its last operation finished.
//!
//! sqlx's own pool pings every connection on its way back ("a band-aid" for futures dropped
//! mid-query, its source says): a round trip per request. This type makes the ping
//! unnecessary: every operation goes through it (it is the `Executor`, or a [`Tx`] marks the
//! span), so it knows when one was abandoned mid-flight — a client gone, a
//! timeout — and the pool then closes the connection instead of handing it out in an unknown
//! protocol state. An operation that completed, successfully or with the server's error,
//! leaves the connection in a state sqlx tracks itself (a `ReadyForQuery` still due is read
//! by the next operation). An error that says the connection is gone marks it broken.
//!
//! It is also where a transaction pooler's rules are kept (`Bounds::Pinned`, see `pinned`):
//! the raw connection never leaves this type outside a transaction, so no call site can
//! forget them.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use futures_util::StreamExt as _;
use sqlx::postgres::{PgQueryResult, PgRow, PgStatement, PgTypeInfo};
use sqlx::{Connection as _, Describe, Either, Error, Execute, Executor, PgConnection, Postgres};

use super::pinned::{self, Bounds};

use super::broken::is_broken;
use super::closing::Closing;

/// How long closing a discarded connection may take (it may be stuck behind a query).
const CLOSE_BUDGET: Duration = Duration::from_secs(2);

/// What the pool needs to know about a connection when it comes back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Health {
    /// An operation started and has not finished (yet, or ever: it was dropped).
    pub busy: bool,
    /// An error said the connection is gone.
    pub broken: bool,
}

impl Health {
    fn settle<T>(&mut self, result: &Result<T, Error>) {
        match result {
            Ok(_) => self.busy = false,
            Err(e) => self.failed(e),
        }
    }

    /// The operation ended with `e`: the connection is broken, or free again.
    fn failed(&mut self, e: &Error) {
        if is_broken(e) {
            self.broken = true;
        } else {
            self.busy = false;
        }
    }
}

/// A connection of the pool. Queries take `&mut *conn` as their executor.
pub struct Tracked {
    raw: Option<PgConnection>,
    pub(super) health: Health,
    /// The pool's suspicion epoch this connection was last known alive in (see
    /// `Shared::suspect_all`).
    pub(super) alive_in: u64,
    closing: Arc<Closing>,
    bounds: Bounds,
}

impl fmt::Debug for Tracked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracked")
            .field("health", &self.health)
            .field("alive_in", &self.alive_in)
            .field("bounds", &self.bounds)
            .finish_non_exhaustive()
    }
}

impl Tracked {
    pub(super) fn new(
        raw: PgConnection,
        alive_in: u64,
        closing: Arc<Closing>,
        bounds: Bounds,
    ) -> Tracked {
        Tracked {
            raw: Some(raw),
            health: Health::default(),
            alive_in,
            closing,
            bounds,
        }
    }

    /// Whether each statement run outside a [`Tx`] gets a transaction of its own, and every
    /// transaction ends without prepared statements (a transaction pooler: see `pinned`).
    pub fn pinned(&self) -> bool {
        self.bounds == Bounds::Pinned
    }

    fn parts(&mut self) -> (&mut PgConnection, &mut Health) {
        let raw = self.raw.as_mut().expect("only Drop takes the connection");
        (raw, &mut self.health)
    }

    /// `BEGIN`. Until [`Tx::commit`] or [`Tx::rollback`] completes the connection counts as
    /// busy: a transaction dropped half-way is closed with its connection (the server rolls
    /// it back at once), never left waiting in the pool holding its locks.
    pub async fn begin(&mut self) -> Result<Tx<'_>, Error> {
        let bounds = self.bounds;
        let (raw, health) = self.parts();
        health.busy = true;
        match pinned::begin(raw, bounds).await {
            Ok(()) => Ok(Tx {
                raw,
                health,
                bounds,
            }),
            Err(e) => {
                health.failed(&e);
                Err(e)
            }
        }
    }

    /// A round trip (for the pool's check of a suspect connection).
    pub(super) async fn ping(&mut self) -> Result<(), Error> {
        let (raw, health) = self.parts();
        health.busy = true;
        let result = raw.ping().await;
        health.settle(&result);
        result
    }
}

/// Closes the connection politely (flushing whatever is queued, then `Terminate`) on a task
/// of its own, so PostgreSQL logs no "unexpected EOF" for every connection the pool lets go.
impl Drop for Tracked {
    fn drop(&mut self) {
        let Some(raw) = self.raw.take() else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let done = self.closing.start();
        runtime.spawn(async move {
            let _ = tokio::time::timeout(CLOSE_BUDGET, raw.close()).await;
            drop(done);
        });
    }
}

/// A transaction on a pooled connection; see [`Tracked::begin`]. Its statements take
/// `&mut *tx` (a `PgConnection` inside the transaction) as their executor.
#[derive(Debug)]
pub struct Tx<'c> {
    raw: &'c mut PgConnection,
    health: &'c mut Health,
    bounds: Bounds,
}

impl Tx<'_> {
    /// `COMMIT` (behind a transaction pooler, after `DEALLOCATE ALL`, in one message); if it
    /// fails, the transaction is rolled back before the error is returned.
    pub async fn commit(self) -> Result<(), Error> {
        let result = pinned::end(self.raw, self.bounds, true).await;
        self.health.settle(&result);
        result
    }

    pub async fn rollback(self) -> Result<(), Error> {
        let result = pinned::end(self.raw, self.bounds, false).await;
        self.health.settle(&result);
        result
    }
}

impl Deref for Tx<'_> {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        self.raw
    }
}

impl DerefMut for Tx<'_> {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.raw
    }
}

/// `future`, with the connection busy until it completes.
fn watched<'e, T: Send + 'e>(
    health: &'e mut Health,
    future: BoxFuture<'e, Result<T, Error>>,
) -> BoxFuture<'e, Result<T, Error>> {
    health.busy = true;
    Box::pin(async move {
        let result = future.await;
        health.settle(&result);
        result
    })
}

/// A row stream, with the connection busy until the stream ended.
struct Watched<'e, S> {
    stream: S,
    health: &'e mut Health,
}

impl<T, S: Stream<Item = Result<T, Error>> + Unpin> Stream for Watched<'_, S> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let next = this.stream.poll_next_unpin(cx);
        match &next {
            Poll::Ready(None) => this.health.busy = false,
            Poll::Ready(Some(Err(e))) => this.health.failed(e),
            _ => {}
        }
        next
    }
}

impl<'c> Executor<'c> for &'c mut Tracked {
    type Database = Postgres;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<PgQueryResult, PgRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        let pinned = self.pinned();
        let (raw, health) = self.parts();
        health.busy = true;
        let stream = match pinned {
            true => pinned::fetch_many(raw, query),
            false => raw.fetch_many(query),
        };
        Box::pin(Watched { stream, health })
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<PgRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        let pinned = self.pinned();
        let (raw, health) = self.parts();
        let future = match pinned {
            true => pinned::fetch_optional(raw, query),
            false => raw.fetch_optional(query),
        };
        watched(health, future)
    }

    fn fetch_all<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Vec<PgRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        let pinned = self.pinned();
        let (raw, health) = self.parts();
        let future = match pinned {
            true => pinned::fetch_all(raw, query),
            false => raw.fetch_all(query),
        };
        watched(health, future)
    }

    fn execute<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<PgQueryResult, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        let pinned = self.pinned();
        let (raw, health) = self.parts();
        let future = match pinned {
            true => pinned::execute(raw, query),
            false => raw.execute(query),
        };
        watched(health, future)
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [PgTypeInfo],
    ) -> BoxFuture<'e, Result<PgStatement<'q>, Error>>
    where
        'c: 'e,
    {
        let pinned = self.pinned();
        let (raw, health) = self.parts();
        let future = match pinned {
            true => pinned::prepare_with(raw, sql, parameters),
            false => raw.prepare_with(sql, parameters),
        };
        watched(health, future)
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, Result<Describe<Postgres>, Error>>
    where
        'c: 'e,
    {
        let pinned = self.pinned();
        let (raw, health) = self.parts();
        let future = match pinned {
            true => pinned::describe(raw, sql),
            false => raw.describe(sql),
        };
        watched(health, future)
    }
}
