//! Statements behind a transaction pooler (PgBouncer in transaction mode, `DATABASE_POOL_MODE=
//! transaction`): every one inside an explicit transaction, and no prepared statement left on
//! the server connection when it ends.
//!
//! Why both. PgBouncer hands the server connection to another client at every
//! `ReadyForQuery` outside a transaction, and sqlx sends a statement with arguments as
//! `Parse`+`Describe`+`Sync`, then `Bind`+`Execute`+`Sync`: outside a transaction the two
//! halves may run on different server connections — an error, or another client's SQL run
//! with this one's arguments (crates/db/tests/it/pooler_statements.rs). Inside `BEGIN` …
//! `COMMIT` the server connection is this client's from start to end. But sqlx 0.8 names
//! its statements (`sqlx_s_N`, counted per client connection) even with the statement cache
//! off, never closes them then, and its own type look-ups (`SELECT $1::regtype::oid`, run
//! for enums such as `application_status`) are named too: left on the server connection,
//! the next client's `sqlx_s_1` there fails with `42P05`. So a transaction starts and ends
//! with `DEALLOCATE ALL` in the same message as `BEGIN` and `COMMIT`/`ROLLBACK` (one simple
//! query: PgBouncer forwards it whole to the one server connection), and no round trip is
//! added.
//!
//! The cost: `BEGIN` and `COMMIT` are a round trip each, so a single statement takes four
//! instead of one with cached statements on a direct connection (`cargo xtask bench`'s
//! PgBouncer row, docs/replicas.md). PgBouncer ≥ 1.21 with `max_prepared_statements` could keep named
//! statements across transactions; Debian 12 ships 1.18, so this is what is built.

use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use futures_util::{StreamExt as _, stream};
use sqlx::postgres::{PgQueryResult, PgRow, PgStatement, PgTypeInfo};
use sqlx::{Describe, Either, Error, Execute, Executor as _, PgConnection, Postgres};

use super::broken::is_broken;

/// How a transaction starts and ends on a connection of the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Bounds {
    /// A connection of our own per session: plain `BEGIN`/`COMMIT`/`ROLLBACK`, statements
    /// outside transactions as they come.
    Session,
    /// Behind a transaction pooler: see the module's doc.
    Pinned,
}

impl Bounds {
    /// Pinned, `DEALLOCATE ALL` first as well: a statement another client of the pooler left on
    /// this server connection (a `cargo xtask verify` run, a psql `PREPARE`) cannot collide
    /// with ours either.
    pub(super) fn begin(self) -> &'static str {
        match self {
            Bounds::Session => "BEGIN",
            Bounds::Pinned => "BEGIN; DEALLOCATE ALL",
        }
    }

    pub(super) fn commit(self) -> &'static str {
        match self {
            Bounds::Session => "COMMIT",
            // In this order: in a failed transaction `DEALLOCATE` fails and `COMMIT` is not
            // run, so the caller's rollback still finds the transaction open.
            Bounds::Pinned => "DEALLOCATE ALL; COMMIT",
        }
    }

    pub(super) fn rollback(self) -> &'static str {
        match self {
            Bounds::Session => "ROLLBACK",
            Bounds::Pinned => "ROLLBACK; DEALLOCATE ALL",
        }
    }
}

pub(super) async fn begin(raw: &mut PgConnection, bounds: Bounds) -> Result<(), Error> {
    raw.execute(bounds.begin()).await.map(drop)
}

/// Ends the transaction: commits when `ok`, else rolls back. A failed commit is rolled back
/// too (a pinned commit that failed may have left the transaction open); the first error is
/// returned.
pub(super) async fn end(raw: &mut PgConnection, bounds: Bounds, ok: bool) -> Result<(), Error> {
    if ok {
        match raw.execute(bounds.commit()).await {
            Ok(_) => return Ok(()),
            Err(e) if is_broken(&e) => return Err(e),
            Err(e) => {
                let _ = raw.execute(bounds.rollback()).await;
                return Err(e);
            }
        }
    }
    raw.execute(bounds.rollback()).await.map(drop)
}

