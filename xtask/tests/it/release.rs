//! The release path against the fake CLI: every deployment status, approval, one deploy at a
//! time, rollback and --rollback-on-failure, deploy --commit, the plan of .railway/railway.ts,
//! the live service settings and references checked where they are written.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::Run;
use crate::common::fake_cli::{Fake, good_variables, now_plus, scenario};
use crate::common::health::{HealthStandIn, respond};

const OLD: &str = "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const NEW: &str = "2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// Whether the fake platform has been asked for a rollback (read from its call log).
fn rolled_back(calls: &Path) -> bool {
    std::fs::read_to_string(calls).is_ok_and(|c| c.contains("XtaskRollback"))
}

fn xtask(fake: &Fake, task: &str, url: &str, extra: &[&str]) -> Run {
    let mut args = vec![task, "--health-url", url, "--poll-interval", "50ms"];
    if !extra.contains(&"--timeout") {
        args.extend(["--timeout", "10s"]);
    }
    if task == "deploy" {
        args.push("--no-env-file");
    }
    args.extend_from_slice(extra);
    // These histories' commits are made up: the schema cannot be judged, which refuses a
    // rollback (xtask/tests/it/rollback_schema.rs tests that judgement with real commits).
    if task == "rollback" || extra.contains(&"--rollback-on-failure") {
        args.push("--accept-schema");
    }
    fake.xtask(&args, &[])
}

fn summary(run: &Run) -> Value {
    serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "one JSON document on stdout ({e}):\n{}\n{}",
            run.stdout, run.stderr
        )
    })
}

/// Two deployments: the active one (commit OLD) and an earlier one replaced by it.
fn history() -> Value {
    json!({"backend": [
        {"id": "dep-old", "status": "SUCCESS", "createdAt": now_plus(-600), "meta": {"commitHash": OLD}},
        {"id": "dep-older", "status": "REMOVED", "createdAt": now_plus(-3600), "meta": {"commitHash": "3333333"}},
    ]})
}

#[test]
fn each_of_the_13_statuses_drives_its_documented_outcome() {
    let service = HealthStandIn::serving(OLD);
    let cases = [
        ("SUCCESS", 0, "deployed"),
        ("SLEEPING", 0, "deployed"),
        ("FAILED", 1, "failed"),
        ("CRASHED", 1, "failed"),
        ("REMOVED", 1, "failed"),
        ("REMOVING", 1, "failed"),
        ("SKIPPED", 1, "failed"),
        ("NEEDS_APPROVAL", 1, "needs_approval"),
        ("QUEUED", 1, "timed_out"),
        ("WAITING", 1, "timed_out"),
        ("INITIALIZING", 1, "timed_out"),
        ("BUILDING", 1, "timed_out"),
        ("DEPLOYING", 1, "timed_out"),
        ("HIBERNATING", 1, "timed_out"),
    ];
    for (status, code, verdict) in cases {
        let fake =
            scenario(json!({"deployments": history(), "progression": ["INITIALIZING", status]}));
        let started = Instant::now();
        let timeout = if status == "NEEDS_APPROVAL" {
            "30s"
        } else {
            "1500ms"
        };
        let run = xtask(
            &fake,
            "deploy",
            &service.url(),
            &["--json", "--timeout", timeout],
        );
        let doc = summary(&run);
        assert_eq!(
            (run.code, doc["verdict"].as_str().unwrap()),
            (code, verdict),
            "{status}:\n{}",
            run.stderr
        );
        assert_eq!(doc["status"], status, "{status}");
        let said = format!("] {status} — ");
        assert_contains!(
            run.stderr,
            &said,
            "{status} printed with its meaning:\n{}",
            run.stderr
        );
        match status {
            "SLEEPING" => assert_contains!(
                run.stderr,
                "healthy but asleep; the probe's request wakes it"
            ),
            "NEEDS_APPROVAL" => {
                assert!(
                    started.elapsed() < Duration::from_secs(15),
                    "stops at once, not at the timeout"
                );
                assert_contains!(run.stderr, "deploymentApprove(id: $id)");
                assert_contains!(run.stderr, "--raw-var id=dep-new");
            }
            "HIBERNATING" => assert_contains!(
                run.stderr,
                "HIBERNATING, is a status this tool does not know",
                "reported, never success or failure:\n{}",
                run.stderr
            ),
            s if code == 1 && verdict == "timed_out" => {
                assert_contains!(run.stderr, &format!("(last: {s})"))
            }
            _ => {}
        }
    }
}

