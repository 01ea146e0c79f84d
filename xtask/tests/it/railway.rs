//! `verify --remote`, `deploy` and `logs` against the fake `railway` executable, which has
//! the real v5 CLI's interface and plays scripted scenarios (see xtask/fake-railway and
//! common/fake_cli.rs).

use crate::common::check;
use crate::common::fake_cli::*;
use crate::common::health::HealthStandIn;

use serde_json::{Value, json};

#[test]
fn happy_path_waits_for_success_then_probes_health() {
    let fake = scenario(json!({
        "logs": {"dep-new": [
            {"after_polls": 0, "timestamp": now_plus(1), "message": "listening on [::]:8080", "level": "info"},
            {"after_polls": 0, "timestamp": now_plus(2), "message": "application startup complete", "level": "info"},
        ]},
    }));
    let server = HealthStandIn::answering(200);
    let port = server.port();
    let run = deploy(&fake, &["--json"], port);
    server.join().unwrap();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let summary: Value =
        serde_json::from_str(run.stdout.trim()).expect("stdout is one JSON summary");
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["deployment_id"], "dep-new");
    assert_eq!(summary["status"], "SUCCESS");
    assert_eq!(summary["health"]["status"], 200);
    for key in ["trigger", "wait", "health", "total"] {
        assert!(summary["durations_ms"][key].is_u64(), "{key}");
    }
    for status in ["QUEUED", "BUILDING", "DEPLOYING", "SUCCESS"] {
        assert_contains!(
            run.stderr,
            &format!("] {status}"),
            "transition {status} printed:\n{}",
            run.stderr
        );
    }
    assert_contains!(
        run.stderr,
        "application startup complete",
        "the new deployment's logs streamed:\n{}",
        run.stderr
    );

    // The CLI was driven as a script must drive it.
    let calls = fake.calls();
    assert!(
        calls
            .iter()
            .all(|c| c["env"]["RAILWAY_NO_AUTO_UPDATE"] == "1"),
        "{calls:?}"
    );
    let commands = fake.commands();
    assert!(
        commands
            .iter()
            .any(|c| c.starts_with("status --environment production --json")),
        "{commands:?}"
    );
    assert!(
        !commands.iter().any(|c| c.starts_with("whoami")),
        "whoami fails with project tokens"
    );
    assert_eq!(
        fake.mutating_calls(),
        ["redeploy --service backend --environment production --yes --json"]
    );
    assert!(
        commands.iter().any(|c| c.starts_with("logs dep-new ")),
        "logs of the NEW deployment: {commands:?}"
    );
    // `api` names ids in its document's variables; `status` and `config plan` take no service.
    for c in commands.iter().filter(|c| {
        !c.starts_with("--version")
            && !c.starts_with("status")
            && !c.starts_with("api ")
            && !c.starts_with("config plan")
    }) {
        assert_contains!(c, "--service backend");
        assert_contains!(c, "--environment production");
    }
}

#[test]
fn failed_and_crashed_deployments_exit_1_with_diagnosed_lines() {
    let fake = scenario(json!({
        "progression": ["QUEUED", "BUILDING", "FAILED"],
        "build_logs": {"dep-new": [{"after_polls": 0, "timestamp": now_plus(1), "message": "error: could not compile `intowork-backend`", "level": "error"}]},
    }));
    let run = deploy(&fake, &[], 1);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_contains!(run.stdout, "FAILED");
    assert_contains!(run.stderr, "deploy: the deployment FAILED");

    let fake = scenario(json!({
        "progression": ["BUILDING", "DEPLOYING", "CRASHED"],
        "logs": {"dep-new": [
            {"after_polls": 0, "timestamp": now_plus(1), "message": format!("error communicating with database: Connection reset by peer (postgres://postgres:{DB_PASSWORD}@host/railway)"), "level": "error"},
            {"after_polls": 0, "timestamp": now_plus(2), "message": "thread 'main' panicked at backend/src/main.rs:9:5", "level": "error"},
        ]},
    }));
    let run = deploy(&fake, &[], 1);
    assert_eq!(run.code, 1);
    assert_contains!(run.stderr, "CRASHED after starting");
    assert_contains!(
        run.stderr,
        "hint: PostgreSQL reset the connection at start-up",
        "diagnosis in the failure report:\n{}",
        run.stderr
    );
    assert_contains!(run.stderr, "hint: the backend panicked");
    assert_contains!(
        run.stdout,
        "postgres://postgres:****@host",
        "masked in the stream:\n{}",
        run.stdout
    );
}

