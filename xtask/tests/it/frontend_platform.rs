//! `verify --remote --frontend-service` (and `deploy`'s pre-flight) against the fake CLI with
//! services, domains and variables in each failure state issue 22 names: the frontend calls
//! an old domain, a private name, nothing; ALLOWED_ORIGINS lacks the frontend's custom domain;
//! FRONTEND_URL names another host; sealed values. Each failure carries a `railway variables
//! --set …` that a shell and the CLI's own argument parser accept (the fake has 5.71's).

use serde_json::{Value, json};
use xshell::{Shell, cmd};

use crate::common::fake_cli::{
    Fake, VERIFY_WITH_FRONTEND, good_domains, good_frontend, good_variables, scenario,
};
use crate::common::{Run, check};

fn verify(fake: &Fake, extra: &[&str]) -> (Run, Value) {
    let mut args = VERIFY_WITH_FRONTEND.to_vec();
    args.extend_from_slice(extra);
    let run = fake.xtask(&args, &[]);
    let doc = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("one JSON document ({e}):\n{}\n{}", run.stdout, run.stderr));
    (run, doc)
}

/// The first `railway …` command between backticks in a hint.
fn command_in(hint: &str) -> String {
    hint.split('`')
        .find(|part| part.starts_with("railway "))
        .unwrap_or_else(|| panic!("no `railway …` command in {hint:?}"))
        .to_owned()
}

/// Runs a fix as printed, through `sh`, with the fake as `railway` on PATH: clap with 5.71's
/// definitions must accept it (exit 2 is a usage error); the fake then refuses to model
/// setting variables or creating domains (exit 1, `fake-railway:`), which proves it got there.
/// Returns the argument vector the CLI received.
fn run_fix(fake: &Fake, fix: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_fake-railway"),
        dir.path().join("railway"),
    )
    .unwrap();
    let calls = dir.path().join("calls.jsonl");
    let sh = Shell::new().unwrap();
    let path = format!("{}:/usr/bin:/bin", dir.path().display());
    let out = cmd!(sh, "sh -c {fix}")
        .env("PATH", path)
        .env("FAKE_RAILWAY_SCENARIO", &fake.scenario)
        .env("FAKE_RAILWAY_CALLS", &calls)
        .ignore_status()
        .quiet()
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "`{fix}`: {stderr}");
    assert_contains!(
        stderr,
        "fake-railway:",
        "`{fix}` reached the CLI's command: {stderr}"
    );
    let line: Value = serde_json::from_str(
        std::fs::read_to_string(&calls)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    serde_json::from_value(line["argv"].clone()).unwrap()
}

fn with(variables: (Value, Value), extra: Value) -> Fake {
    let mut doc = json!({"variables": {"backend": variables.0, "frontend": variables.1}});
    for (k, v) in extra.as_object().unwrap() {
        doc[k] = v.clone();
    }
    scenario(doc)
}

