//! Email through the outbox, against a real HTTP server playing Resend (testkit's stand-in):
//! delivery, retries, refusals, timeouts, replicas racing, a crash mid-send, a database outage
//! and a graceful stop.

use std::time::{Duration, Instant};

use intowork_backend::Application;
use intowork_testkit::resend::{Reply, ResendStandIn};
use intowork_testkit::{Flavor, PgServer, TestDb};
use serde_json::{Value, json};

use crate::common::call::call;
use crate::common::process::Backend;
use crate::common::tokens::{Mint, mint};
use crate::common::{SECRET, env, settings};

/// Obviously fake, checked never to be logged.
const KEY: &str = "re_test_fake_resend_key_0451";

fn email_env(resend: &ResendStandIn) -> Vec<(&'static str, String)> {
    vec![
        ("RESEND_API_KEY", KEY.to_owned()),
        (
            "FROM_EMAIL",
            "INTOWORK <noreply@intowork.example>".to_owned(),
        ),
        ("RESEND_API_URL", resend.url()),
        ("FRONTEND_URL", "https://app.intowork.example".to_owned()),
    ]
}

fn pairs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The service in-process with its worker running; dropping the sender stops it.
async fn serve(
    db: &TestDb,
    extra: &[(&str, &str)],
) -> (
    axum::Router,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let app = Application::build(&settings(db, extra), Some(0))
        .await
        .unwrap();
    let router = app.router();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    (router, tx, handle)
}

/// Queues `n` emails directly, as a committed change would; returns their ids.
fn enqueue(server: &PgServer, db: &TestDb, n: usize, attempts: i32) -> Vec<String> {
    let out = server.psql(
        &db.name,
        &format!(
            "WITH ins AS (INSERT INTO email_outbox (kind, recipient, subject, body_text, attempts)
               SELECT 'test', 'ann.lee' || i || '@example.com', 'Hello ' || i, 'Body ' || i, {attempts}
                 FROM generate_series(1, {n}) AS i RETURNING id)
             SELECT string_agg(id::text, ',') FROM ins"
        ),
    );
    out.split(',').map(str::to_owned).collect()
}

fn row(server: &PgServer, db: &TestDb, id: &str) -> (String, i32, String) {
    let line = server.psql(
        &db.name,
        &format!("SELECT status || '|' || attempts || '|' || coalesce(last_error, '') FROM email_outbox WHERE id = '{id}'"),
    );
    let mut parts = line.splitn(3, '|');
    (
        parts.next().unwrap().to_owned(),
        parts.next().unwrap().parse().unwrap(),
        parts.next().unwrap_or_default().to_owned(),
    )
}

/// Polls until the row has `status` (the worker's commit follows the HTTP answer).
async fn wait_status(server: &PgServer, db: &TestDb, id: &str, status: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let (now, attempts, error) = row(server, db, id);
        if now == status {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "row {id} is {now} (attempts {attempts}, error `{error}`), not {status}, after {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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
        assert!(
            body["text"]
                .as_str()
                .unwrap()
                .contains("https://app.intowork.example/"),
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
    assert!(
        error.contains("422") && error.contains("validation_error"),
        "{error}"
    );

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

#[test]
fn without_a_resend_key_mail_is_skipped_and_logged_masked() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let mut b = Backend::spawn(&["serve", "--port", "0"], &env(&db, &[]));
    b.wait_for("application startup complete", Duration::from_secs(30));
    let id = enqueue(server, &db, 1, 0).remove(0);
    let line = b.wait_for("email skipped", Duration::from_secs(10));
    assert!(
        line.contains("a***@example.com") && line.contains("Hello 1"),
        "{line}"
    );
    assert!(
        !b.output().contains("ann.lee1@example.com"),
        "the address is masked"
    );
    assert_eq!(row(server, &db, &id).0, "skipped");
    b.signal("TERM");
    assert_eq!(b.wait(Duration::from_secs(30)), Some(0));
}

fn sent_lines(b: &Backend) -> usize {
    b.lines
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("\"email sent\""))
        .count()
}

#[test]
fn two_backends_racing_deliver_every_row_exactly_once() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let resend = ResendStandIn::start();
    resend.set_delay(Duration::from_millis(100));
    let vars = env(&db, &pairs(&email_env(&resend)));
    let mut backends = [
        Backend::spawn(&["serve", "--port", "0"], &vars),
        Backend::spawn(&["serve", "--port", "0"], &vars),
    ];
    for b in &backends {
        b.wait_for("application startup complete", Duration::from_secs(60));
    }
    let ids = enqueue(server, &db, 40, 0);
    let deliveries = resend.wait_for_deliveries(40, Duration::from_secs(60));
    assert!(deliveries.values().all(|&n| n == 1), "{deliveries:?}");
    assert_eq!(
        resend.requests().len(),
        40,
        "no row was even requested twice"
    );
    let pending = format!(
        "SELECT count(*) FROM email_outbox WHERE status <> 'sent' AND id::text IN ('{}')",
        ids.join("','")
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.psql(&db.name, &pending) != "0" {
        assert!(Instant::now() < deadline, "rows not marked sent");
        std::thread::sleep(Duration::from_millis(50));
    }
    let per_backend = backends.each_ref().map(sent_lines);
    assert_eq!(per_backend.iter().sum::<usize>(), 40, "{per_backend:?}");
    assert!(
        per_backend.iter().all(|&n| n > 0),
        "both replicas sent: {per_backend:?}"
    );
    for b in &mut backends {
        b.signal("TERM");
        assert_eq!(b.wait(Duration::from_secs(30)), Some(0));
        assert!(!b.output().contains(KEY), "the Resend key leaked");
    }
}

#[test]
fn a_backend_killed_mid_send_leaves_the_row_to_the_next_with_the_same_key() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let resend = ResendStandIn::start();
    // Resend takes the email, and the answer never reaches the backend.
    resend.script([Reply::DeliverThenHang]);
    let vars = env(&db, &pairs(&email_env(&resend)));
    let mut first = Backend::spawn(&["serve", "--port", "0"], &vars);
    first.wait_for("application startup complete", Duration::from_secs(60));
    let id = enqueue(server, &db, 1, 0).remove(0);
    resend.wait_for_requests(1, Duration::from_secs(10));
    first.signal("KILL");
    first.wait(Duration::from_secs(10));

    let mut second = Backend::spawn(&["serve", "--port", "0"], &vars);
    second.wait_for("email sent", Duration::from_secs(30));
    let r = resend.requests();
    assert_eq!(r.len(), 2, "{r:#?}");
    assert!(
        r.iter().all(|r| r.idempotency_key() == Some(id.as_str())),
        "{r:#?}"
    );
    assert_eq!(
        resend.deliveries().values().copied().collect::<Vec<_>>(),
        [1],
        "sent once"
    );
    assert_eq!(row(server, &db, &id).0, "sent");
    second.signal("TERM");
    assert_eq!(second.wait(Duration::from_secs(30)), Some(0));
}

