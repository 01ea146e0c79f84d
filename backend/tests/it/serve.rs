//! The service in-process against the harness's TLS-only server: health, readiness through a
//! database outage, the jobs API, CORS and pool exhaustion.

use std::time::{Duration, Instant};

use crate::common::app::TestApp;
use crate::common::http::get;
use crate::common::{self, *};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use intowork_testkit::process::{self, Signal};
use intowork_testkit::{Flavor, PgServer};
use tower::ServiceExt;

async fn fetch(port: u16, path: &'static str) -> common::http::Response {
    tokio::task::spawn_blocking(move || get(port, path).unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_ready_and_jobs_pages_on_port_0() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let (port, stop, handle) = start(&settings(&db, &[])).await;

    let live = fetch(port, "/health").await;
    let build = intowork_backend::build_info::BuildInfo::current();
    assert_eq!(
        (live.status, live.json()),
        (
            200,
            serde_json::json!({"status": "ok", "version": build.version, "commit": build.commit})
        )
    );
    assert!(
        live.header("x-request-id").is_some_and(|id| !id.is_empty()),
        "a request id is echoed"
    );

    let ready = fetch(port, "/health/ready").await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    let body = ready.json();
    assert_eq!(body["status"], "ready");
    assert!(
        body["checks"]["tls"]
            .as_str()
            .unwrap()
            .starts_with("TLSv1."),
        "{body}"
    );
    assert_eq!(body["checks"]["migrations"], "up to date");
    // The pool's state, for information: the probe's own connection is back, idle.
    let pool = &body["pool"];
    assert!(pool["open"].as_u64().unwrap() >= 1, "{body}");
    assert!(
        pool["idle"].as_u64().unwrap() <= pool["open"].as_u64().unwrap(),
        "{body}"
    );
    assert_eq!(pool["max"], 10, "{body}");

    let (ids, draft) = seed(server, &db, 5);
    let mut seen = Vec::new();
    let mut path = "/api/jobs?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let p: &'static str = Box::leak(path.clone().into_boxed_str());
        let page = fetch(port, p).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let doc = page.json();
        seen.extend(
            doc["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_i64().unwrap()),
        );
        pages += 1;
        match doc["next_cursor"].as_str() {
            Some(c) => path = format!("/api/jobs?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen, ids,
        "every published offer once, newest first, no draft"
    );

    let one: &'static str = Box::leak(format!("/api/jobs/{}", ids[0]).into_boxed_str());
    let offer = fetch(port, one).await;
    assert_eq!(
        (offer.status, offer.json()["company"].as_str()),
        (200, Some("Acme"))
    );
    let hidden: &'static str = Box::leak(format!("/api/jobs/{draft}").into_boxed_str());
    let nf = fetch(port, hidden).await;
    assert_eq!(
        (nf.status, nf.json()["error"].as_str()),
        (404, Some("not_found"))
    );
    for bad in [
        "/api/jobs/abc",
        "/api/jobs?limit=0",
        "/api/jobs?limit=101",
        "/api/jobs?cursor=zzz",
    ] {
        let r = fetch(port, bad).await;
        assert_eq!(
            (r.status, r.json()["error"].as_str()),
            (400, Some("bad_request")),
            "{bad}"
        );
    }

    drop(stop);
    handle.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_database_down_and_back_while_liveness_stays_up() {
    let server = PgServer::start(Flavor::TlsOnly);
    let db = server.create_database();
    let (port, stop, handle) =
        start(&settings(&db, &[("DATABASE_CONNECT_TIMEOUT_SECS", "5")])).await;
    assert_eq!(fetch(port, "/health/ready").await.status, 200);

    server.stop();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let t = Instant::now();
        let ready = fetch(port, "/health/ready").await;
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "readiness must answer within 2 s, took {:?}",
            t.elapsed()
        );
        if ready.status == 503 {
            let body = ready.json();
            assert_eq!(body["status"], "unavailable");
            assert!(
                matches!(
                    body["checks"]["database"].as_str(),
                    Some("unreachable" | "timeout" | "error")
                ),
                "{body}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "never turned 503");
    }
    assert_eq!(
        fetch(port, "/health").await.status,
        200,
        "liveness does not depend on the database"
    );

    server.restart();
    let deadline = Instant::now() + Duration::from_secs(15);
    while fetch(port, "/health/ready").await.status != 200 {
        assert!(
            Instant::now() < deadline,
            "never ready again after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(stop);
    handle.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_answers_in_time_when_the_database_hangs() {
    let server = PgServer::start(Flavor::TlsOnly);
    let db = server.create_database();
    let (port, stop, handle) = start(&settings(&db, &[])).await;
    assert_eq!(fetch(port, "/health/ready").await.status, 200);

    // Freeze the postmaster and every backend: connections stay open, nothing answers.
    let pid: u32 = std::fs::read_to_string(server.log_path().with_file_name("postmaster.pid"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    for child in process::children(pid) {
        let _ = process::try_signal(child, Signal::STOP);
    }
    process::signal(pid, Signal::STOP);
    let t = Instant::now();
    let ready = fetch(port, "/health/ready").await;
    let took = t.elapsed();
    process::signal(pid, Signal::CONT);
    for child in process::children(pid) {
        let _ = process::try_signal(child, Signal::CONT);
    }
    assert_eq!(ready.status, 503, "{}", ready.body);
    assert_eq!(ready.json()["checks"]["database"], "timeout");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    drop(stop);
    handle.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_allows_exactly_the_configured_origins() {
    let db = PgServer::shared(Flavor::TlsOnly).create_database();
    let app = TestApp::spawn(&db, &[]).await;
    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/api/jobs")
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .body(Body::empty())
            .unwrap()
    };
    let ok = app
        .router()
        .oneshot(preflight("https://app.intowork.example"))
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let h = ok.headers();
    assert_eq!(
        h["access-control-allow-origin"],
        "https://app.intowork.example"
    );
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert_eq!(h["access-control-max-age"], "3600");

    let other = app
        .router()
        .oneshot(preflight("https://evil.example"))
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    let simple = Request::builder()
        .uri("/health")
        .header("origin", "https://evil.example")
        .body(Body::empty())
        .unwrap();
    let r = app.router().oneshot(simple).await.unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_pool_answers_503_with_retry_after_instead_of_hanging() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let s = settings(&db, &[("DATABASE_MAX_CONNECTIONS", "1")]);
    let (port, stop, handle) = start(&s).await;
    seed(server, &db, 1);

    // Hold the table so the only pooled connection stays busy inside a request.
    let lock = TableLock::take(&s).await;
    let first = tokio::task::spawn_blocking(move || get(port, "/api/jobs").unwrap());
    lock.wait_for_waiter(server, &db).await;
    let second = fetch(port, "/api/jobs").await;
    assert_eq!(second.status, 503, "{}", second.body);
    assert_eq!(second.header("retry-after"), Some("2"));
    assert_eq!(second.json()["error"], "unavailable");
    lock.release().await;
    assert_eq!(first.await.unwrap().status, 200);
    drop(stop);
    handle.await.unwrap().unwrap();
}
