//! Email through the outbox, in process, against a real HTTP server playing Resend (testkit's
//! stand-in): delivery with the row id as key, retries with backoff and `Retry-After`,
//! refusals, bounded attempts, a hanging API and readiness's backlog.

use std::time::Duration;

use intowork_testkit::resend::{Reply, ResendStandIn};
use intowork_testkit::{Flavor, PgServer, TestDb};
use serde_json::{Value, json};

use crate::common::SECRET;
use crate::common::app::TestApp;
use crate::common::call::call;
use crate::common::outbox::{KEY, email_env, enqueue, pairs, row, wait_status};
use crate::common::tokens::{Mint, mint};

/// The service in-process with its worker running; dropping the sender stops it.
async fn serve(
    db: &TestDb,
    extra: &[(&str, &str)],
) -> (
    intowork_backend::http::Service,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let app = TestApp::spawn(db, extra).await;
    let router = app.router();
    let serving = app.serve();
    (router, serving.stop, serving.handle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_mails_the_candidate_and_the_owner_once_each_with_the_row_id_as_key() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let resend = ResendStandIn::start();
    let vars = email_env(&resend);
    let (router, stop, handle) = serve(&db, &pairs(&vars)).await;
    server.psql(&db.name, "INSERT INTO users (email, full_name, role) VALUES ('boss@acme.example', 'Boss', 'employer');
        INSERT INTO companies (owner_id, name, slug) SELECT id, 'Acme', 'acme' FROM users;
        INSERT INTO job_offers (company_id, title, status, published_at) SELECT id, 'Rust engineer', 'published', now() FROM companies;");
    let offer = server.psql(&db.name, "SELECT id FROM job_offers");
    let token = &mint(&[Mint::v4(
        SECRET,
        json!({"email": "ann@example.com", "name": "Ann"}),
    )])[0];
    let a = call(
        &router,
        "POST",
        &format!("/api/jobs/{offer}/applications"),
        &[("authorization", &format!("Bearer {token}"))],
        Some(json!({})),
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.json);

    let deliveries = resend.wait_for_deliveries(2, Duration::from_secs(20));
    assert!(deliveries.values().all(|&n| n == 1), "{deliveries:?}");
    let ids: Vec<String> = server
        .psql(
            &db.name,
            "SELECT string_agg(id::text, ',' ORDER BY id) FROM email_outbox",
        )
        .split(',')
        .map(str::to_owned)
        .collect();
    let requests = resend.requests();
    assert_eq!(requests.len(), 2, "one request per row: {requests:#?}");
    let mut keys: Vec<String> = requests
        .iter()
        .map(|r| r.idempotency_key().unwrap().to_owned())
        .collect();
    keys.sort();
    assert_eq!(keys, ids, "Idempotency-Key is the row's id");
    let mut to = Vec::new();
    for r in &requests {
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/emails"));
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {KEY}").as_str())
        );
        assert_eq!(r.header("content-type"), Some("application/json"));
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["from"], "INTOWORK <noreply@intowork.example>");
        assert_contains!(
            body["text"].as_str().unwrap(),
            "https://app.intowork.example/",
            "{body}"
        );
        to.push(body["to"][0].as_str().unwrap().to_owned());
    }
    to.sort();
    assert_eq!(to, ["ann@example.com", "boss@acme.example"]);
    for id in &ids {
        wait_status(server, &db, id, "sent", Duration::from_secs(5)).await;
    }
    let provider = server.psql(
        &db.name,
        &format!(
            "SELECT provider_id FROM email_outbox WHERE id = '{}'",
            ids[0]
        ),
    );
    assert_eq!(provider, format!("re-{}", ids[0]));
    drop(stop);
    handle.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_back_off_and_honour_retry_after_then_succeed() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let resend = ResendStandIn::start();
    // Retry-After (5 s) longer than the first backoff (2 s), then a 503 (backoff 4 s).
    resend.script([
        Reply::RateLimited {
            retry_after_secs: 5,
        },
        Reply::Status(503),
    ]);
    let vars = email_env(&resend);
    let (_router, stop, handle) = serve(&db, &pairs(&vars)).await;
    let id = enqueue(server, &db, 1, 0).remove(0);

    resend.wait_for_deliveries(1, Duration::from_secs(30));
    let r = resend.requests();
    assert_eq!(r.len(), 3, "{r:#?}");
    assert!(
        r.iter().all(|r| r.idempotency_key() == Some(id.as_str())),
        "same key every time"
    );
    assert_eq!(
        r.iter().map(|r| r.status).collect::<Vec<_>>(),
        [429, 503, 200]
    );
    let gaps = [r[1].at - r[0].at, r[2].at - r[1].at];
    assert!(
        gaps[0] >= Duration::from_secs(5),
        "Retry-After honoured: {gaps:?}"
    );
    assert!(
        gaps[1] >= Duration::from_secs(4),
        "exponential backoff: {gaps:?}"
    );
    wait_status(server, &db, &id, "sent", Duration::from_secs(5)).await;
    let (_, attempts, error) = row(server, &db, &id);
    assert_eq!(
        (attempts, error.as_str()),
        (3, ""),
        "attempts counted, error cleared once sent"
    );
    drop(stop);
    handle.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_4xx_fails_at_once_and_attempts_are_bounded_with_the_last_error_kept() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let resend = ResendStandIn::start();
    resend.script([Reply::Reject, Reply::Status(503)]);
    let vars = email_env(&resend);
    let (_router, stop, handle) = serve(&db, &pairs(&vars)).await;

    let rejected = enqueue(server, &db, 1, 0).remove(0);
    wait_status(server, &db, &rejected, "failed", Duration::from_secs(10)).await;
    let (_, attempts, error) = row(server, &db, &rejected);
    assert_eq!(attempts, 1);
    assert_contains!(error, "422");
    assert_contains!(error, "validation_error");

    // A row on its last allowed attempt: one more 503 and it is given up, error kept.
    let last = enqueue(server, &db, 1, 11).remove(0);
    wait_status(server, &db, &last, "failed", Duration::from_secs(10)).await;
    let (_, attempts, error) = row(server, &db, &last);
    assert_eq!(attempts, 12);
    assert!(
        error.starts_with("gave up after 12 attempts; last error: Resend answered 503"),
        "{error}"
    );

    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        resend.requests().len(),
        2,
        "a failed row is never sent again"
    );
    drop(stop);
    handle.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_resend_times_out_and_readiness_reports_the_backlog_without_failing() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let resend = ResendStandIn::start();
    resend.script([Reply::Hang]);
    let vars = email_env(&resend);
    let (router, stop, handle) = serve(&db, &pairs(&vars)).await;
    let id = enqueue(server, &db, 1, 0).remove(0);
    resend.wait_for_requests(1, Duration::from_secs(10));
    tokio::time::sleep(Duration::from_secs(1)).await;

    let ready = call(&router, "GET", "/health/ready", &[], None).await;
    assert_eq!(
        ready.status, 200,
        "email never decides readiness: {}",
        ready.json
    );
    assert_eq!(ready.json["outbox"]["pending"], 1, "{}", ready.json);
    assert!(
        ready.json["outbox"]["oldest_pending_secs"]
            .as_i64()
            .unwrap()
            >= 1,
        "{}",
        ready.json
    );

    resend.wait_for_deliveries(1, Duration::from_secs(30));
    let r = resend.requests();
    assert_eq!(r.len(), 2);
    assert!(
        r[1].at - r[0].at >= Duration::from_secs(10),
        "the 10 s send timeout, then a retry"
    );
    wait_status(server, &db, &id, "sent", Duration::from_secs(5)).await;
    let ready = call(&router, "GET", "/health/ready", &[], None).await;
    assert_eq!(
        ready.json["outbox"],
        json!({"pending": 0, "oldest_pending_secs": null})
    );
    drop(stop);
    handle.await.unwrap().unwrap();
}
