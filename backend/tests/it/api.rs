//! The applications API against the real service, database and tokens: the status codes of
//! the table, the email rows each change writes, and the invariants under concurrency.

use axum::http::StatusCode;
use intowork_testkit::{Flavor, PgServer, TestDb};
use serde_json::json;

use crate::common::SECRET;
use crate::common::app::TestApp;
use crate::common::call::Answer;
use crate::common::tokens::{Mint, mint};

/// The service, two employers with one company each, offers, and a token per person.
struct World {
    app: TestApp,
    db: TestDb,
    /// Acme's published offers (the boss owns Acme).
    offers: Vec<i64>,
    draft: i64,
    /// A published offer of the other employer's company.
    foreign: i64,
    tokens: Tokens,
}

struct Tokens {
    ann: String,
    bob: String,
    boss: String,
    rival: String,
}

fn server() -> &'static PgServer {
    PgServer::shared(Flavor::TlsOnly)
}

async fn world(published: usize) -> World {
    let db = server().create_database();
    let app = TestApp::spawn(&db, &[]).await;
    let mut sql = String::from(
        "INSERT INTO users (email, full_name, role) VALUES ('boss@acme.example', 'Boss', 'employer'), ('rival@other.example', 'Rival', 'employer');
         INSERT INTO companies (owner_id, name, slug) SELECT id, 'Acme', 'acme' FROM users WHERE email = 'boss@acme.example';
         INSERT INTO companies (owner_id, name, slug) SELECT id, 'Other', 'other' FROM users WHERE email = 'rival@other.example';
         INSERT INTO job_offers (company_id, title, status, published_at) SELECT id, 'Foreign', 'published', now() FROM companies WHERE slug = 'other';
         INSERT INTO job_offers (company_id, title) SELECT id, 'Draft' FROM companies WHERE slug = 'acme';\n",
    );
    for i in 0..published {
        sql.push_str(&format!("INSERT INTO job_offers (company_id, title, status, published_at) SELECT id, 'Offer {i}', 'published', now() FROM companies WHERE slug = 'acme';\n"));
    }
    server().psql(&db.name, &sql);
    let ids = |filter: &str| -> Vec<i64> {
        server()
            .psql(&db.name, &format!("SELECT string_agg(o.id::text, ',' ORDER BY o.id) FROM job_offers o JOIN companies c ON c.id = o.company_id WHERE {filter}"))
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect()
    };
    let who = |email: &str, name: &str| Mint::v4(SECRET, json!({"email": email, "name": name}));
    let t = mint(&[
        who("ann@example.com", "Ann"),
        who("bob@example.com", "Bob"),
        who("Boss@Acme.example", "Boss"),
        who("rival@other.example", "Rival"),
    ]);
    World {
        offers: ids("c.slug = 'acme' AND o.status = 'published'"),
        draft: ids("o.status = 'draft'")[0],
        foreign: ids("c.slug = 'other'")[0],
        app,
        db,
        tokens: Tokens {
            ann: t[0].clone(),
            bob: t[1].clone(),
            boss: t[2].clone(),
            rival: t[3].clone(),
        },
    }
}

impl World {
    fn sql(&self, sql: &str) -> String {
        server().psql(&self.db.name, sql)
    }
}

