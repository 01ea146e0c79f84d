//! The pool behind a transaction pooler (issue 27): with `DATABASE_POOL_MODE=transaction` its
//! connections are pinned — every statement, whichever way it reaches the pool, runs inside
//! an explicit transaction, and no prepared statement outlives one — so sqlx's statements are
//! right through a real transaction-mode PgBouncer 1.18 under concurrency. What sqlx does
//! there without the pinning: pooler_statements.rs.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use crate::common::{proxy, settings};
use futures_util::TryStreamExt as _;
use intowork_db::{Pool, connect_pool};
use intowork_testkit::{BouncerOptions, Flavor, PgBouncer, PgServer};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

fn server() -> &'static PgServer {
    PgServer::shared(Flavor::TlsOnly)
}

/// A pool for `url` as the backend builds it; `transaction`: `DATABASE_POOL_MODE=transaction`
/// (start-up migrations off, so no direct URL is needed).
async fn pool(url: &str, transaction: bool, max: &str) -> Pool {
    let mut extra = vec![("DATABASE_MAX_CONNECTIONS", max)];
    if transaction {
        extra.extend([
            ("DATABASE_POOL_MODE", "transaction"),
            ("MIGRATE_ON_START", "false"),
        ]);
    }
    connect_pool(settings(url, &extra).database())
        .await
        .unwrap()
        .0
}

/// A proxy that reads the wire protocol between the pool and a plaintext server and counts
/// extended-protocol messages (`Parse`, `Bind`, `Describe`, `Execute`) sent while the server
/// last said it was idle — outside a transaction block (`ReadyForQuery` status `I`). Behind
/// a transaction pooler each of those would be a moment the server connection could change.
struct Watcher {
    port: u16,
    outside: Arc<AtomicU32>,
}

impl Watcher {
    async fn start(upstream: u16) -> Watcher {
        let outside = Arc::new(AtomicU32::new(0));
        let count = outside.clone();
        let port = proxy(upstream, move |cr, cw, sr, sw| {
            let idle = Arc::new(AtomicBool::new(true));
            tokio::spawn(from_client(cr, sw, idle.clone(), count.clone()));
            tokio::spawn(from_server(sr, cw, idle));
        })
        .await;
        Watcher { port, outside }
    }

    fn outside(&self) -> u32 {
        self.outside.load(Ordering::SeqCst)
    }
}

/// One message: its type byte (none for the start-up message) and the whole of it.
async fn message(from: &mut (impl AsyncRead + Unpin), typed: bool) -> Option<(u8, Vec<u8>)> {
    let mut head = vec![0u8; if typed { 5 } else { 4 }];
    from.read_exact(&mut head).await.ok()?;
    let len = u32::from_be_bytes(head[head.len() - 4..].try_into().unwrap()) as usize;
    let mut body = vec![0u8; len - 4];
    from.read_exact(&mut body).await.ok()?;
    head.extend_from_slice(&body);
    Some((if typed { head[0] } else { 0 }, head))
}

