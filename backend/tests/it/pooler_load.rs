//! Three backends behind a real transaction-mode PgBouncer (TLS to clients and to the
//! server), as Railway's replicas behind its PgBouncer template (issue 27): they start
//! together, migrate once over `DATABASE_DIRECT_URL`, serve reads, sessions and writes under
//! concurrent load with every answer right, and the outbox sends each mail once.
//!
//! Without the pool's pinning (crates/db/src/pool/pinned.rs) this load fails: requests
//! answered 500 (`prepared statement "sqlx_s_1" already exists`) or with another request's
//! rows.

use std::sync::Mutex;
use std::time::Duration;

use intowork_testkit::resend::ResendStandIn;
use intowork_testkit::{BouncerOptions, PgBouncer};
use serde_json::json;

use crate::common::http::{Response, send};
use crate::common::outbox::{email_env, pairs};
use crate::common::process::Backend;
use crate::common::tokens::{Mint, mint};
use crate::common::{SECRET, seed};
use crate::pooler::{server, start_together, variables};

const REPLICAS: usize = 3;
const CANDIDATES: usize = 9;
const OFFERS: usize = 24;
/// Offers each candidate applies to (one round of reads around each application).
const ROUNDS: usize = 6;

#[test]
fn three_backends_through_a_transaction_pooler_serve_under_load_and_mail_once() {
    let db = server().create_database();
    server().log_ddl(&db);
    // Few server connections for 3 × 10 + 3 × 2 clients: they share them all the time.
    let bouncer = PgBouncer::start_with(
        server(),
        &[&db],
        BouncerOptions {
            default_pool_size: 4,
            ..BouncerOptions::default()
        },
    );
    let resend = ResendStandIn::start();
    let mut vars = variables(&db, &bouncer, "transaction");
    let email = email_env(&resend);
    vars.extend(
        pairs(&email)
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let mut replicas = start_together(REPLICAS, &vars, &db);
    let ports: Vec<u16> = replicas.iter().map(Backend::port).collect();

    let (offers, _draft) = seed(server(), &db, OFFERS);
    let mut claims = vec![json!({"email": "boss@intowork.example", "name": "Boss"})];
    claims.extend((0..CANDIDATES).map(|c| json!({"email": format!("c{c}@example.com")})));
    let tokens = mint(
        &claims
            .into_iter()
            .map(|c| Mint::v4(SECRET, c))
            .collect::<Vec<_>>(),
    );
    let (boss, candidates) = tokens.split_first().unwrap();

    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for (c, token) in candidates.iter().enumerate() {
            let (ports, offers, boss, failures) = (&ports, &offers, boss, &failures);
            scope.spawn(move || {
                for round in 0..ROUNDS {
                    let load = Load {
                        port: ports[(c + round) % REPLICAS],
                        candidate: c,
                        token,
                        boss,
                        offers,
                    };
                    if let Err(e) = load.round((c * ROUNDS + round) % OFFERS) {
                        failures.lock().unwrap().push(e);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} failures: {failures:#?}",
        failures.len()
    );

    // Each application mails its candidate and the owner; each status change its candidate.
    let expected = CANDIDATES * ROUNDS * 3;
    let deliveries = resend.wait_for_deliveries(expected, Duration::from_secs(90));
    assert_eq!(deliveries.len(), expected);
    assert!(deliveries.values().all(|&n| n == 1), "{deliveries:?}");
    assert_eq!(resend.requests().len(), expected, "no row was sent twice");
    let unsent = "SELECT count(*) FROM email_outbox WHERE status <> 'sent'";
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while server().psql(&db.name, unsent) != "0" {
        assert!(std::time::Instant::now() < deadline, "rows not marked sent");
        std::thread::sleep(Duration::from_millis(50));
    }
    for r in &mut replicas {
        r.signal("TERM");
        assert_eq!(r.wait(Duration::from_secs(30)), Some(0), "{}", r.output());
        assert!(!r.output().contains(&db.password));
    }
}

/// One candidate's round against one replica.
struct Load<'a> {
    port: u16,
    candidate: usize,
    token: &'a str,
    boss: &'a str,
    offers: &'a [i64],
}

impl Load<'_> {
    /// Reads, the candidate's session, an application to `offers[i]` and the employer's
    /// status change: every answer checked against what this request asked for.
    fn round(&self, i: usize) -> Result<(), String> {
        let page = self.call("GET", "/api/jobs?limit=20", None, None, 200)?;
        let ids: Vec<i64> = page["items"]
            .as_array()
            .map(|items| items.iter().filter_map(|o| o["id"].as_i64()).collect())
            .unwrap_or_default();
        expect(ids == self.offers[..20], "the first page", &page)?;
        let offer = self.offers[i];
        let one = self.call("GET", &format!("/api/jobs/{offer}"), None, None, 200)?;
        expect(one["id"] == offer, "the offer asked for", &one)?;
        let me = self.call("GET", "/api/me", Some(self.token), None, 200)?;
        let email = format!("c{}@example.com", self.candidate);
        expect(me["email"] == email.as_str(), "the session's user", &me)?;
        let path = format!("/api/jobs/{offer}/applications");
        let applied = self.call("POST", &path, Some(self.token), Some("{}"), 201)?;
        expect(
            applied["job_offer_id"] == offer,
            "the application",
            &applied,
        )?;
        let id = applied["id"].as_i64().unwrap_or_default();
        let body = r#"{"status":"reviewing"}"#;
        let path = format!("/api/applications/{id}");
        let changed = self.call("PATCH", &path, Some(self.boss), Some(body), 200)?;
        expect(changed["status"] == "reviewing", "the change", &changed)?;
        let ready = self.call("GET", "/health/ready", None, None, 200)?;
        expect(ready["status"] == "ready", "readiness", &ready)
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
        want: u16,
    ) -> Result<serde_json::Value, String> {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("authorization", a.as_str())).collect();
        let r: Response = send(self.port, method, path, &headers, body)
            .map_err(|e| format!("{method} {path}: {e}"))?;
        if r.status != want {
            return Err(format!("{method} {path}: {} {}", r.status, r.body));
        }
        Ok(r.json())
    }
}

fn expect(ok: bool, what: &str, got: &serde_json::Value) -> Result<(), String> {
    ok.then_some(()).ok_or_else(|| format!("not {what}: {got}"))
}