#[test]
fn a_deployment_that_never_finishes_times_out() {
    let fake = scenario(json!({ "progression": ["QUEUED", "BUILDING"] }));
    let run = fake.xtask(
        &[
            "deploy",
            "--no-env-file",
            "--poll-interval",
            "50ms",
            "--timeout",
            "1s",
            "--health-url",
            "http://127.0.0.1:1/",
        ],
        &[],
    );
    assert_eq!(run.code, 1);
    assert_contains!(run.stderr, "no final status within 1s");
}

#[test]
fn pre_flight_failures_deploy_nothing() {
    // Not logged in.
    let fake = scenario(json!({ "error": "unauthorized" }));
    let run = deploy(&fake, &[], 1);
    assert_eq!(run.code, 1);
    assert_contains!(run.stderr, "not logged in to Railway: run `railway login`");
    assert!(fake.mutating_calls().is_empty());

    // No linked project.
    let fake = scenario(json!({ "error": "no_linked_project" }));
    let run = deploy(&fake, &[], 1);
    assert!(
        run.code == 1 && run.stderr.contains("run `railway link`"),
        "{}",
        run.stderr
    );

    // A service that does not exist.
    let fake = scenario(json!({}));
    let run = deploy(&fake, &["--service", "backnd"], 1);
    assert_eq!(run.code, 1);
    assert_contains!(run.stderr, "no service `backnd`");
    assert!(fake.mutating_calls().is_empty());

    // Invalid variables: the seed's URL. The checklist says why; no redeploy is recorded.
    let mut vars = good_variables();
    vars["DATABASE_URL"] = json!(format!(
        "postgresql://postgres:{DB_PASSWORD}@interchange.proxy.rlwy.net:41234/railway?ssl=disable"
    ));
    vars["NEXTAUTH_SECRET"] = json!("${{shared.NEXTAUTH_SECRET}}");
    let fake = scenario(json!({ "variables": {"backend": vars} }));
    let run = deploy(&fake, &[], 1);
    assert_eq!(run.code, 1);
    assert_contains!(run.stdout, "fail  DATABASE_URL");
    assert_contains!(run.stdout, "Connection reset by peer");
    assert_contains!(run.stdout, "NEXTAUTH_SECRET");
    assert_contains!(run.stderr, "nothing was deployed");
    assert!(
        fake.mutating_calls().is_empty(),
        "no redeploy after a failed pre-flight: {:?}",
        fake.commands()
    );

    // A missing CLI, and one too old.
    let run = fake.xtask(
        &["deploy", "--no-env-file"],
        &[("RAILWAY_BIN", "/nonexistent/railway")],
    );
    assert!(
        run.code == 1 && run.stderr.contains("cargo install railwayapp --locked"),
        "{}",
        run.stderr
    );
    // Older than a feature needs: refused before anything else (xtask/tests/it/railway_cli.rs
    // covers each task and each feature).
    let old = scenario(json!({ "version": "4.9.0" }));
    let run = deploy(&old, &[], 1);
    assert!(
        run.code == 1
            && run
                .stderr
                .contains("railway 4.9.0 is older than 5.64.0, which `deploy` needs for"),
        "{}",
        run.stderr
    );
}

#[test]
fn skip_verify_is_loud_and_dry_run_touches_nothing() {
    let fake = scenario(json!({}));
    let run = deploy(&fake, &["--dry-run"], 1);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_contains!(run.stdout, "would run");
    assert_contains!(
        run.stdout,
        "railway redeploy --service backend --environment production --yes --json"
    );
    assert!(fake.mutating_calls().is_empty(), "{:?}", fake.commands());

    let server = HealthStandIn::answering(200);
    let port = server.port();
    let run = deploy(&fake, &["--skip-verify", "--from-source"], port);
    server.join().unwrap();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_contains!(run.stderr, "WARNING: --skip-verify");
    assert!(
        !fake
            .commands()
            .iter()
            .any(|c| c.starts_with("variable list") && c.contains("frontend"))
    );
    // `--from-source` prints no id: the new deployment was found in the list.
    assert_contains!(run.stdout, "triggered deployment dep-new");
}

