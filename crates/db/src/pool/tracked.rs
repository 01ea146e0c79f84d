//! A pooled `PgConnection` that knows whether its last operation finished.
//!
//! sqlx's own pool pings every connection on its way back ("a band-aid" for futures dropped
//! mid-query, its source says): a round trip per request. This type makes the ping
//! unnecessary: every operation goes through it (it is the `Executor`, or a [`Lease`] or a
//! [`Tx`] marks the span), so it knows when one was abandoned mid-flight — a client gone, a
//! timeout — and the pool then closes the connection instead of handing it out in an unknown
//! protocol state. An operation that completed, successfully or with the server's error,
//! leaves the connection in a state sqlx tracks itself (a `ReadyForQuery` still due is read
//! by the next operation). An error that says the connection is gone marks it broken.

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
}

impl fmt::Debug for Tracked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracked")
            .field("health", &self.health)
            .field("alive_in", &self.alive_in)
            .finish_non_exhaustive()
    }
}

impl Tracked {
    pub(super) fn new(raw: PgConnection, alive_in: u64, closing: Arc<Closing>) -> Tracked {
        Tracked {
            raw: Some(raw),
            health: Health::default(),
            alive_in,
            closing,
        }
    }

    fn parts(&mut self) -> (&mut PgConnection, &mut Health) {
        let raw = self.raw.as_mut().expect("only Drop takes the connection");
        (raw, &mut self.health)
    }

    /// The raw connection for a span of work the caller ends with [`Lease::done`]; dropped
    /// before that, the connection counts as abandoned mid-flight.
    pub fn lease(&mut self) -> Lease<'_> {
        let (raw, health) = self.parts();
        health.busy = true;
        Lease { raw, health }
    }

    /// `BEGIN`. Until [`Tx::commit`] or [`Tx::rollback`] completes the connection counts as
    /// busy: a transaction dropped half-way is closed with its connection (the server rolls
    /// it back at once), never left waiting in the pool holding its locks.
    pub async fn begin(&mut self) -> Result<Tx<'_>, Error> {
        let (raw, health) = self.parts();
        health.busy = true;
        match raw.begin().await {
            Ok(tx) => Ok(Tx { tx, health }),
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

/// See [`Tracked::lease`].
#[derive(Debug)]
pub struct Lease<'c> {
    raw: &'c mut PgConnection,
    health: &'c mut Health,
}

impl Lease<'_> {
    /// The span's work completed: the connection may be reused.
    pub fn done(self) {
        self.health.busy = false;
    }

    /// The span's work failed with `error`, and the span ends: a broken connection is not
    /// reused.
    pub fn failed(self, error: &Error) {
        self.health.failed(error);
    }

    /// A step of the span failed with `error` and the span goes on: remembered if it says
    /// the connection is gone.
    pub fn note(&mut self, error: &Error) {
        if is_broken(error) {
            self.health.broken = true;
        }
    }
}

impl Deref for Lease<'_> {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        self.raw
    }
}

impl DerefMut for Lease<'_> {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.raw
    }
}

/// A transaction on a pooled connection; see [`Tracked::begin`].
#[derive(Debug)]
pub struct Tx<'c> {
    tx: sqlx::Transaction<'c, Postgres>,
    health: &'c mut Health,
}

impl Tx<'_> {
    pub async fn commit(self) -> Result<(), Error> {
        let result = self.tx.commit().await;
        self.health.settle(&result);
        result
    }

    pub async fn rollback(self) -> Result<(), Error> {
        let result = self.tx.rollback().await;
        self.health.settle(&result);
        result
    }
}

impl Deref for Tx<'_> {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.tx
    }
}

impl DerefMut for Tx<'_> {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.tx
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
        let (raw, health) = self.parts();
        health.busy = true;
        Box::pin(Watched {
            stream: raw.fetch_many(query),
            health,
        })
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<PgRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        let (raw, health) = self.parts();
        watched(health, raw.fetch_optional(query))
    }

    fn fetch_all<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Vec<PgRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        let (raw, health) = self.parts();
        watched(health, raw.fetch_all(query))
    }

    fn execute<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<PgQueryResult, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        let (raw, health) = self.parts();
        watched(health, raw.execute(query))
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [PgTypeInfo],
    ) -> BoxFuture<'e, Result<PgStatement<'q>, Error>>
    where
        'c: 'e,
    {
        let (raw, health) = self.parts();
        watched(health, raw.prepare_with(sql, parameters))
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, Result<Describe<Postgres>, Error>>
    where
        'c: 'e,
    {
        let (raw, health) = self.parts();
        watched(health, raw.describe(sql))
    }
}
