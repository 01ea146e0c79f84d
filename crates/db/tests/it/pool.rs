//! The pool against real PostgreSQL: no round trip on release, abandoned work never reused,
//! reads that survive a terminated session or a restart, writes that are never repeated.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::common::*;
use intowork_db::{Pool, connect_pool, is_broken};
use intowork_testkit::{Flavor, PgServer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

fn shared() -> &'static PgServer {
    PgServer::shared(Flavor::TlsOnly)
}

async fn pool_on(url: &str, extra: &[(&str, &str)]) -> Pool {
    connect_pool(settings(url, extra).database())
        .await
        .unwrap()
        .0
}

async fn pid(pool: &Pool) -> i32 {
    pool.read(|mut c| async move {
        sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *c)
            .await
    })
    .await
    .unwrap()
}

/// Polls `sql` (as the superuser) until it prints `want`, for at most `within`.
async fn eventually(server: &PgServer, sql: &str, want: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let got = server.psql("postgres", sql);
        if got == want {
            return;
        }
        assert!(Instant::now() < deadline, "`{sql}` still says {got}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_pool_keeps_the_proven_first_connection_and_asks_for_keepalives() {
    let db = shared().create_database();
    let pool = pool_on(&db.url("sslmode=require"), &[]).await;
    assert_eq!(pool.state().open, 1, "the diagnosed connection is reused");
    let mut conn = pool.acquire().await.unwrap();
    let (app, ssl, keepalive): (String, bool, String) = sqlx::query_as(
        "SELECT current_setting('application_name'), ssl, current_setting('tcp_keepalives_idle')
           FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(
        (app.as_str(), ssl, keepalive.as_str()),
        ("intowork-backend", true, "60")
    );
    drop(conn);
    assert_eq!(pool.state().idle, 1);
    pool.close(Duration::from_secs(5)).await;
    assert_eq!(pool.state().open, 0);
}

/// Counts the bytes a client sends through it to `upstream`.
struct CountingProxy {
    port: u16,
    sent: Arc<AtomicU64>,
}

impl CountingProxy {
    async fn start(upstream: u16) -> CountingProxy {
        let sent = Arc::new(AtomicU64::new(0));
        let counter = sent.clone();
        let port = proxy(upstream, move |cr, cw, sr, sw| {
            tokio::spawn(pipe(cr, sw, Some(counter.clone())));
            tokio::spawn(pipe(sr, cw, None));
        })
        .await;
        CountingProxy { port, sent }
    }

    fn sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }
}

async fn pipe(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    count: Option<Arc<AtomicU64>>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        use tokio::io::AsyncReadExt;
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some(c) = &count {
            c.fetch_add(n as u64, Ordering::SeqCst);
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// sqlx's own pool sends a ping (a `Sync`, answered by the server) whenever a connection goes
/// back: here, once a query has been answered, nothing more goes to the server.
#[tokio::test]
async fn giving_a_connection_back_sends_nothing_to_the_server() {
    let db = shared().create_database();
    let proxy = CountingProxy::start(shared().port()).await;
    let url = db.url_with_host_port("localhost", proxy.port, "sslmode=require");
    let pool = pool_on(&url, &[]).await;
    for round in 0..3 {
        let mut conn = pool.acquire().await.unwrap();
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(one, 1);
        let before = proxy.sent();
        drop(conn);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(proxy.sent(), before, "round {round}: bytes sent on release");
    }
    assert_eq!(pool.state().open, 1, "one connection served every round");
}

/// A query abandoned mid-flight (its request was cut) leaves its connection in an unknown
/// state: the pool closes it, and the next caller neither waits for the abandoned query nor
/// reads its rows.
#[tokio::test]
async fn an_abandoned_query_is_never_handed_to_the_next_caller() {
    let db = shared().create_database();
    let pool = pool_on(
        &db.url("sslmode=require"),
        &[("DATABASE_MAX_CONNECTIONS", "1")],
    )
    .await;
    let first = pid(&pool).await;
    let abandoned = tokio::time::timeout(
        Duration::from_millis(300),
        pool.read(|mut c| async move {
            sqlx::query_scalar::<_, i32>("SELECT 7 FROM pg_sleep(3)")
                .fetch_one(&mut *c)
                .await
        }),
    )
    .await;
    assert!(abandoned.is_err(), "the query was cut");

    let t = Instant::now();
    let answer: i32 = pool
        .read(|mut c| async move { sqlx::query_scalar("SELECT 2").fetch_one(&mut *c).await })
        .await
        .unwrap();
    assert_eq!(answer, 2, "the next caller gets its own rows");
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "the next caller waited for the abandoned query: {:?}",
        t.elapsed()
    );
    assert_ne!(
        pid(&pool).await,
        first,
        "the abandoned connection was closed"
    );
    let gone = format!("SELECT count(*) FROM pg_stat_activity WHERE pid = {first}");
    eventually(shared(), &gone, "0", Duration::from_secs(10)).await;
}

/// A transaction dropped half-way (an error path, a cut request) is not parked in the pool
/// with its locks: its connection is closed and the server rolls back at once. One ended
/// with `rollback` keeps its connection.
#[tokio::test]
async fn a_transaction_dropped_half_way_releases_its_locks_at_once() {
    let db = shared().create_database();
    shared().psql(
        &db.name,
        &format!(
            "CREATE TABLE held (id int); ALTER TABLE held OWNER TO {}",
            db.user
        ),
    );
    let pool = pool_on(&db.url("sslmode=require"), &[]).await;
    let first = pid(&pool).await;
    {
        let mut conn = pool.acquire().await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        sqlx::query("LOCK TABLE held IN ACCESS EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    let session = format!("SELECT count(*) FROM pg_stat_activity WHERE pid = {first}");
    eventually(shared(), &session, "0", Duration::from_secs(2)).await;
    // The table is free for the next transaction at once.
    let mut conn = pool.acquire().await.unwrap();
    let second = {
        let mut tx = conn.begin().await.unwrap();
        sqlx::query("SET LOCAL lock_timeout = '1s'")
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("LOCK TABLE held IN ACCESS EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .expect("the dropped transaction's lock is gone");
        let second: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        second
    };
    drop(conn);
    assert_eq!(
        pid(&pool).await,
        second,
        "a rolled-back connection is reused"
    );
}

/// `pg_terminate_backend` on every pooled session: a read runs once more, on a live
/// connection; a statement's own error is not retried; a write is never repeated.
#[tokio::test]
async fn reads_survive_terminated_sessions_and_writes_are_not_repeated() {
    let db = shared().create_database();
    shared().psql(
        &db.name,
        &format!(
            "CREATE TABLE w (id int); ALTER TABLE w OWNER TO {}",
            db.user
        ),
    );
    let pool = pool_on(&db.url("sslmode=require"), &[]).await;
    drop(three_open(&pool).await);
    assert_eq!(shared().terminate_sessions(&db, "intowork-backend"), 3);

    let calls = AtomicU32::new(0);
    for _ in 0..5 {
        let calls = &calls;
        let one: i32 = pool
            .read(|mut c| async move {
                calls.fetch_add(1, Ordering::SeqCst);
                sqlx::query_scalar("SELECT 1").fetch_one(&mut *c).await
            })
            .await
            .expect("read on a live connection");
        assert_eq!(one, 1);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 6, "one retry, then none");

    let calls = AtomicU32::new(0);
    let e = pool
        .read(|mut c| {
            calls.fetch_add(1, Ordering::SeqCst);
            async move {
                sqlx::query_scalar::<_, i32>("SELECT 1/0")
                    .fetch_one(&mut *c)
                    .await
            }
        })
        .await
        .unwrap_err();
    assert!(!is_broken(&e), "{e}");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "a statement's error is not retried"
    );

    let mut conn = pool.acquire().await.unwrap();
    assert!(shared().terminate_sessions(&db, "intowork-backend") >= 1);
    let e = sqlx::query("INSERT INTO w VALUES (1)")
        .execute(&mut *conn)
        .await
        .unwrap_err();
    assert!(is_broken(&e), "{e}");
    drop(conn);
    assert_eq!(shared().psql(&db.name, "SELECT count(*) FROM w"), "0");
}

/// Three connections in use at once (given back idle when dropped).
async fn three_open(pool: &Pool) -> Vec<intowork_db::Conn> {
    let (a, b, c) = tokio::join!(pool.acquire(), pool.acquire(), pool.acquire());
    vec![a.unwrap(), b.unwrap(), c.unwrap()]
}

/// The server restarts (fast shutdown: every session gets `57P01`): reads made once it
/// accepts again all succeed, on idle connections that were open before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_after_a_restart_all_succeed() {
    let server = PgServer::start(Flavor::TlsOnly);
    let db = server.create_database();
    let pool = pool_on(&db.url("sslmode=require"), &[]).await;
    drop(three_open(&pool).await);
    tokio::task::block_in_place(|| server.restart());
    let reads = (0..20).map(|i| {
        let pool = pool.clone();
        tokio::spawn(async move {
            pool.read(|mut c| async move {
                sqlx::query_scalar::<_, i32>("SELECT $1")
                    .bind(i)
                    .fetch_one(&mut *c)
                    .await
            })
            .await
        })
    });
    for (i, read) in reads.enumerate() {
        assert_eq!(
            read.await.unwrap().expect("read after the restart"),
            i as i32
        );
    }
}