#[test]
fn an_unhealthy_service_fails_the_deploy_and_the_step_summary_says_so() {
    let fake = scenario(json!({}));
    let server = HealthStandIn::answering(503);
    let port = server.port();
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    let url = format!("http://127.0.0.1:{port}/health/ready");
    let run = fake.xtask(
        &[
            "deploy",
            "--no-env-file",
            "--poll-interval",
            "50ms",
            "--timeout",
            "1s",
            "--health-url",
            &url,
        ],
        &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())],
    );
    drop(server);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_contains!(run.stderr, "never answered 200 (last: 503)");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert_contains!(md, "### Railway deploy: `backend` (production)");
    assert_contains!(md, "**SUCCESS**");
    assert_contains!(md, "→ 503");
}

#[test]
fn verify_remote_checks_the_platform_and_the_frontend_secret() {
    let fake = scenario(json!({}));
    let run = fake.xtask(&VERIFY_WITH_FRONTEND[..5], &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_contains!(run.stdout, "identical on `backend` and `frontend` (sha256 ");
    assert_contains!(
        run.stdout,
        "inside Railway",
        "a *.railway.internal host is fine there: {}",
        run.stdout
    );
    assert_lacks!(run.stdout, "warn  DATABASE_URL");

    let fake = scenario(
        json!({ "variables": {"backend": good_variables(), "frontend": {"NEXTAUTH_SECRET": FRONT_SECRET}} }),
    );
    let run = fake.xtask(&VERIFY_WITH_FRONTEND, &[]);
    assert_eq!(run.code, 1);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let c = check(&doc, "platform.nextauth_secret_match");
    assert_eq!(c["status"], "fail");
    assert_contains!(
        c["message"].as_str().unwrap(),
        "differs between `backend` (sha256 ",
        "{c}"
    );

    // Names set locally but not on the platform: the seed's ".env is not deployed".
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("local.env");
    std::fs::write(
        &env,
        "DATABASE_URL=x\nDATABASE_TLS_FINGERPRINT=ab\nMIGRATE_ON_START=false\n",
    )
    .unwrap();
    let run = fake.xtask(
        &["verify", "--remote", "--env-file", env.to_str().unwrap()],
        &[],
    );
    assert_contains!(run.stdout, "warn  platform.local_only");
    assert_contains!(run.stdout, "DATABASE_TLS_FINGERPRINT, MIGRATE_ON_START");
}

#[test]
fn logs_follow_through_a_pipe_until_the_deployment_ends_masked_and_diagnosed() {
    let fake = scenario(json!({
        "progression": ["DEPLOYING", "SUCCESS", "SUCCESS", "CRASHED"],
        "logs": {"dep-new": [
            {"after_polls": 0, "timestamp": now_plus(1), "message": "application startup complete", "level": "info"},
            {"after_polls": 1, "timestamp": now_plus(2), "message": format!("auth header Bearer {BEARER} secret {SECRET}"), "level": "warn"},
            {"after_polls": 2, "timestamp": now_plus(3), "message": "FATAL: sorry, too many clients already", "level": "error", "request_id": "r-1"},
        ]},
    }));
    fake.railway(&[
        "redeploy",
        "-s",
        "backend",
        "-e",
        "production",
        "-y",
        "--json",
    ]);
    let run = fake.xtask(
        &[
            "logs",
            "--deployment",
            "dep-new",
            "--follow",
            "--poll-interval",
            "50ms",
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("application startup complete"))
            .count(),
        1,
        "de-duplicated: {lines:#?}"
    );
    assert_contains!(run.stdout, "Bearer ****");
    assert_contains!(run.stdout, "secret ****");
    assert_contains!(
        run.stdout,
        "ERROR FATAL: sorry, too many clients already  request_id=r-1"
    );
    assert_contains!(
        run.stdout,
        "hint: PostgreSQL's max_connections is exhausted"
    );
    assert_contains!(
        run.stderr,
        "deployment dep-new is CRASHED: stopped following"
    );

    let run = fake.xtask(
        &["logs", "--deployment", "dep-new", "--json", "--lines", "10"],
        &[],
    );
    assert_eq!(run.code, 0);
    let docs: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let diagnosed = docs
        .iter()
        .find(|d| d["diagnosis"] == "too_many_clients")
        .expect("a diagnosed line");
    assert_contains!(
        diagnosed["hint"].as_str().unwrap(),
        "DATABASE_MAX_CONNECTIONS"
    );
    assert!(
        fake.commands()
            .iter()
            .filter(|c| c.starts_with("logs"))
            .all(|c| c.contains("--json")),
        "only --json output is parsed"
    );
}
