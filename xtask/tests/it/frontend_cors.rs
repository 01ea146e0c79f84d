//! The CORS step after cutover, against the real backend binary (TLS-only PostgreSQL started
//! by the harness) whose ALLOWED_ORIGINS lacks the frontend's origin: health checks pass, and
//! the preflight a browser on FRONTEND_URL sends is refused — a failed deploy, rolled back
//! with --rollback-on-failure, reported with the origin and the missing header; `rollback`
//! holds its target to the same test. The same backend allows its own origin: the step passes.

use intowork_testkit::{Flavor, PgServer};
use serde_json::{Value, json};

use crate::common::Run;
use crate::common::backend::Backend;
use crate::common::fake_cli::{Fake, good_variables, now_plus, scenario};

/// Obviously fake.
const SECRET: &str = "cors-test-backend-secret-5e4d3c2b1a0f9e8d7c6b";
/// Where the deployed backend allows calls from: not where the frontend is.
const ALLOWED: &str = "https://old.intowork.example";
const FRONTEND: &str = "https://app.intowork.example";

fn history() -> Value {
    json!({"backend": [
        {"id": "dep-old", "status": "SUCCESS", "createdAt": now_plus(-600)},
        {"id": "dep-older", "status": "REMOVED", "createdAt": now_plus(-3600)},
    ]})
}

/// The platform says FRONTEND_URL is `frontend` (and allows it: the pre-flight passes); the
/// deployed backend is the real one on `port`.
fn platform(frontend: &str) -> Fake {
    let mut variables = good_variables();
    variables["FRONTEND_URL"] = json!(frontend);
    variables["ALLOWED_ORIGINS"] = json!(frontend);
    scenario(json!({"variables": {"backend": variables}, "deployments": history()}))
}

fn run(fake: &Fake, task: &str, port: u16, extra: &[&str]) -> (Run, Value) {
    let url = format!("http://127.0.0.1:{port}/health/ready");
    let mut args = vec![
        task,
        "--health-url",
        &url,
        "--poll-interval",
        "50ms",
        "--timeout",
        "20s",
        "--json",
    ];
    if task == "deploy" {
        args.push("--no-env-file");
    }
    args.extend_from_slice(extra);
    let run = fake.xtask(&args, &[]);
    let doc = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("one JSON summary ({e}):\n{}\n{}", run.stdout, run.stderr));
    (run, doc)
}

#[test]
fn a_refused_preflight_fails_the_deploy_and_the_rollback_with_origin_and_header() {
    let db = PgServer::shared(Flavor::TlsOnly).create_database();
    let url = db.url("sslmode=require");
    let backend = Backend::start(&[
        ("DATABASE_URL", &url),
        ("NEXTAUTH_SECRET", SECRET),
        ("ALLOWED_ORIGINS", ALLOWED),
    ]);

    // Healthy, serving — and refusing every browser on the frontend.
    let fake = platform(FRONTEND);
    let (deploy, doc) = run(&fake, "deploy", backend.port, &[]);
    assert_eq!(deploy.code, 1, "{}\n{}", deploy.stdout, deploy.stderr);
    assert_eq!(doc["verdict"], "cors_refused", "{doc:#}");
    assert_eq!(
        doc["health"]["status"], 200,
        "health itself passed: {doc:#}"
    );
    let cors = &doc["health"]["cors"];
    assert_eq!(cors["origin"], FRONTEND, "{doc:#}");
    assert_eq!(
        cors["url"],
        format!("http://127.0.0.1:{}/api/me", backend.port)
    );
    assert_eq!(
        cors["missing"],
        json!([format!("Access-Control-Allow-Origin: {FRONTEND}")]),
        "tower-http answers an origin it does not allow without the header: {doc:#}"
    );
    let message = doc["message"].as_str().unwrap();
    for said in [
        FRONTEND,
        "Access-Control-Allow-Origin",
        "ALLOWED_ORIGINS",
        "a rollback keeps today's variables",
    ] {
        assert_contains!(message, said, "`{said}` in: {message}");
    }
    assert!(
        fake.mutating_calls()
            .iter()
            .all(|c| !c.contains("XtaskRollback"))
    );

    // --rollback-on-failure rolls back; the earlier build runs with the same ALLOWED_ORIGINS
    // (here: the same process), so it is refused too, and said so. The history carries no
    // commits, so the schema guard cannot judge the rollback: accepted here, it is not what
    // this test is about (rollback_schema.rs is).
    let fake = platform(FRONTEND);
    let (deploy, doc) = run(
        &fake,
        "deploy",
        backend.port,
        &["--rollback-on-failure", "--accept-schema"],
    );
    assert_eq!(deploy.code, 1, "{}\n{}", deploy.stdout, deploy.stderr);
    assert!(
        fake.commands().iter().any(|c| c.contains("XtaskRollback")),
        "rolled back: {:?}",
        fake.commands()
    );
    assert_eq!(doc["verdict"], "rollback_failed", "{doc:#}");
    let message = doc["message"].as_str().unwrap();
    assert_contains!(message, "refused the frontend's CORS preflight");
    assert_contains!(message, FRONTEND);

    // `rollback` on its own: not healthy until a browser may call.
    let fake = platform(FRONTEND);
    let (rollback, doc) = run(&fake, "rollback", backend.port, &["--accept-schema"]);
    assert_eq!(rollback.code, 1, "{}\n{}", rollback.stdout, rollback.stderr);
    assert_eq!(doc["verdict"], "cors_refused", "{doc:#}");
    assert_contains!(
        doc["message"].as_str().unwrap(),
        "Access-Control-Allow-Origin",
        "{doc:#}"
    );

    // The origin the backend allows passes the same step.
    let fake = platform(ALLOWED);
    let (deploy, doc) = run(&fake, "deploy", backend.port, &[]);
    assert_eq!(deploy.code, 0, "{}\n{}", deploy.stdout, deploy.stderr);
    assert_eq!(doc["health"]["cors"]["missing"], json!([]), "{doc:#}");
    assert_contains!(
        deploy.stderr,
        &format!("CORS preflight from {ALLOWED}"),
        "{}",
        deploy.stderr
    );
}