async fn from_client(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    idle: Arc<AtomicBool>,
    outside: Arc<AtomicU32>,
) {
    let mut typed = false;
    while let Some((kind, bytes)) = message(&mut from, typed).await {
        typed = true;
        if matches!(kind, b'P' | b'B' | b'D' | b'E') && idle.load(Ordering::SeqCst) {
            outside.fetch_add(1, Ordering::SeqCst);
        }
        if to.write_all(&bytes).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

async fn from_server(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    idle: Arc<AtomicBool>,
) {
    while let Some((kind, bytes)) = message(&mut from, true).await {
        // Recorded before the client can see it and send its next message.
        if kind == b'Z' {
            idle.store(bytes[5] == b'I', Ordering::SeqCst);
        }
        if to.write_all(&bytes).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// How many prepared statements the session holds, the probe's own included.
const PROBE: &str = "SELECT (SELECT count(*) FROM pg_prepared_statements)::int8 FROM generate_series(1, 2) LIMIT $1";

/// The probe through every way the pool runs a statement: each executor method on a read,
/// on an acquired connection, and inside a transaction.
async fn every_path(pool: &Pool) -> Vec<(&'static str, i64)> {
    let mut seen = Vec::new();
    let one = |n: i64| sqlx::query_scalar::<_, i64>(PROBE).bind(n);
    let read = pool
        .read(|mut c| async move { one(1).fetch_one(&mut *c).await })
        .await
        .unwrap();
    seen.push(("read fetch_one", read));
    let all = pool
        .read(|mut c| async move { one(2).fetch_all(&mut *c).await })
        .await
        .unwrap();
    seen.extend(all.into_iter().map(|p| ("read fetch_all", p)));
    let streamed: Vec<i64> = pool
        .read(|mut c| async move { one(2).fetch(&mut *c).try_collect().await })
        .await
        .unwrap();
    seen.extend(streamed.into_iter().map(|p| ("read fetch", p)));
    let mut conn = pool.acquire().await.unwrap();
    let optional = one(1).fetch_optional(&mut *conn).await.unwrap().unwrap();
    seen.push(("acquired fetch_optional", optional));
    sqlx::query("SELECT $1::int4")
        .bind(1)
        .execute(&mut *conn)
        .await
        .unwrap();
    let mut tx = conn.begin().await.unwrap();
    let inside = one(1).fetch_one(&mut *tx).await.unwrap();
    seen.push(("transaction", inside));
    tx.commit().await.unwrap();
    seen
}

#[tokio::test]
async fn a_pinned_pool_sends_no_statement_outside_a_transaction_and_leaves_none_prepared() {
    let server = PgServer::shared(Flavor::PlaintextOnly);
    let db = server.create_database();
    let watcher = Watcher::start(db.port).await;
    let url = db.url_with_host_port("localhost", watcher.port, "sslmode=disable");
    let pinned = pool(&url, true, "2").await;
    assert!(pinned.pinned());
    // Three rounds: a statement left over from an earlier one would be counted.
    for _ in 0..3 {
        for (path, prepared) in every_path(&pinned).await {
            assert!(
                prepared <= 1,
                "{path}: {prepared} prepared statements on the session, its own included"
            );
        }
    }
    assert_eq!(
        watcher.outside(),
        0,
        "statements sent outside a transaction"
    );
    // The watcher can tell: without a pooler, statements run as they come, and the statement
    // cache keeps them prepared.
    let session = pool(&url, false, "1").await;
    assert!(!session.pinned());
    let mut cached = Vec::new();
    for _ in 0..3 {
        cached = every_path(&session).await;
    }
    assert!(watcher.outside() > 0);
    assert!(cached.iter().any(|(_, n)| *n > 1), "{cached:?}");
    pinned.close(std::time::Duration::from_secs(5)).await;
    session.close(std::time::Duration::from_secs(5)).await;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "mood", rename_all = "lowercase")]
enum Mood {
    Calm,
    Busy,
}

/// What the load saw besides right answers.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Tally {
    right: u32,
    wrong: u32,
    errors: Vec<String>,
}

/// Three pools (three replicas) of four connections each, twelve tasks, on two server
/// connections: reads whose SQL names the task (another task's statement would answer
/// with another number), an enum bound and returned (sqlx looks its type up with statements
/// of its own, on each new connection), and writes in transactions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_a_transaction_pooler_every_answer_is_right() {
    let db = server().create_database();
    server().psql(
        &db.name,
        &format!(
            "CREATE TYPE mood AS ENUM ('calm', 'busy'); CREATE TABLE log (task int8, i int8, mood mood);
             ALTER TYPE mood OWNER TO {0}; ALTER TABLE log OWNER TO {0}",
            db.user
        ),
    );
    let bouncer = PgBouncer::start_with(
        server(),
        &[&db],
        BouncerOptions {
            default_pool_size: 2,
            ..BouncerOptions::default()
        },
    );
    let url = bouncer.url(&db, "sslmode=require");
    let mut pools = Vec::new();
    for _ in 0..3 {
        pools.push(pool(&url, true, "4").await);
    }
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..12_i64 {
        let (pool, tally) = (pools[task as usize % 3].clone(), tally.clone());
        tasks.spawn(async move {
            for i in 0..60 {
                let outcome = step(&pool, task, i).await;
                let mut t = tally.lock().unwrap();
                match outcome {
                    Ok(true) => t.right += 1,
                    Ok(false) => t.wrong += 1,
                    Err(e) => t.errors.push(e.to_string()),
                }
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let tally = tally.lock().unwrap().clone();
    assert_eq!((tally.wrong, &tally.errors[..]), (0, &[][..]), "{tally:?}");
    assert_eq!(tally.right, 12 * 60);
    assert_eq!(
        server().psql(&db.name, "SELECT count(*) FROM log"),
        (12 * 60 / 3).to_string()
    );
    for p in &pools {
        p.close(std::time::Duration::from_secs(5)).await;
    }
}

/// One unit of the load: a read, an enum round trip, or a write; whether its answer was
/// this task's.
async fn step(pool: &Pool, task: i64, i: i64) -> Result<bool, sqlx::Error> {
    let mood = if i % 2 == 0 { Mood::Calm } else { Mood::Busy };
    match i % 3 {
        0 => {
            let sql = format!("SELECT $1::int8 * 1000 + {task}");
            let got: i64 = pool
                .read(|mut c| {
                    let sql = sql.clone();
                    async move { sqlx::query_scalar(&sql).bind(i).fetch_one(&mut *c).await }
                })
                .await?;
            Ok(got == i * 1000 + task)
        }
        1 => {
            let got: (Mood, i64) = pool
                .read(|mut c| async move {
                    sqlx::query_as("SELECT $1::mood, $2::int8")
                        .bind(mood)
                        .bind(task)
                        .fetch_one(&mut *c)
                        .await
                })
                .await?;
            Ok(got == (mood, task))
        }
        _ => {
            let mut conn = pool.acquire().await?;
            let mut tx = conn.begin().await?;
            sqlx::query("INSERT INTO log VALUES ($1, $2, $3)")
                .bind(task)
                .bind(i)
                .bind(mood)
                .execute(&mut *tx)
                .await?;
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM log WHERE task = $1")
                .bind(task)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(n == i / 3 + 1)
        }
    }
}

/// Another client of the pooler (a `cargo xtask verify`, psql's `PREPARE`, sqlx with its
/// cache on) leaves a named statement on the only server connection: the pinned pool's first
/// statement, also `sqlx_s_1`, still runs.
#[tokio::test]
async fn a_statement_another_client_left_on_the_server_connection_does_not_collide() {
    use sqlx::Connection as _;
    let db = server().create_database();
    let bouncer = PgBouncer::start_with(
        server(),
        &[&db],
        BouncerOptions {
            default_pool_size: 1,
            ..BouncerOptions::default()
        },
    );
    let url = bouncer.url(&db, "sslmode=require");
    let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    let mut other = sqlx::PgConnection::connect_with(&options).await.unwrap();
    let one: i32 = sqlx::query_scalar("SELECT $1::int4")
        .bind(1)
        .fetch_one(&mut other)
        .await
        .unwrap();
    assert_eq!(one, 1);
    let pool = pool(&url, true, "1").await;
    let two: i64 = pool
        .read(|mut c| async move {
            sqlx::query_scalar("SELECT $1::int8")
                .bind(2_i64)
                .fetch_one(&mut *c)
                .await
        })
        .await
        .expect("no 42P05: the transaction starts with DEALLOCATE ALL");
    assert_eq!(two, 2);
    let _ = other.close().await;
    pool.close(std::time::Duration::from_secs(5)).await;
}
