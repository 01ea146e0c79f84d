//! Email through the outbox with real backend processes: no key (skipped, masked), two
//! replicas racing, a crash mid-send, a database outage and a graceful stop.

use std::time::{Duration, Instant};

use intowork_testkit::resend::{Reply, ResendStandIn};
use intowork_testkit::{Flavor, PgServer};

use crate::common::env;
use crate::common::outbox::{KEY, email_env, enqueue, pairs, row};
use crate::common::process::Backend;

#[test]
fn without_a_resend_key_mail_is_skipped_and_logged_masked() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let mut b = Backend::spawn(&["serve", "--port", "0"], &env(&db, &[]));
    b.wait_for("application startup complete", Duration::from_secs(30));
    let id = enqueue(server, &db, 1, 0).remove(0);
    let line = b.wait_for("email skipped", Duration::from_secs(10));
    assert_contains!(line, "a***@example.com");
    assert_contains!(line, "Hello 1");
    assert_lacks!(b.output(), "ann.lee1@example.com", "the address is masked");
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
        assert_lacks!(b.output(), KEY, "the Resend key leaked");
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
    assert_contains!(b.output(), "cannot reach the database");
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
    assert_contains!(b.output(), "email worker stopped");
    let statuses: Vec<String> = ids.iter().map(|id| row(server, &db, id).0).collect();
    let sent = statuses.iter().filter(|s| *s == "sent").count();
    assert_eq!((sent, statuses.len() - sent), (2, 1), "{statuses:?}");
    assert_eq!(resend.requests().len(), 2, "nothing claimed after SIGTERM");
}