#[test]
fn approve_lets_a_deployment_that_needs_approval_go_on() {
    let fake = scenario(
        json!({"deployments": history(), "progression": ["QUEUED", "NEEDS_APPROVAL", "BUILDING", "SUCCESS"]}),
    );
    let service = HealthStandIn::serving(OLD);
    let run = xtask(&fake, "deploy", &service.url(), &["--approve"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_contains!(run.stdout, "approved dep-new");
    let approvals: Vec<String> = fake
        .commands()
        .into_iter()
        .filter(|c| c.contains("XtaskApprove"))
        .collect();
    assert_eq!(approvals.len(), 1, "{approvals:?}");
    assert_contains!(approvals[0], "--raw-var id=dep-new", "{approvals:?}");
}

#[test]
fn a_second_concurrent_deploy_is_refused_unless_told_to_wait() {
    // A colleague's deployment is building: refused, naming it, nothing triggered.
    let mut deployments = history();
    deployments["backend"].as_array_mut().unwrap().insert(
        0,
        json!({"id": "dep-colleague", "status": "BUILDING", "createdAt": now_plus(-5)}),
    );
    let fake = scenario(json!({"deployments": deployments}));
    let service = HealthStandIn::serving(OLD);
    let refused = xtask(&fake, "deploy", &service.url(), &[]);
    assert_eq!(refused.code, 1);
    assert_contains!(
        refused.stderr,
        "deployment dep-colleague of `backend` is BUILDING",
        "{}",
        refused.stderr
    );
    assert_contains!(refused.stderr, "nothing was triggered");
    assert!(fake.mutating_calls().is_empty(), "{:?}", fake.commands());
    let forced = xtask(&fake, "deploy", &service.url(), &["--force"]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert_contains!(forced.stderr, "WARNING: --force");

    // Two deploys at once: the second sees the first one's deployment and refuses; with
    // --wait-for-running it waits for it, then deploys.
    let steps: Vec<&str> = std::iter::repeat_n("BUILDING", 30)
        .chain(["SUCCESS"])
        .collect();
    let fake = scenario(json!({"deployments": history(), "progression": steps}));
    let url = service.url();
    std::thread::scope(|scope| {
        let first = scope.spawn(|| xtask(&fake, "deploy", &url, &[]));
        let deadline = Instant::now() + Duration::from_secs(20);
        while !fake.commands().iter().any(|c| c.starts_with("redeploy")) {
            assert!(
                Instant::now() < deadline,
                "the first deploy never triggered"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let second = xtask(&fake, "deploy", &url, &[]);
        assert_eq!(second.code, 1, "{}", second.stderr);
        assert_contains!(
            second.stderr,
            "deployment dep-new of `backend` is BUILDING",
            "{}",
            second.stderr
        );
        let waiting = xtask(&fake, "deploy", &url, &["--wait-for-running"]);
        assert_eq!(waiting.code, 0, "{}\n{}", waiting.stdout, waiting.stderr);
        assert_contains!(
            waiting.stdout,
            "waiting for it to finish (--wait-for-running)",
            "{}",
            waiting.stdout
        );
        assert_eq!(first.join().unwrap().code, 0);
    });
    assert_eq!(
        fake.mutating_calls().len(),
        2,
        "the refused deploy triggered nothing: {:?}",
        fake.mutating_calls()
    );
}

#[test]
fn rollback_returns_to_the_deployment_that_served_before_and_exits_0() {
    let fake = scenario(json!({"deployments": history()}));
    // The service answers with the rolled-back-to build once the rollback was asked for.
    let calls = fake.calls.clone();
    let service = HealthStandIn::start(move |path| {
        let commit = if rolled_back(&calls) { "3333333" } else { OLD };
        respond(path, 200, commit)
    });
    let dry = xtask(&fake, "rollback", &service.url(), &["--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert_contains!(dry.stdout, "back to dep-older");
    assert_contains!(dry.stdout, "deploymentRollback");
    assert!(fake.mutating_calls().is_empty(), "{:?}", fake.commands());

    let done = xtask(&fake, "rollback", &service.url(), &["--json"]);
    assert_eq!(done.code, 0, "{}\n{}", done.stdout, done.stderr);
    let doc = summary(&done);
    assert_eq!(doc["verdict"], "rolled_back");
    assert_eq!(doc["rollback"]["to"], "dep-older");
    assert_eq!(doc["deployment_id"], "dep-rollback");
    assert_eq!(doc["health"]["serving"]["commit"], "3333333");
    assert_contains!(
        doc["message"].as_str().unwrap(),
        "does not revert migrations",
        "{doc}"
    );
    assert_contains!(doc["message"].as_str().unwrap(), "expand/contract", "{doc}");
    let rollbacks: Vec<String> = fake.mutating_calls();
    assert_eq!(rollbacks.len(), 1);
    assert_contains!(rollbacks[0], "XtaskRollback", "{rollbacks:?}");
    assert_contains!(rollbacks[0], "--raw-var id=dep-older", "{rollbacks:?}");
}

#[test]
fn rollback_refuses_a_target_that_cannot_be_rolled_back_to() {
    let mut deployments = history();
    deployments["backend"][1]["canRollback"] = json!(false);
    let fake = scenario(json!({"deployments": deployments}));
    let service = HealthStandIn::serving(OLD);
    let run = xtask(&fake, "rollback", &service.url(), &["--to", "dep-older"]);
    assert_eq!(run.code, 1);
    assert_contains!(
        run.stderr,
        "deployment dep-older (REMOVED) cannot be rolled back to (canRollback: false)"
    );
    assert!(fake.mutating_calls().is_empty(), "{:?}", fake.commands());
}

#[test]
fn rollback_on_failure_ends_healthy_on_the_previous_deployment_and_exits_1() {
    // The new deployment reaches SUCCESS but never becomes ready; after the rollback the
    // previous build answers again.
    let fake = scenario(json!({"deployments": history()}));
    let calls = fake.calls.clone();
    let service = HealthStandIn::start(move |path| {
        if rolled_back(&calls) {
            respond(path, 200, OLD)
        } else {
            respond(path, 503, NEW)
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let step_summary = dir.path().join("summary.md");
    let url = service.url();
    let args = [
        "deploy",
        "--health-url",
        url.as_str(),
        "--poll-interval",
        "50ms",
        "--timeout",
        "2s",
        "--no-env-file",
        "--rollback-on-failure",
        // Made-up commits: the schema cannot be judged (see the xtask helper above).
        "--accept-schema",
        "--json",
    ];
    let run = fake.xtask(
        &args,
        &[("GITHUB_STEP_SUMMARY", step_summary.to_str().unwrap())],
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let doc = summary(&run);
    assert_eq!(doc["verdict"], "rolled_back");
    assert_eq!(
        (
            doc["rollback"]["from"].as_str(),
            doc["rollback"]["to"].as_str()
        ),
        (Some("dep-new"), Some("dep-old"))
    );
    assert_eq!(doc["rollback"]["deployment_id"], "dep-rollback");
    assert_eq!(
        doc["health"]["serving"]["commit"], OLD,
        "healthy on the previous build"
    );
    assert_contains!(run.stderr, "does not revert migrations");
    let md = std::fs::read_to_string(&step_summary).unwrap();
    assert_contains!(md, "`rolled_back`");
    assert_contains!(md, "from `\"dep-new\"` to `\"dep-old\"`");

    // A deployment that crashes within --watch after cutover is rolled back too.
    let fake = scenario(
        json!({"deployments": history(), "progression": ["DEPLOYING", "SUCCESS", "SUCCESS", "SUCCESS", "CRASHED"]}),
    );
    let service = HealthStandIn::serving(OLD);
    let run = xtask(
        &fake,
        "deploy",
        &service.url(),
        &["--rollback-on-failure", "--watch", "5s", "--json"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = summary(&run);
    assert_eq!(doc["verdict"], "rolled_back", "{doc}");
    assert_contains!(
        doc["message"].as_str().unwrap(),
        "became CRASHED within 5s of cutover",
        "{doc}"
    );
}

#[test]
fn deploy_commit_deploys_that_commit_and_the_probe_requires_it() {
    let fake = scenario(json!({"deployments": history()}));
    let service = HealthStandIn::serving(NEW);
    let run = xtask(
        &fake,
        "deploy",
        &service.url(),
        &["--commit", NEW, "--json"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = summary(&run);
    assert_eq!(
        (doc["verdict"].as_str(), doc["commit"].as_str()),
        (Some("deployed"), Some(NEW))
    );
    let triggers = fake.mutating_calls();
    assert_eq!(triggers.len(), 1);
    assert_contains!(triggers[0], "serviceInstanceDeployV2", "{triggers:?}");
    assert_contains!(
        triggers[0],
        &format!("--raw-var commitSha={NEW}"),
        "{triggers:?}"
    );

    // The platform built it, but the old build still answers: never "deployed".
    let fake = scenario(json!({"deployments": history()}));
    let stale = HealthStandIn::serving(OLD);
    let run = xtask(
        &fake,
        "deploy",
        &stale.url(),
        &["--commit", NEW, "--json", "--timeout", "1s"],
    );
    assert_eq!(run.code, 1);
    assert_eq!(summary(&run)["verdict"], "stale_build");
    assert_contains!(
        run.stderr,
        &format!("serves commit {OLD}, not the deployed {NEW}")
    );
}

#[test]
fn a_destructive_plan_blocks_deploy_by_name_and_pending_changes_warn() {
    let destructive = json!({"changes": [
        {"kind": "variable.delete", "summary": "Delete variable backend.SENTRY_DSN", "severity": "destructive"},
        {"kind": "resource.update", "summary": "Update backend source.repo, source.type", "severity": "safe", "details": ["source.repo (\"intowork/intowork-backend\" → null)", "source.type (\"github\" → null)"]},
        {"kind": "variable.set", "summary": "Update variable backend.LOG_FORMAT", "severity": "safe", "details": ["backend.LOG_FORMAT («hidden» → «hidden»)"]},
    ]});
    let fake = scenario(json!({"deployments": history(), "config_plan": destructive}));
    let service = HealthStandIn::serving(OLD);
    let run = xtask(&fake, "deploy", &service.url(), &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    for named in [
        "would destroy (variable deletion): Delete variable backend.SENTRY_DSN",
        "would destroy (source detached): Update backend source.repo, source.type",
        "1 change pending",
    ] {
        assert_contains!(run.stdout, named, "{named}:\n{}", run.stdout);
    }
    assert_contains!(run.stderr, "nothing was deployed");
    assert!(
        fake.mutating_calls().is_empty(),
        "nothing triggered: {:?}",
        fake.commands()
    );
    assert!(
        fake.commands().iter().any(|c| c == "config plan --file .railway/railway.ts --environment production --json --detailed-exit-code"),
        "{:?}",
        fake.commands()
    );
    let verify = fake.xtask(&["verify", "--remote", "--no-env-file"], &[]);
    assert_eq!(verify.code, 1);
    assert_contains!(
        verify.stdout,
        "Delete variable backend.SENTRY_DSN",
        "verify --remote reports the same:\n{}",
        verify.stdout
    );

    let pending = json!({"changes": [{"kind": "resource.update", "summary": "Update backend deploy.healthcheckTimeout", "severity": "safe"}]});
    let fake = scenario(json!({"deployments": history(), "config_plan": pending}));
    let run = xtask(&fake, "deploy", &service.url(), &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_contains!(run.stderr, "warning: config.plan: 1 change pending");
    assert_contains!(run.stderr, "deploy.healthcheckTimeout");

    let broken = json!({"ok": false, "diagnostics": [{"severity": "error", "path": "resources.service.backend.variables", "message": "backend declares no env but Railway has 3 variables"}]});
    let fake = scenario(json!({"deployments": history(), "config_plan": broken}));
    let run = xtask(&fake, "deploy", &service.url(), &[]);
    assert_eq!(run.code, 1);
    assert_contains!(
        run.stdout,
        "cannot be planned: resources.service.backend.variables: backend declares no env"
    );
}

#[test]
fn live_settings_are_held_to_the_invariants_naming_setting_and_fix() {
    let instance = json!({"backend": {"healthcheckPath": "/health", "drainingSeconds": 10, "source": null, "preDeployCommand": ["/app/backend", "migrate"]}});
    let fake = scenario(json!({"deployments": history(), "service_instances": instance}));
    let run = fake.xtask(&["verify", "--remote", "--no-env-file", "--json"], &[]);
    assert_eq!(run.code, 1);
    let doc = summary(&run);
    for name in [
        "source",
        "healthcheckPath",
        "drainingSeconds",
        "preDeployCommand",
    ] {
        let c = doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["variable"] == name)
            .unwrap();
        assert_eq!(c["status"], "fail", "{c}");
        assert!(c["hint"].as_str().is_some_and(|h| !h.is_empty()), "{c}");
    }
    let service = HealthStandIn::serving(OLD);
    let deploy = xtask(&fake, "deploy", &service.url(), &[]);
    assert_eq!(deploy.code, 1);
    assert_contains!(deploy.stdout, "fail  healthcheckPath");
    assert!(fake.mutating_calls().is_empty());
}

#[test]
fn a_reference_to_a_missing_service_fails_verify_remote_by_name() {
    let mut rendered = good_variables();
    // Railway renders a reference to a service that does not exist as an empty value.
    rendered["DATABASE_URL"] = json!("");
    let mut written = good_variables();
    written["DATABASE_URL"] = json!("${{Postgress.DATABASE_URL}}");
    written["DATABASE_PUBLIC_URL"] = json!("${{Postgres.DATABASE_PUBLIK_URL}}");
    let fake = scenario(json!({
        "project": {"id": "prj-1", "name": "intowork", "environments": ["production"], "services": ["backend", "frontend", "Postgres"], "workspace": "IntoWork"},
        "variables": {"backend": rendered, "frontend": {"NEXTAUTH_SECRET": crate::common::fake_cli::SECRET}, "Postgres": {"DATABASE_URL": "x", "DATABASE_PUBLIC_URL": "y"}},
        "unrendered_variables": {"backend": written},
        "deployments": history(),
    }));
    let run = fake.xtask(&["verify", "--remote", "--no-env-file"], &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_contains!(run.stdout, "DATABASE_URL");
    assert_contains!(
        run.stdout,
        "references service `Postgress` (`${{Postgress.DATABASE_URL}}`), which does not exist in this project (services: Postgres, backend, frontend)"
    );
    assert_contains!(
        run.stdout,
        "references `${{Postgres.DATABASE_PUBLIK_URL}}`, but service `Postgres` has no variable `DATABASE_PUBLIK_URL`"
    );
}

#[test]
fn deploy_up_expects_the_working_trees_commit() {
    let fake = scenario(json!({"deployments": history()}));
    let service = HealthStandIn::serving(OLD);
    let path = std::env::var("PATH").unwrap_or_default();
    let url = service.url();
    let args = [
        "deploy",
        "--up",
        "--dry-run",
        "--json",
        "--no-env-file",
        "--health-url",
        url.as_str(),
    ];
    let run = fake.xtask(&args, &[("PATH", path.as_str())]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let sh = xshell::Shell::new().unwrap();
    let head = xshell::cmd!(sh, "git rev-parse HEAD")
        .quiet()
        .read()
        .unwrap();
    let commit = summary(&run)["commit"].as_str().unwrap().to_owned();
    assert!(
        commit == head || commit == format!("{head}-dirty"),
        "{commit} vs {head}"
    );
}
