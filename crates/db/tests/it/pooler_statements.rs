//! How sqlx 0.8's statements fare through a transaction-mode PgBouncer older than 1.21 (no
//! protocol-level prepared statements; Debian 12 ships 1.18): the facts the backend's queries
//! behind a pooler are built on (issue 27). What works and what fails is asserted; the
//! round-trip costs are printed by the `#[ignore]`d experiment at the end (timings belong in
//! a benchmark, not in a test's verdict):
//!
//! `cargo test -p intowork-db --test it pooler_statements -- --ignored --nocapture`
//!
//! sqlx 0.8.6 (`sqlx-postgres/src/connection/executor.rs`): a query with arguments is
//! `Parse` + `Describe` + `Sync`, then `Bind` + `Execute` + `Close` + `Sync`. A persistent
//! query (the default) parses a *named* statement `sqlx_s_N` (N counts per client connection)
//! and, with the cache on, binds it again later with one round trip; with
//! `statement_cache_capacity(0)` it still names a new statement each time, and never closes
//! it. `persistent(false)` parses the unnamed statement. Transaction pooling hands the server
//! connection back at every `ReadyForQuery` outside a transaction — at each `Sync`.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;

use intowork_testkit::{BouncerOptions, Flavor, PgBouncer, PgServer, TestDb};
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::{Connection, PgConnection};

fn server() -> &'static PgServer {
    PgServer::shared(Flavor::TlsOnly)
}

fn bouncer(db: &TestDb, server_connections: u32) -> PgBouncer {
    let options = BouncerOptions {
        default_pool_size: server_connections,
        ..BouncerOptions::default()
    };
    PgBouncer::start_with(server(), &[db], options)
}

async fn connect(url: &str, cache: Option<usize>) -> PgConnection {
    let mut options = PgConnectOptions::from_str(url)
        .unwrap()
        .ssl_mode(PgSslMode::Require);
    if let Some(capacity) = cache {
        options = options.statement_cache_capacity(capacity);
    }
    PgConnection::connect_with(&options).await.unwrap()
}

/// PgBouncer's version (`SHOW VERSION`): from 1.21 on, with `max_prepared_statements`, it
/// tracks named statements itself and the failures below do not happen.
fn tracks_prepared_statements(bouncer: &PgBouncer) -> bool {
    let version = bouncer.show("SHOW VERSION");
    let text = version[0].values().next().cloned().unwrap_or_default();
    let number = text.split_whitespace().nth(1).unwrap_or("0.0");
    let mut parts = number.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (1, 21)
}

fn sqlstate(e: &sqlx::Error) -> String {
    e.as_database_error()
        .and_then(|d| d.code())
        .map(|c| c.into_owned())
        .unwrap_or_else(|| format!("not a database error: {e}"))
}

/// Two clients, one server connection: the second client's first named statement is
/// `sqlx_s_1` again, on a server session that already has one. Cache on or off alike.
#[tokio::test]
async fn named_statements_collide_on_a_shared_server_connection() {
    let db = server().create_database();
    for cache in [None, Some(0)] {
        // A PgBouncer of its own each time: its server connection keeps what the clients
        // before prepared (transaction pooling resets nothing).
        let bouncer = bouncer(&db, 1);
        if tracks_prepared_statements(&bouncer) {
            return;
        }
        let url = bouncer.url(&db, "sslmode=require");
        let mut a = connect(&url, cache).await;
        let mut b = connect(&url, cache).await;
        let one: i32 = sqlx::query_scalar("SELECT $1::int4")
            .bind(1)
            .fetch_one(&mut a)
            .await
            .unwrap();
        assert_eq!(one, 1);
        let err = sqlx::query_scalar::<_, i64>("SELECT $1::int8")
            .bind(2_i64)
            .fetch_one(&mut b)
            .await
            .expect_err("sqlx_s_1 is already prepared on the one server connection");
        // 42P05: duplicate_prepared_statement.
        assert_eq!(sqlstate(&err), "42P05", "cache {cache:?}: {err}");
        // The statement cache off still leaves every statement on the server: client `a`'s
        // `sqlx_s_1` is there for anyone handed that connection.
        let _ = (a.close().await, b.close().await);
    }
}

/// A cached statement bound again after the server connection it was prepared on went to
/// another client: it does not exist on the one this client gets.
#[tokio::test]
async fn a_cached_statement_is_missing_on_the_next_server_connection() {
    let db = server().create_database();
    let bouncer = bouncer(&db, 2);
    if tracks_prepared_statements(&bouncer) {
        return;
    }
    let url = bouncer.url(&db, "sslmode=require");
    let mut a = connect(&url, None).await;
    let mut holder = connect(&url, None).await;
    let query = || sqlx::query_scalar::<_, i32>("SELECT $1::int4").bind(7);
    assert_eq!(query().fetch_one(&mut a).await.unwrap(), 7);
    // PgBouncer reuses server connections last-in first-out: the holder gets `a`'s, and keeps
    // it for the length of its transaction.
    let mut tx = holder.begin().await.unwrap();
    // The simple query protocol: no statement of its own to collide with `a`'s.
    sqlx::raw_sql("SELECT 1").execute(&mut *tx).await.unwrap();
    let err = query()
        .fetch_one(&mut a)
        .await
        .expect_err("bound on the other server connection");
    // 26000: invalid_sql_statement_name ("prepared statement \"sqlx_s_1\" does not exist").
    assert_eq!(sqlstate(&err), "26000", "{err}");
    tx.rollback().await.unwrap();
}