#[test]
fn a_correct_pair_passes_literal_or_through_references_resolved_by_nobody() {
    let (run, doc) = verify(&scenario(json!({})), &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for id in [
        "platform.frontend_api_url",
        "platform.frontend_url",
        "platform.frontend_origins",
    ] {
        assert_eq!(check(&doc, id)["status"], "pass", "{id}: {doc:#}");
    }

    // Written as references to the right service and variable; rendered by the platform.
    let mut backend = good_variables();
    backend["ALLOWED_ORIGINS"] =
        json!("https://web-production.up.railway.app,https://app.intowork.example");
    backend["FRONTEND_URL"] = json!("https://web-production.up.railway.app");
    let mut frontend = good_frontend();
    frontend["NEXT_PUBLIC_API_URL"] = json!("https://backend-production.up.railway.app");
    let mut backend_written = backend.clone();
    backend_written["ALLOWED_ORIGINS"] =
        json!("https://${{frontend.RAILWAY_PUBLIC_DOMAIN}},https://app.intowork.example");
    backend_written["FRONTEND_URL"] = json!("https://${{frontend.RAILWAY_PUBLIC_DOMAIN}}");
    let mut frontend_written = frontend.clone();
    frontend_written["NEXT_PUBLIC_API_URL"] = json!("https://${{backend.RAILWAY_PUBLIC_DOMAIN}}");
    let fake = with(
        (backend, frontend),
        json!({
            "unrendered_variables": {"backend": backend_written, "frontend": frontend_written},
            "domains": {
                "backend": {"service": ["backend-production.up.railway.app"], "custom": ["backend.intowork.example"]},
                "frontend": {"service": ["web-production.up.railway.app"], "custom": ["app.intowork.example"]},
            },
        }),
    );
    let (run, doc) = verify(&fake, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let api = check(&doc, "platform.frontend_api_url");
    assert_eq!(api["status"], "pass");
    assert_contains!(
        api["message"].as_str().unwrap(),
        "references `${{backend.RAILWAY_PUBLIC_DOMAIN}}`",
        "{api}"
    );
    let url = check(&doc, "platform.frontend_url");
    assert_contains!(
        url["message"].as_str().unwrap(),
        "references `${{frontend.RAILWAY_PUBLIC_DOMAIN}}`",
        "{url}"
    );
    let origins = check(&doc, "platform.frontend_origins");
    assert_eq!(origins["status"], "pass", "{origins}");
    assert_contains!(
        origins["message"].as_str().unwrap(),
        "https://web-production.up.railway.app, https://app.intowork.example",
        "{origins}"
    );
    // The platform was asked for both services' domains, through `railway api`.
    let asked: Vec<String> = fake
        .commands()
        .into_iter()
        .filter(|c| c.contains("XtaskDomains"))
        .collect();
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert!(
        asked.iter().any(|c| c.contains("serviceId=svc-frontend"))
            && asked.iter().any(|c| c.contains("serviceId=svc-backend"))
    );
}

/// One failure state: what to change, the check that must fail, what it must say, and the
/// fix's argument vector as the CLI receives it.
struct Case {
    name: &'static str,
    backend: Value,
    frontend: Value,
    domains: Value,
    id: &'static str,
    says: &'static str,
    fix: Vec<String>,
}

/// The argument vector of `railway variables --service S --environment production --set PAIR`.
fn set(service: &str, pair: &str) -> Vec<String> {
    [
        "variables",
        "--service",
        service,
        "--environment",
        "production",
        "--set",
        pair,
    ]
    .map(str::to_owned)
    .to_vec()
}

fn cases() -> Vec<Case> {
    let frontend_at = |url: &str| {
        let mut f = good_frontend();
        f["NEXT_PUBLIC_API_URL"] = json!(url);
        f
    };
    let mut no_api = good_frontend();
    no_api
        .as_object_mut()
        .unwrap()
        .remove("NEXT_PUBLIC_API_URL");
    let mut lacking = good_variables();
    lacking["ALLOWED_ORIGINS"] = json!("https://web-production.up.railway.app");
    lacking["FRONTEND_URL"] = json!("https://web-production.up.railway.app");
    let mut elsewhere = good_variables();
    elsewhere["FRONTEND_URL"] = json!("https://www.intowork.example/welcome");
    elsewhere["ALLOWED_ORIGINS"] =
        json!("https://app.intowork.example,https://www.intowork.example");
    let both_frontend_domains = json!({
        "backend": {"custom": ["backend.intowork.example"]},
        "frontend": {"service": ["web-production.up.railway.app"], "custom": ["app.intowork.example"]},
    });
    let api = |name, frontend, domains, says| Case {
        name,
        backend: good_variables(),
        frontend,
        domains,
        id: "platform.frontend_api_url",
        says,
        fix: set(
            "frontend",
            "NEXT_PUBLIC_API_URL=https://${{backend.RAILWAY_PUBLIC_DOMAIN}}",
        ),
    };
    vec![
        api(
            "an old generated domain",
            frontend_at("https://backend-old.up.railway.app"),
            good_domains(),
            "`backend-old.up.railway.app` is not a public domain of `backend` (its domains: backend.intowork.example (custom)) — an old generated domain?",
        ),
        api(
            "a private name in a browser-side variable",
            frontend_at("http://backend.railway.internal:8080"),
            good_domains(),
            "`backend.railway.internal` is a private name",
        ),
        api(
            "no API URL at all",
            no_api,
            good_domains(),
            "`frontend` sets none of NEXT_PUBLIC_API_URL, API_URL",
        ),
        Case {
            name: "ALLOWED_ORIGINS without the custom domain",
            backend: lacking,
            frontend: good_frontend(),
            domains: both_frontend_domains,
            id: "platform.frontend_origins",
            says: "lacks https://app.intowork.example (custom domain of `frontend`): every browser call from there fails its CORS preflight",
            fix: set(
                "backend",
                "ALLOWED_ORIGINS=https://web-production.up.railway.app,https://app.intowork.example",
            ),
        },
        Case {
            name: "FRONTEND_URL on another host",
            backend: elsewhere,
            frontend: good_frontend(),
            domains: good_domains(),
            id: "platform.frontend_url",
            says: "`www.intowork.example` is not a public domain of `frontend` (its domains: app.intowork.example (custom))",
            fix: set(
                "backend",
                "FRONTEND_URL=https://app.intowork.example/welcome",
            ),
        },
        Case {
            fix: [
                "domain",
                "--service",
                "backend",
                "--environment",
                "production",
            ]
            .map(str::to_owned)
            .to_vec(),
            ..api(
                "a backend without a public domain",
                good_frontend(),
                json!({"frontend": {"custom": ["app.intowork.example"]}}),
                "`backend` has no public domain at all: browsers cannot reach it",
            )
        },
    ]
}

#[test]
fn each_failure_state_fails_by_name_with_a_fix_the_cli_accepts() {
    for case in cases() {
        let fake = with(
            (case.backend, case.frontend),
            json!({"domains": case.domains}),
        );
        let (run, doc) = verify(&fake, &[]);
        assert_eq!(run.code, 1, "{}: {}{}", case.name, run.stdout, run.stderr);
        let c = check(&doc, case.id);
        assert_eq!(c["status"], "fail", "{}: {c}", case.name);
        let message = c["message"].as_str().unwrap();
        assert_contains!(message, case.says, "{}:\n{message}", case.name);
        let hint = c["hint"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: no fix in {c}", case.name));
        let argv = run_fix(&fake, &command_in(hint));
        assert_eq!(argv, case.fix, "{}: {hint}", case.name);
        // The other frontend checks are not thrown off by this one.
        let failed: Vec<&str> = doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"] == "fail")
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert_eq!(failed, [case.id], "{}: {doc:#}", case.name);
    }
}

#[test]
fn sealed_values_are_warnings_and_a_named_api_variable_is_the_one_checked() {
    let mut frontend = good_frontend();
    frontend["NEXT_PUBLIC_API_URL"] = Value::Null;
    let mut backend = good_variables();
    backend["ALLOWED_ORIGINS"] = Value::Null;
    let fake = with((backend, frontend), json!({}));
    let (run, doc) = verify(&fake, &[]);
    assert_eq!(
        run.code, 0,
        "warnings, not failures: {}{}",
        run.stdout, run.stderr
    );
    for id in ["platform.frontend_api_url", "platform.frontend_origins"] {
        let c = check(&doc, id);
        assert_eq!(c["status"], "warn", "never a silent pass: {c}");
        assert_contains!(c["message"].as_str().unwrap(), "sealed on `", "{c}");
    }

    // `--frontend-api-var`: that variable, and only that one, is the API URL.
    let mut frontend = good_frontend();
    frontend["BACKEND_ORIGIN"] = json!("https://api.elsewhere.example");
    let fake = with((good_variables(), frontend), json!({}));
    let (run, doc) = verify(&fake, &["--frontend-api-var", "BACKEND_ORIGIN"]);
    assert_eq!(run.code, 1);
    let c = check(&doc, "platform.frontend_api_url");
    assert_eq!(c["variable"], "BACKEND_ORIGIN", "{c}");
    let run = fake.xtask(&["verify", "--remote", "--frontend-api-var", "X"], &[]);
    assert_eq!(
        run.code, 2,
        "--frontend-api-var needs --frontend-service: {}",
        run.stderr
    );
    let run = fake.xtask(&["verify", "--frontend-service", "frontend"], &[]);
    assert_eq!(
        run.code, 2,
        "--frontend-service needs --remote: {}",
        run.stderr
    );
}

#[test]
fn deploys_pre_flight_with_a_frontend_refuses_to_deploy_a_broken_pair() {
    let case = cases().remove(3);
    let fake = with(
        (case.backend, case.frontend),
        json!({"domains": case.domains}),
    );
    let run = fake.xtask(
        &[
            "deploy",
            "--no-env-file",
            "--frontend-service",
            "frontend",
            "--timeout",
            "5s",
        ],
        &[],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let shown = format!("{}{}", run.stdout, run.stderr);
    assert!(
        shown.contains("platform.frontend_origins") || shown.contains("ALLOWED_ORIGINS"),
        "{shown}"
    );
    assert_contains!(shown, "lacks https://app.intowork.example");
    assert_contains!(shown, "fix: `railway variables --service backend");
    assert_contains!(shown, "pre-flight failed");
    assert!(
        fake.mutating_calls().is_empty(),
        "nothing deployed: {:?}",
        fake.commands()
    );
}