fn assert_status(a: &Answer, want: StatusCode, what: &str) {
    assert_eq!(a.status, want, "{what}: {}", a.json);
    if !want.is_success() {
        assert!(
            a.json["error"].is_string() && a.json["message"].is_string(),
            "{what}: JSON error body expected, got {}",
            a.json
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applying_follows_the_table_and_queues_both_emails() {
    let w = world(2).await;
    let (ann, boss) = (Some(w.tokens.ann.as_str()), Some(w.tokens.boss.as_str()));
    let apply = |offer: i64| format!("/api/jobs/{offer}/applications");
    let letter = json!({"cover_letter": "I love Rust."});

    let me = w.app.me(ann).await;
    assert_status(&me, StatusCode::OK, "me");
    assert_eq!(me.json["email"], "ann@example.com");
    let boss_me = w.app.me(boss).await;
    assert_eq!(
        boss_me.json["role"], "employer",
        "the seeded employer, found case-insensitively"
    );

    let a = w
        .app
        .request("POST", &apply(w.offers[0]), ann, Some(letter.clone()))
        .await;
    assert_status(&a, StatusCode::CREATED, "apply");
    assert_eq!(a.json["status"], "submitted");
    assert_eq!(a.json["job_offer_id"], w.offers[0]);
    assert!(
        a.json["id"].is_i64() && a.json["created_at"].is_string(),
        "{}",
        a.json
    );

    let cases = [
        (
            "again",
            apply(w.offers[0]),
            ann,
            Some(letter.clone()),
            StatusCode::CONFLICT,
        ),
        (
            "draft",
            apply(w.draft),
            ann,
            Some(json!({})),
            StatusCode::NOT_FOUND,
        ),
        (
            "unknown",
            apply(999_999),
            ann,
            Some(json!({})),
            StatusCode::NOT_FOUND,
        ),
        (
            "employer",
            apply(w.offers[1]),
            boss,
            Some(json!({})),
            StatusCode::FORBIDDEN,
        ),
        (
            "anonymous",
            apply(w.offers[1]),
            None,
            Some(json!({})),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "long letter",
            apply(w.offers[1]),
            ann,
            Some(json!({"cover_letter": "é".repeat(10_001)})),
            StatusCode::BAD_REQUEST,
        ),
        (
            "not JSON",
            apply(w.offers[1]),
            ann,
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            "bad id",
            "/api/jobs/x/applications".to_owned(),
            ann,
            Some(json!({})),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (what, path, token, body, want) in cases {
        assert_status(&w.app.request("POST", &path, token, body).await, want, what);
    }
    // Exactly at the limit (in characters, not bytes) is fine; no body at all too.
    let max = w
        .app
        .request(
            "POST",
            &apply(w.offers[1]),
            ann,
            Some(json!({"cover_letter": "é".repeat(10_000)})),
        )
        .await;
    assert_status(&max, StatusCode::CREATED, "10 000 characters");
    assert_status(
        &w.app.apply(ann, w.foreign, json!({})).await,
        StatusCode::CREATED,
        "empty body",
    );

    // Two applications by Ann → 2 emails each (Ann, and the owner of the offer's company).
    let rows = w.sql("SELECT string_agg(kind || ' ' || recipient || ' ' || status, ',' ORDER BY created_at, kind) FROM email_outbox");
    let rows: Vec<&str> = rows.split(',').collect();
    assert_eq!(rows.len(), 6, "{rows:?}");
    assert!(
        rows.contains(&"application_submitted ann@example.com pending"),
        "{rows:?}"
    );
    assert!(
        rows.contains(&"application_received boss@acme.example pending"),
        "{rows:?}"
    );
    assert!(
        rows.contains(&"application_received rival@other.example pending"),
        "{rows:?}"
    );
    let subject = w.sql("SELECT subject FROM email_outbox WHERE kind = 'application_received' AND recipient = 'boss@acme.example' LIMIT 1");
    assert_eq!(subject, "New application for Offer 0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_identical_applications_at_once_make_one_201_and_one_409() {
    let w = world(5).await;
    for &offer in &w.offers {
        let path = format!("/api/jobs/{offer}/applications");
        let (a, b) = tokio::join!(
            w.app
                .request("POST", &path, Some(&w.tokens.bob), Some(json!({}))),
            w.app
                .request("POST", &path, Some(&w.tokens.bob), Some(json!({})))
        );
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort();
        assert_eq!(
            statuses,
            [201, 409],
            "offer {offer}: {} / {}",
            a.json,
            b.json
        );
    }
    assert_eq!(w.sql("SELECT count(*) FROM applications"), "5");
    assert_eq!(
        w.sql("SELECT count(*) FROM email_outbox"),
        "10",
        "emails only for the winners"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidates_page_through_their_own_applications_newest_first() {
    let w = world(3).await;
    let ann = Some(w.tokens.ann.as_str());
    for &offer in &w.offers {
        let a = w
            .app
            .request(
                "POST",
                &format!("/api/jobs/{offer}/applications"),
                ann,
                Some(json!({})),
            )
            .await;
        assert_status(&a, StatusCode::CREATED, "apply");
    }
    w.app
        .request(
            "POST",
            &format!("/api/jobs/{}/applications", w.offers[0]),
            Some(&w.tokens.bob),
            Some(json!({})),
        )
        .await;
    let mut seen = Vec::new();
    let mut path = "/api/applications?limit=2".to_owned();
    loop {
        let page = w.app.request("GET", &path, ann, None).await;
        assert_status(&page, StatusCode::OK, "page");
        for item in page.json["items"].as_array().unwrap() {
            assert_eq!(item["company"], "Acme");
            assert!(item["offer_title"].as_str().unwrap().starts_with("Offer "));
            seen.push(item["job_offer_id"].as_i64().unwrap());
        }
        match page.json["next_cursor"].as_str() {
            Some(c) => path = format!("/api/applications?limit=2&cursor={c}"),
            None => break,
        }
    }
    let mut newest_first = w.offers.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first, "only Ann's, newest first");
    assert_status(
        &w.app.my_applications(Some(&w.tokens.boss), "").await,
        StatusCode::FORBIDDEN,
        "employer",
    );
    assert_status(
        &w.app.my_applications(None, "").await,
        StatusCode::UNAUTHORIZED,
        "anonymous",
    );
    assert_status(
        &w.app.my_applications(ann, "limit=0").await,
        StatusCode::BAD_REQUEST,
        "limit",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_owning_employer_sees_an_offers_applications_and_moves_them() {
    let w = world(1).await;
    let (ann, bob, boss, rival) = (
        Some(w.tokens.ann.as_str()),
        Some(w.tokens.bob.as_str()),
        Some(w.tokens.boss.as_str()),
        Some(w.tokens.rival.as_str()),
    );
    let offer = w.offers[0];
    let inbox = format!("/api/jobs/{offer}/applications");
    let a1 = w
        .app
        .request("POST", &inbox, ann, Some(json!({"cover_letter": "Hi"})))
        .await
        .json["id"]
        .as_i64()
        .unwrap();
    let a2 = w
        .app
        .request("POST", &inbox, bob, Some(json!({})))
        .await
        .json["id"]
        .as_i64()
        .unwrap();

    let list = w.app.request("GET", &inbox, boss, None).await;
    assert_status(&list, StatusCode::OK, "owner");
    let items = list.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["candidate_email"], "ann@example.com");
    assert_eq!(items[1]["cover_letter"], "Hi");
    for (what, token, want) in [
        ("rival", rival, StatusCode::FORBIDDEN),
        ("candidate", ann, StatusCode::FORBIDDEN),
        ("anonymous", None, StatusCode::UNAUTHORIZED),
    ] {
        assert_status(&w.app.request("GET", &inbox, token, None).await, want, what);
    }
    assert_status(
        &w.app.offer_applications(boss, 999999, "").await,
        StatusCode::NOT_FOUND,
        "unknown offer",
    );
    assert_status(
        &w.app
            .request("GET", &format!("{inbox}?status=bogus"), boss, None)
            .await,
        StatusCode::BAD_REQUEST,
        "bad status",
    );

    let steps = [
        ("employer reviews", a1, boss, "reviewing", StatusCode::OK),
        ("skipping a step", a1, boss, "hired", StatusCode::CONFLICT),
        (
            "employer cannot withdraw",
            a1,
            boss,
            "withdrawn",
            StatusCode::FORBIDDEN,
        ),
        (
            "candidate cannot hire",
            a1,
            ann,
            "hired",
            StatusCode::FORBIDDEN,
        ),
        (
            "not her application",
            a2,
            ann,
            "withdrawn",
            StatusCode::FORBIDDEN,
        ),
        (
            "not his offer",
            a1,
            rival,
            "interview",
            StatusCode::FORBIDDEN,
        ),
        ("interview", a1, boss, "interview", StatusCode::OK),
        ("offered", a1, boss, "offered", StatusCode::OK),
        ("hired", a1, boss, "hired", StatusCode::OK),
        ("after hired", a1, boss, "rejected", StatusCode::CONFLICT),
        ("bob withdraws", a2, bob, "withdrawn", StatusCode::OK),
        (
            "withdrawn twice",
            a2,
            bob,
            "withdrawn",
            StatusCode::CONFLICT,
        ),
        (
            "no reviewing after withdrawal",
            a2,
            boss,
            "reviewing",
            StatusCode::CONFLICT,
        ),
        (
            "unknown status",
            a2,
            boss,
            "archived",
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (what, id, token, status, want) in steps {
        let a = w.app.set_status(token, id, status).await;
        assert_status(&a, want, what);
        if want == StatusCode::OK {
            assert_eq!(a.json["status"], status, "{what}");
            assert!(a.json["updated_at"].is_string(), "{what}");
        }
    }
    assert_status(
        &w.app.set_status(boss, 999_999, "reviewing").await,
        StatusCode::NOT_FOUND,
        "unknown application",
    );

    let hired = w
        .app
        .request("GET", &format!("{inbox}?status=hired"), boss, None)
        .await;
    let ids: Vec<i64> = hired.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [a1]);
    // Each accepted change mailed the candidate: 4 for Ann, 1 for Bob.
    assert_eq!(w.sql("SELECT count(*) FROM email_outbox WHERE kind = 'application_status_changed' AND recipient = 'ann@example.com'"), "4");
    assert_eq!(w.sql("SELECT subject FROM email_outbox WHERE kind = 'application_status_changed' AND recipient = 'bob@example.com'"), "Your application to Offer 0: withdrawn");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_status_changes_serialise_on_the_row() {
    let w = world(1).await;
    let offer = w.offers[0];
    let id = w
        .app
        .request(
            "POST",
            &format!("/api/jobs/{offer}/applications"),
            Some(&w.tokens.ann),
            Some(json!({})),
        )
        .await
        .json["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/applications/{id}");
    // The employer rejects while the candidate withdraws: exactly one wins.
    let (a, b) = tokio::join!(
        w.app.request(
            "PATCH",
            &path,
            Some(&w.tokens.boss),
            Some(json!({"status": "rejected"}))
        ),
        w.app.request(
            "PATCH",
            &path,
            Some(&w.tokens.ann),
            Some(json!({"status": "withdrawn"}))
        )
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} / {}", a.json, b.json);
    assert_eq!(
        w.sql("SELECT count(*) FROM email_outbox WHERE kind = 'application_status_changed'"),
        "1"
    );
}