#[test]
fn nothing_is_lost_across_a_database_outage() {
    let server = PgServer::start(Flavor::TlsOnly);
    let db = server.create_database();
    let resend = ResendStandIn::start();
    resend.set_delay(Duration::from_secs(2));
    let vars = env(&db, &pairs(&email_env(&resend)));
    let mut b = Backend::spawn(&["serve", "--port", "0"], &vars);
    b.wait_for("application startup complete", Duration::from_secs(60));
    let before = enqueue(&server, &db, 1, 0).remove(0);
    // The database goes away while the email is in flight: the send succeeds, recording it
    // cannot.
    resend.wait_for_requests(1, Duration::from_secs(10));
    server.stop();
    std::thread::sleep(Duration::from_secs(4));
    resend.set_delay(Duration::ZERO);
    server.restart();
    let after = enqueue(&server, &db, 1, 0).remove(0);

    let deadline = Instant::now() + Duration::from_secs(30);
    while [&before, &after]
        .iter()
        .any(|id| row(&server, &db, id).0 != "sent")
    {
        assert!(
            Instant::now() < deadline,
            "not every row was sent:\n{}",
            b.output()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let deliveries = resend.deliveries();
    assert_eq!(deliveries.len(), 2, "{deliveries:?}");
    assert!(deliveries.values().all(|&n| n == 1), "{deliveries:?}");
    assert!(
        resend
            .requests()
            .iter()
            .filter(|r| r.idempotency_key() == Some(before.as_str()))
            .count()
            >= 2,
        "the unrecorded send was repeated with the same key"
    );
    assert!(
        b.output().contains("cannot reach the database"),
        "{}",
        b.output()
    );
    b.signal("TERM");
    assert_eq!(b.wait(Duration::from_secs(30)), Some(0));
}

#[test]
fn sigterm_stops_claiming_and_finishes_in_flight_sends() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let resend = ResendStandIn::start();
    resend.set_delay(Duration::from_secs(3));
    let vars = env(
        &db,
        &[
            &pairs(&email_env(&resend))[..],
            &[("SHUTDOWN_GRACE_SECS", "20")],
        ]
        .concat(),
    );
    let mut b = Backend::spawn(&["serve", "--port", "0"], &vars);
    b.wait_for("application startup complete", Duration::from_secs(60));
    let ids = enqueue(server, &db, 3, 0);
    // Both slots are busy; the third row waits.
    resend.wait_for_requests(2, Duration::from_secs(10));
    b.signal("TERM");
    let t = Instant::now();
    assert_eq!(b.wait(Duration::from_secs(20)), Some(0), "{}", b.output());
    assert!(
        t.elapsed() >= Duration::from_secs(1),
        "it waited for the sends"
    );
    assert!(
        b.output().contains("email worker stopped"),
        "{}",
        b.output()
    );
    let statuses: Vec<String> = ids.iter().map(|id| row(server, &db, id).0).collect();
    let sent = statuses.iter().filter(|s| *s == "sent").count();
    assert_eq!((sent, statuses.len() - sent), (2, 1), "{statuses:?}");
    assert_eq!(resend.requests().len(), 2, "nothing claimed after SIGTERM");
}
