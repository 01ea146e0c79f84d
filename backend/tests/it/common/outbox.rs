//! What the email tests share: the Resend stand-in's variables and the outbox rows, read and
//! written as the superuser.

use std::time::{Duration, Instant};

use intowork_testkit::resend::ResendStandIn;
use intowork_testkit::{PgServer, TestDb};

/// Obviously fake, checked never to be logged.
pub const KEY: &str = "re_test_fake_resend_key_0451";

pub fn email_env(resend: &ResendStandIn) -> Vec<(&'static str, String)> {
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

pub fn pairs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Queues `n` emails directly, as a committed change would; returns their ids.
pub fn enqueue(server: &PgServer, db: &TestDb, n: usize, attempts: i32) -> Vec<String> {
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

pub fn row(server: &PgServer, db: &TestDb, id: &str) -> (String, i32, String) {
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
pub async fn wait_status(
    server: &PgServer,
    db: &TestDb,
    id: &str,
    status: &str,
    timeout: Duration,
) {
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