/// The unnamed statement under concurrency: between the `Sync` after `Parse` and the `Bind`,
/// PgBouncer may hand the server connection to another client, whose `Parse` replaces the
/// unnamed statement — the `Bind` then fails, or runs *another client's* SQL. Wrapped in an
/// explicit transaction, the same queries are pinned to one server connection: no error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unnamed_statements_need_a_transaction_to_stay_on_one_server_connection() {
    let db = server().create_database();
    let bouncer = bouncer(&db, 2);
    let url = bouncer.url(&db, "sslmode=require");
    let pinned = load(&url, Wrap::Transaction, 12, 150).await;
    assert_eq!(pinned, Tally::default(), "in a transaction: {pinned:?}");
    if tracks_prepared_statements(&bouncer) {
        return;
    }
    let bare = load(&url, Wrap::None, 12, 150).await;
    assert!(
        bare.errors + bare.wrong_answers > 0,
        "12 clients on 2 server connections, 1800 unnamed statements, not one crossed over: {bare:?}"
    );
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wrap {
    None,
    Transaction,
}

/// What a load produced besides right answers.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Tally {
    errors: u32,
    /// Another client's statement ran with this client's parameter.
    wrong_answers: u32,
    /// SQLSTATEs seen, with counts.
    codes: std::collections::BTreeMap<String, u32>,
}

/// `clients` connections each run `each` unnamed queries whose SQL names the client, so that
/// an answer computed by another client's statement shows.
async fn load(url: &str, wrap: Wrap, clients: i64, each: i64) -> Tally {
    let tally = Arc::new(std::sync::Mutex::new(Tally::default()));
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..clients {
        let (url, tally) = (url.to_owned(), tally.clone());
        tasks.spawn(async move {
            let mut conn = connect(&url, None).await;
            let sql = format!("SELECT $1::int8 * 1000 + {client}");
            for i in 0..each {
                let got = one(&mut conn, &sql, i, wrap).await;
                let mut t = tally.lock().unwrap();
                match got {
                    Ok(v) if v == i * 1000 + client => {}
                    Ok(_) => t.wrong_answers += 1,
                    Err(e) => {
                        t.errors += 1;
                        *t.codes.entry(sqlstate(&e)).or_default() += 1;
                    }
                }
            }
            let _ = conn.close().await;
        });
    }
    while tasks.join_next().await.is_some() {}
    tally.lock().unwrap().clone()
}

async fn one(conn: &mut PgConnection, sql: &str, arg: i64, wrap: Wrap) -> Result<i64, sqlx::Error> {
    let query = sqlx::query_scalar::<_, i64>(sql)
        .bind(arg)
        .persistent(false);
    match wrap {
        Wrap::None => query.fetch_one(conn).await,
        Wrap::Transaction => {
            let mut tx = conn.begin().await?;
            let v = query.fetch_one(&mut *tx).await?;
            tx.commit().await?;
            Ok(v)
        }
    }
}

/// The cost of each option, sequential, one client: direct (named and cached: one round trip
/// per query) against PgBouncer (unnamed: two; unnamed in a transaction: four with BEGIN and
/// COMMIT). Prints the mean per query.
#[tokio::test]
#[ignore = "an experiment: prints timings (run with --ignored --nocapture)"]
async fn experiment_round_trip_costs() {
    let db = server().create_database();
    let bouncer = bouncer(&db, 2);
    let direct = db.url("sslmode=require");
    let pooled = bouncer.url(&db, "sslmode=require");
    const N: i64 = 2000;
    let rows: [(&str, &str, bool, Wrap); 5] = [
        ("direct, named + cached (today)", &direct, true, Wrap::None),
        ("direct, unnamed", &direct, false, Wrap::None),
        (
            "direct, unnamed in a transaction",
            &direct,
            false,
            Wrap::Transaction,
        ),
        ("PgBouncer, unnamed (unsafe)", &pooled, false, Wrap::None),
        (
            "PgBouncer, unnamed in a transaction",
            &pooled,
            false,
            Wrap::Transaction,
        ),
    ];
    for (label, url, persistent, wrap) in rows {
        let mut conn = connect(url, None).await;
        let start = Instant::now();
        for i in 0..N {
            let query = sqlx::query_scalar::<_, i64>("SELECT $1::int8").bind(i);
            let v = match (persistent, wrap) {
                (true, _) => query.fetch_one(&mut conn).await.unwrap(),
                (false, _) => {
                    one(&mut conn, "SELECT $1::int8 * 1000 + 0", i, wrap)
                        .await
                        .unwrap()
                        / 1000
                }
            };
            assert_eq!(v, i);
        }
        let per = start.elapsed() / N as u32;
        println!("{label:40} {:>8.1} µs/query", per.as_secs_f64() * 1e6);
        let _ = conn.close().await;
    }
    let bare = load(&pooled, Wrap::None, 12, 150).await;
    let pinned = load(&pooled, Wrap::Transaction, 12, 150).await;
    println!("12 clients × 150 unnamed queries on 2 server connections: bare {bare:?}");
    println!("the same, each in a transaction: {pinned:?}");
}
