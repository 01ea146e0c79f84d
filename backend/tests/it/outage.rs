//! `GET /api/jobs` through database outages, against real servers: a restart (fast shutdown,
//! started again on the same port) and `pg_terminate_backend` on every pooled session under
//! steady load, and a request dropped mid-query.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::common::app::TestApp;
use crate::common::call::call;
use crate::common::http::get;
use crate::common::*;
use intowork_testkit::{Flavor, PgServer};

/// One answer: when its request started, and its status (0: no HTTP answer at all).
#[derive(Debug, Clone, Copy)]
struct Answer {
    started: Instant,
    status: u16,
}

/// Clients sending `GET path` back to back (a connection each) until [`Load::finish`].
struct Load {
    stop: Arc<AtomicBool>,
    clients: Vec<std::thread::JoinHandle<Vec<Answer>>>,
}

impl Load {
    fn start(port: u16, path: &'static str, clients: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let clients = (0..clients)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut answers = Vec::new();
                    // Bounded: a test that hangs still ends.
                    let deadline = Instant::now() + Duration::from_secs(120);
                    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                        let started = Instant::now();
                        let status = get(port, path).map_or(0, |r| r.status);
                        answers.push(Answer { started, status });
                    }
                    answers
                })
            })
            .collect();
        Load { stop, clients }
    }

    async fn finish(self) -> Vec<Answer> {
        self.stop.store(true, Ordering::Relaxed);
        tokio::task::spawn_blocking(move || {
            self.clients
                .into_iter()
                .flat_map(|c| c.join().unwrap())
                .collect()
        })
        .await
        .unwrap()
    }
}

/// `status → count`, for the messages.
fn tally<'a>(answers: impl Iterator<Item = &'a Answer>) -> Vec<(u16, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for a in answers {
        *counts.entry(a.status).or_insert(0) += 1;
    }
    counts.into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_jobs_under_load_never_fails_once_a_restarted_database_accepts_again() {
    let server = PgServer::start(Flavor::TlsOnly);
    let db = server.create_database();
    let (port, stop, handle) = start(&settings(&db, &[])).await;
    seed(&server, &db, 3);
    let load = Load::start(port, "/api/jobs", 6);
    tokio::time::sleep(Duration::from_secs(1)).await;

    let down = Instant::now();
    tokio::task::block_in_place(|| {
        server.stop();
        std::thread::sleep(Duration::from_millis(500));
        // Same port, same data; returns once the server accepts connections.
        server.restart();
    });
    let up = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let answers = load.finish().await;

    let before: Vec<_> = answers.iter().filter(|a| a.started < down).collect();
    let window: Vec<_> = answers
        .iter()
        .filter(|a| a.started >= down && a.started < up)
        .collect();
    let after: Vec<_> = answers.iter().filter(|a| a.started >= up).collect();
    eprintln!(
        "restart: down for {:?}; before: {:?}; started while down: {:?} (may wait for the acquire timeout, then 503); after: {:?}",
        up - down,
        tally(before.iter().copied()),
        tally(window.iter().copied()),
        tally(after.iter().copied()),
    );
    assert!(before.len() >= 10, "the load ran before the restart");
    assert!(after.len() >= 20, "the load ran after the restart");
    let failed: Vec<_> = after.iter().filter(|a| a.status != 200).collect();
    assert!(
        failed.is_empty(),
        "once the database accepts again, every GET succeeds: {:?}",
        tally(failed.into_iter().copied())
    );
    drop(stop);
    handle.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_jobs_under_load_never_fails_when_every_pooled_session_is_terminated() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let (port, stop, handle) = start(&settings(&db, &[])).await;
    seed(server, &db, 3);
    let load = Load::start(port, "/api/jobs", 6);
    let mut terminated = 0;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        terminated +=
            tokio::task::block_in_place(|| server.terminate_sessions(&db, "intowork-backend"));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    let answers = load.finish().await;
    eprintln!(
        "terminate: {terminated} sessions ended; answers {:?}",
        tally(answers.iter())
    );
    assert!(terminated >= 3, "sessions were terminated under load");
    assert!(answers.len() >= 30, "the load ran");
    assert_eq!(
        tally(answers.iter()),
        [(200, answers.len())],
        "no request failed"
    );
    drop(stop);
    handle.await.unwrap().unwrap();
}

/// A request cut while its query waits in the database (the client left, or the timeout
/// fired): the next requests on the same one-connection pool get exactly their own rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_dropped_mid_query_leaves_the_pool_answering_with_the_right_rows() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let s = settings(&db, &[("DATABASE_MAX_CONNECTIONS", "1")]);
    let app = TestApp::with_settings(&s).await;
    let (ids, _) = seed(server, &db, 4);
    let router = app.router();

    let lock = TableLock::take(&s).await;
    let cut = {
        let router = router.clone();
        let path = format!("/api/jobs/{}", ids[3]);
        tokio::spawn(async move { call(&router, "GET", &path, &[], None).await })
    };
    lock.wait_for_waiter(server, &db).await;
    cut.abort();
    assert!(cut.await.unwrap_err().is_cancelled(), "cut mid-query");
    lock.release().await;

    for id in &ids {
        let one = call(&router, "GET", &format!("/api/jobs/{id}"), &[], None).await;
        assert_eq!(one.status, 200, "{}", one.json);
        assert_eq!(one.json["id"], *id, "{}", one.json);
    }
    let page = call(&router, "GET", "/api/jobs", &[], None).await;
    let listed: Vec<i64> = page.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, ids);
    assert!(app.pool().state().open <= 1);
}