/// `result` of a statement run in a transaction of its own, after ending that transaction.
async fn settle<T>(raw: &mut PgConnection, result: Result<T, Error>) -> Result<T, Error> {
    match result {
        Ok(value) => end(raw, Bounds::Pinned, true).await.map(|()| value),
        // The connection is gone: nothing to end.
        Err(e) if is_broken(&e) => Err(e),
        Err(e) => {
            // The statement's error is the one that matters; a broken rollback shows on the
            // next use.
            let _ = end(raw, Bounds::Pinned, false).await;
            Err(e)
        }
    }
}

/// The statements of a pinned connection used outside a transaction: each in its own.
pub(super) fn fetch_many<'e, 'q: 'e, E>(
    raw: &'e mut PgConnection,
    query: E,
) -> BoxStream<'e, Result<Either<PgQueryResult, PgRow>, Error>>
where
    E: 'q + Execute<'q, Postgres>,
{
    // The rows are collected before the transaction ends (a stream consumed half-way would
    // otherwise hold the server connection); sqlx's `fetch_all` collects them anyway.
    let unit = async move {
        begin(raw, Bounds::Pinned).await?;
        let items: Vec<_> = raw.fetch_many(query).collect().await;
        let failed = items.iter().any(Result::is_err);
        let broken = items.iter().any(|i| i.as_ref().is_err_and(is_broken));
        let ended = match (failed, broken) {
            (_, true) => Ok(()),
            (failed, false) => end(raw, Bounds::Pinned, !failed).await,
        };
        Ok::<_, Error>((items, ended))
    };
    Box::pin(
        stream::once(unit)
            .map(|unit| {
                let (items, ended) = match unit {
                    Ok(done) => done,
                    Err(e) => (vec![Err(e)], Ok(())),
                };
                stream::iter(items).chain(stream::iter(ended.err().map(Err)))
            })
            .flatten(),
    )
}

pub(super) fn fetch_optional<'e, 'q: 'e, E>(
    raw: &'e mut PgConnection,
    query: E,
) -> BoxFuture<'e, Result<Option<PgRow>, Error>>
where
    E: 'q + Execute<'q, Postgres>,
{
    Box::pin(async move {
        begin(raw, Bounds::Pinned).await?;
        let result = raw.fetch_optional(query).await;
        settle(raw, result).await
    })
}

pub(super) fn fetch_all<'e, 'q: 'e, E>(
    raw: &'e mut PgConnection,
    query: E,
) -> BoxFuture<'e, Result<Vec<PgRow>, Error>>
where
    E: 'q + Execute<'q, Postgres>,
{
    Box::pin(async move {
        begin(raw, Bounds::Pinned).await?;
        let result = raw.fetch_all(query).await;
        settle(raw, result).await
    })
}

pub(super) fn execute<'e, 'q: 'e, E>(
    raw: &'e mut PgConnection,
    query: E,
) -> BoxFuture<'e, Result<PgQueryResult, Error>>
where
    E: 'q + Execute<'q, Postgres>,
{
    Box::pin(async move {
        begin(raw, Bounds::Pinned).await?;
        let result = raw.execute(query).await;
        settle(raw, result).await
    })
}

pub(super) fn prepare_with<'e, 'q: 'e>(
    raw: &'e mut PgConnection,
    sql: &'q str,
    parameters: &'e [PgTypeInfo],
) -> BoxFuture<'e, Result<PgStatement<'q>, Error>> {
    Box::pin(async move {
        begin(raw, Bounds::Pinned).await?;
        let result = raw.prepare_with(sql, parameters).await;
        settle(raw, result).await
    })
}

pub(super) fn describe<'e, 'q: 'e>(
    raw: &'e mut PgConnection,
    sql: &'q str,
) -> BoxFuture<'e, Result<Describe<Postgres>, Error>> {
    Box::pin(async move {
        begin(raw, Bounds::Pinned).await?;
        let result = raw.describe(sql).await;
        settle(raw, result).await
    })
}
