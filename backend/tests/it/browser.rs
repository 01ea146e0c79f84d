//! The frontend's calls, made by a real browser: headless Chromium loads a page served from a
//! frontend origin (its own local port) that calls the backend binary the way the IntoWork
//! frontend does — `fetch` with `Authorization: Bearer <token>`, the token minted by
//! next-auth's own `encode` — `GET /api/me`, then `POST /api/jobs/{id}/applications`. What is
//! asserted is what the browser decided and the page saw: allowed from the origin in
//! ALLOWED_ORIGINS; blocked by CORS from one that is not (the backend answers, the page gets
//! no response, the backend logs the refused preflight); a token signed with another secret is
//! a 401 the page can read, and the backend logs the mismatch with its diagnosis.

use std::time::Duration;

use intowork_testkit::chromium::{Browser, Page};
use intowork_testkit::{Flavor, PgServer};
use serde_json::{Value, json};

use crate::common::process::Backend;
use crate::common::tokens::{Mint, mint};
use crate::common::{SECRET, env, seed};

/// Obviously fake: what a frontend with another NEXTAUTH_SECRET would sign with.
const OTHER_SECRET: &str = "browser-test-other-frontend-secret-9f8e7d6c5b4a";

/// Chromium on 2 shared cores: its first start can take a while.
const REPORT_TIMEOUT: Duration = Duration::from_secs(90);

/// The page: the IntoWork frontend's calls, then one report of what each one gave the page.
/// `reachable` first proves the backend answers this browser at all (an opaque `no-cors`
/// request needs no permission), so a failed call below it is the CORS decision, not the
/// network.
fn page(api: &str, job: i64, token: &str, wrong: &str) -> String {
    let config = json!({"api": api, "job": job, "token": token, "wrong": wrong});
    format!(
        r#"<!doctype html><meta charset="utf-8"><title>IntoWork frontend stand-in</title>
<script type="module">
const {{ api, job, token, wrong }} = {config};
async function call(method, path, bearer, body) {{
  const headers = {{ Authorization: `Bearer ${{bearer}}` }};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  try {{
    const res = await fetch(api + path, {{ method, headers, body: body === undefined ? undefined : JSON.stringify(body) }});
    let json = null;
    try {{ json = await res.json(); }} catch (e) {{}}
    return {{ answered: true, status: res.status, body: json }};
  }} catch (e) {{
    return {{ answered: false, error: String(e) }};
  }}
}}
const report = {{}};
report.reachable = await fetch(api + "/health", {{ mode: "no-cors" }}).then(() => true, (e) => String(e));
report.me = await call("GET", "/api/me", token);
report.apply = await call("POST", `/api/jobs/${{job}}/applications`, token, {{ cover_letter: "Sent from a real browser." }});
report.wrong_secret = await call("GET", "/api/me", wrong);
await fetch("/report", {{ method: "POST", body: JSON.stringify(report) }});
</script>"#
    )
}

/// Serves the page on its own origin, opens it in Chromium, returns the page's report and
/// what the browser printed; the browser is closed (no process of it left) either way.
fn visit(page: &Page) -> (Value, String) {
    let browser = Browser::open(&page.url());
    let report = page.report(REPORT_TIMEOUT);
    // The console lines of a refused call come with the refusal; give them a moment.
    std::thread::sleep(Duration::from_millis(300));
    let console = browser.stderr();
    browser.close();
    (
        serde_json::from_str(&report).unwrap_or_else(|e| panic!("{e}: {report}")),
        console,
    )
}

#[test]
fn a_real_browser_calls_from_the_allowed_origin_and_is_blocked_from_another() {
    // No browser, no test: said first, with the install command (never a silent skip).
    intowork_testkit::chromium::executable();
    // Two frontend origins (own ports): the backend allows the first.
    let allowed = Page::new();
    let elsewhere = Page::new();
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let backend = Backend::spawn(
        &["serve", "--port", "0"],
        &env(&db, &[("ALLOWED_ORIGINS", &allowed.origin())]),
    );
    let api = format!("http://127.0.0.1:{}", backend.port());
    let (jobs, _) = seed(server, &db, 1);
    let job = jobs[0];
    let claims = json!({"email": "browser@example.com", "name": "Bo Rowser", "sub": "7"});
    let tokens = mint(&[
        Mint::v4(SECRET, claims.clone()),
        Mint::v4(OTHER_SECRET, claims),
    ]);
    let html = page(&api, job, &tokens[0], &tokens[1]);
    allowed.set(&html);
    elsewhere.set(&html);

    // From the allowed origin: the browser lets the page read every answer.
    let (report, console) = visit(&allowed);
    assert_eq!(report["reachable"], true, "{report:#}");
    assert_eq!(report["me"]["status"], 200, "{report:#}\n{console}");
    assert_eq!(report["me"]["body"]["email"], "browser@example.com");
    assert_eq!(report["me"]["body"]["role"], "candidate");
    assert_eq!(report["apply"]["status"], 201, "{report:#}");
    assert_eq!(report["apply"]["body"]["job_offer_id"], job);
    let applied = server.psql(
        &db.name,
        "SELECT count(*) FROM applications a JOIN users u ON u.id = a.candidate_id WHERE u.email = 'browser@example.com'",
    );
    assert_eq!(applied, "1", "the browser's POST reached the database");
    // A session signed with another secret: a 401 the page can read, and the diagnosis.
    assert_eq!(report["wrong_secret"]["status"], 401, "{report:#}");
    let mismatch = backend.wait_for("does not decrypt", Duration::from_secs(10));
    assert_contains!(mismatch, "NEXTAUTH_SECRET");
    assert_lacks!(
        backend.output(),
        "CORS: request from an origin not in ALLOWED_ORIGINS"
    );

    // From an origin not in ALLOWED_ORIGINS: the backend answers, the browser refuses.
    let (report, console) = visit(&elsewhere);
    assert_eq!(
        report["reachable"], true,
        "the backend is reachable: {report:#}"
    );
    for call in ["me", "apply", "wrong_secret"] {
        assert_eq!(report[call]["answered"], false, "{call}: {report:#}");
        assert_contains!(
            report[call]["error"].as_str().unwrap(),
            "Failed to fetch",
            "{call}: {report:#}"
        );
    }
    assert_contains!(
        console,
        "blocked by CORS policy",
        "the browser says why:\n{console}"
    );
    let refused: Value = serde_json::from_str(&backend.wait_for(
        "CORS: request from an origin not in ALLOWED_ORIGINS",
        Duration::from_secs(10),
    ))
    .unwrap();
    assert_eq!(refused["origin"], elsewhere.origin(), "{refused}");
    assert_eq!(refused["preflight"], true, "{refused}");
    assert_eq!(refused["path"], "/api/me", "{refused}");
    // Blocked before sending: no second application, and nothing was decrypted.
    assert_eq!(
        server.psql(&db.name, "SELECT count(*) FROM applications"),
        "1"
    );
}
