//! The Railway CLI as it really is: the version gate (refusing an older CLI before anything
//! runs), errors read where the CLI prints them, sealed variables end to end, and every byte
//! of the CLI's text shown only through the one masker and the one escaper.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::common::fake_cli::{
    VERIFY_WITH_FRONTEND, deploy, good_frontend, good_variables, now_plus, scenario,
};
use crate::common::health::HealthStandIn;
use crate::common::{Run, check};

/// Two deployments: the active one and the one it replaced (a rollback target).
fn history() -> Value {
    json!({"backend": [
        {"id": "dep-old", "status": "SUCCESS", "createdAt": now_plus(-600)},
        {"id": "dep-older", "status": "REMOVED", "createdAt": now_plus(-3600)},
    ]})
}

/// A health URL nothing answers on: for runs that never probe.
const NOWHERE: &str = "--health-url=http://127.0.0.1:1/";

/// `deploy` without checks, running nothing that changes the deployment.
const DEPLOY_DRY: [&str; 5] = [
    "deploy",
    "--skip-verify",
    "--dry-run",
    "--no-env-file",
    NOWHERE,
];

fn path_env() -> String {
    std::env::var("PATH").unwrap_or_default()
}

/// A stand-in that is nothing but `railway <version>`: any other call is written down.
fn stand_in(dir: &Path, printed: &str) -> std::path::PathBuf {
    let bin = dir.join("railway");
    let called = dir.join("called");
    std::fs::write(
        &bin,
        format!(
            "#!/bin/sh\nif [ \"$1\" = --version ]; then echo '{printed}'; exit 0; fi\necho \"$@\" >> '{}'\nexit 1\n",
            called.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

#[test]
fn an_older_cli_is_refused_before_anything_runs_naming_the_feature_and_the_install() {
    let dir = tempfile::tempdir().unwrap();
    let bin = stand_in(dir.path(), "railway 5.63.1");
    let fake = scenario(json!({}));
    let with =
        |args: &[&str], bin: &Path| fake.xtask(args, &[("RAILWAY_BIN", bin.to_str().unwrap())]);
    for (args, task) in [
        (&["deploy", "--no-env-file"][..], "deploy"),
        (
            &["verify", "--remote", "--no-env-file"][..],
            "verify --remote",
        ),
    ] {
        let run = with(args, &bin);
        assert_eq!(run.code, 1, "{}", run.stderr);
        let expected = format!(
            "error: railway 5.63.1 is older than 5.64.0, which `{task}` needs for `config plan --file F --environment E --json --detailed-exit-code` (the plan of .railway/railway.ts for the target environment, since 5.64.0); install with `cargo install railwayapp --locked --version 5.71.0`"
        );
        assert!(run.stderr.starts_with(&expected), "{}", run.stderr);
        assert!(
            !dir.path().join("called").exists(),
            "nothing but `railway --version` may run: {:?}",
            std::fs::read_to_string(dir.path().join("called"))
        );
    }

    // The gate is per feature: 5.63.1 has all that `logs` and `rollback` use, and `deploy
    // --skip-verify` plans nothing.
    let fake = scenario(json!({"version": "5.63.1", "deployments": history()}));
    for args in [
        &["logs", "--deployment", "dep-old", "--lines", "5"][..],
        &["rollback", "--dry-run", "--accept-schema", NOWHERE][..],
        &DEPLOY_DRY[..],
    ] {
        let run = fake.xtask(args, &[]);
        assert_eq!(run.code, 0, "{args:?}: {}{}", run.stdout, run.stderr);
    }
    let fake = scenario(json!({"version": "5.27.0", "deployments": history()}));
    let run = fake.xtask(&["rollback", "--dry-run"], &[]);
    assert!(
        run.code == 1
            && run.stderr.contains(
                "railway 5.27.0 is older than 5.47.2, which `rollback` needs for `variable list --json listing sealed variables as null`"
            )
            && run.stderr.contains("and `api DOCUMENT"),
        "{}",
        run.stderr
    );
    assert_eq!(
        fake.commands(),
        ["--version"],
        "refused before anything else"
    );
    // Every task reads the service's variables: before 5.47.2 a sealed one is left out of
    // the list, silently (railwayapp 5.47.1), so `logs` and `rollback` refuse it too.
    let fake = scenario(json!({"version": "5.47.1", "deployments": history()}));
    for (args, task) in [
        (&["logs", "--deployment", "dep-old"][..], "logs"),
        (&["rollback", "--dry-run"][..], "rollback"),
        (&DEPLOY_DRY[..], "deploy"),
    ] {
        let run = fake.xtask(args, &[]);
        assert!(
            run.code == 1
                && run.stderr.contains(&format!(
                    "railway 5.47.1 is older than 5.47.2, which `{task}` needs for `variable list --json listing sealed variables as null`"
                )),
            "{task}: {}",
            run.stderr
        );
    }

    // A version that cannot be read is refused too, its text escaped.
    let bin = stand_in(dir.path(), "railway \x1b[31mnightly");
    let run = with(&["logs"], &bin);
    assert!(
        run.code == 1
            && run.stderr.contains("could not read the version")
            && run.stderr.contains("\\x1b[31mnightly"),
        "{}",
        run.stderr
    );
}

#[test]
fn errors_are_read_where_the_cli_prints_them_with_their_diagnosis() {
    // `up --json` reports on stdout ({"code","error","hint"}), stderr empty.
    let fake = scenario(json!({"errors": {"up": "unauthorized"}, "deployments": history()}));
    let path = path_env();
    let run = fake.xtask(
        &["deploy", "--up", "--skip-verify", "--no-env-file", NOWHERE],
        &[("PATH", path.as_str())],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_contains!(run.stderr, "not logged in to Railway: run `railway login`");
    assert_contains!(
        run.stderr,
        "(`railway up` said: Not signed in.\n      → Run `railway login` to authenticate, then re-run.)"
    );

    // `api` with a non-2xx answer: exit 1 despite --allow-errors, the body's messages kept.
    let body = json!({"errors": [{"message": "upstream connect error"}]});
    let fake = scenario(
        json!({"errors": {"api": {"http": {"status": 502, "body": body}}}, "deployments": history()}),
    );
    let run = fake.xtask(&["rollback", "--dry-run"], &[]);
    assert!(
        run.code == 1
            && run.stderr.contains("Railway's API refused `deployments` (Railway API request failed with HTTP 502 Bad Gateway): upstream connect error"),
        "{}",
        run.stderr
    );
    // A refused token, in the API's words (which `api` does not translate).
    let fake = scenario(json!({"errors": {"api": "unauthorized_token"}, "deployments": history()}));
    let run = fake.xtask(&["rollback", "--dry-run"], &[]);
    assert!(
        run.code == 1
            && run.stderr.contains("Railway rejected the token")
            && run.stderr.contains("said: Not Authorized"),
        "{}",
        run.stderr
    );

    // `config plan` without a login: its runner's own words, diagnosed (not "install Node").
    let fake = scenario(json!({"errors": {"config": "unauthorized"}}));
    let run = fake.xtask(&["verify", "--remote", "--no-env-file", "--json"], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let plan = check(&doc, "config.plan");
    let message = plan["message"].as_str().unwrap();
    assert_contains!(message, "not logged in to Railway", "{plan}");
    assert_contains!(
        message,
        "said: Not authenticated. Run `railway login`, set RAILWAY_API_TOKEN, or set RAILWAY_TOKEN.",
        "{plan}"
    );
    assert!(plan["hint"].is_null(), "{plan}");

    // The real auth texts (src/errors.rs, src/client.rs), each with its diagnosis.
    for (kind, said) in [
        ("unauthorized", "not logged in to Railway"),
        ("unauthorized_login", "not logged in to Railway"),
        ("unauthorized_token", "Railway rejected the token"),
        ("invalid_token", "Railway rejected the token"),
    ] {
        let fake = scenario(json!({"error": kind}));
        let run = fake.xtask(&["logs"], &[]);
        assert!(
            run.code == 1 && run.stderr.contains(said),
            "{kind}: {}",
            run.stderr
        );
    }
}

#[test]
fn sealed_variables_are_present_value_unknown_in_every_task() {
    let mut backend = good_variables();
    for name in ["DATABASE_URL", "NEXTAUTH_SECRET", "STRIPE_SECRET_KEY"] {
        backend[name] = Value::Null;
    }
    let fake = scenario(json!({
        "variables": {"backend": backend, "frontend": good_frontend()},
        "deployments": history(),
    }));

    let run = fake.xtask(&VERIFY_WITH_FRONTEND, &[]);
    assert_eq!(
        run.code, 0,
        "warnings, not failures:\n{}\n{}",
        run.stdout, run.stderr
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let about = |variable: &str, id: &str| -> Value {
        doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["variable"] == variable && c["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no {id} check for {variable}: {doc:#}"))
    };
    let url = about("DATABASE_URL", "platform.sealed");
    assert_eq!(url["status"], "warn");
    assert_contains!(url["message"].as_str().unwrap(), "URL checks", "{url}");
    assert_eq!(
        about("NEXTAUTH_SECRET", "platform.sealed")["status"],
        "warn"
    );
    let pair = about("NEXTAUTH_SECRET", "platform.nextauth_secret_match");
    assert_eq!(pair["status"], "warn", "never a silent pass: {pair}");
    let message = pair["message"].as_str().unwrap();
    assert_contains!(message, "sealed on `backend`");
    assert_contains!(message, "`backend` and `frontend`");
    assert_eq!(check(&doc, "platform.reference")["status"], "pass");
    assert!(
        doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] != "fail"),
        "{doc:#}"
    );
    assert_contains!(
        check(&doc, "platform.source")["message"].as_str().unwrap(),
        "3 sealed",
        "{doc:#}"
    );

    let server = HealthStandIn::answering(200);
    let port = server.port();
    let run = deploy(&fake, &[], port);
    server.join().unwrap();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_contains!(run.stderr, "warning: DATABASE_URL: sealed");

    let run = fake.xtask(&["rollback", "--dry-run", "--accept-schema", NOWHERE], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Even without the checks, reading the variables must not trip on a `null`.
    let run = fake.xtask(&DEPLOY_DRY, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    let run = fake.xtask(&["logs", "--deployment", "dep-old", "--lines", "5"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let note = "cannot be masked by value";
    assert_eq!(
        run.stderr.matches(note).count(),
        1,
        "said once:\n{}",
        run.stderr
    );
    assert_contains!(
        run.stderr,
        "DATABASE_URL, NEXTAUTH_SECRET, STRIPE_SECRET_KEY of `backend` are sealed"
    );
}

/// The sealed note names the platform's variables: through the one escaper, so a name
/// carrying a control character cannot clear the screen or forge a line.
#[test]
fn the_sealed_note_escapes_the_platforms_variable_names() {
    let mut backend = good_variables();
    backend["EVIL\u{1b}[2J\rNAME"] = Value::Null;
    let fake = scenario(json!({
        "variables": {"backend": backend, "frontend": good_frontend()},
        "deployments": history(),
    }));
    for args in [
        &["logs", "--deployment", "dep-old", "--lines", "5"][..],
        &["rollback", "--dry-run", "--accept-schema", NOWHERE][..],
    ] {
        let run = fake.xtask(args, &[]);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert_contains!(
            run.stderr,
            "note: EVIL\\x1b[2J\\rNAME of `backend` is sealed",
            "{args:?}: {}",
            run.stderr
        );
        assert_lacks!(run.stderr, '\x1b', "{args:?}: {:?}", run.stderr);
        assert_lacks!(run.stderr, '\r', "{args:?}: {:?}", run.stderr);
    }
}

/// Where the CLI's text comes from, and the task that relays it.
#[derive(Debug, Clone, Copy)]
enum Path_ {
    /// `logs` failing: a GraphQL refusal on stderr.
    Logs,
    /// `redeploy` failing, during `deploy`.
    Redeploy,
    /// `up --json` failing: the error object on stdout.
    UpJson,
    /// `api` with a non-2xx answer: the body on stdout, a status line on stderr.
    ApiHttp,
    /// `api` with a GraphQL refusal under `--allow-errors`: exit 0, the body's messages.
    ApiGraphql,
    /// `config plan` failing, as a check of `verify --remote`.
    ConfigPlan,
}

const CONTROLS: [char; 9] = [
    '\x1b', '\r', '\x07', '\0', '\x08', '\x7f', '\u{9b}', '\u{202e}', '\u{2066}',
];

fn controls() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(&CONTROLS[..]), 0..4)
        .prop_map(|c| c.into_iter().collect())
}

/// A secret in one of the spellings it can reach a CLI's error line in.
fn spell(how: u8, password: &str, stored: &str, url: &str, secret: &str) -> String {
    let percent = |s: &str, upper: bool| -> String {
        s.bytes()
            .map(|b| {
                if upper {
                    format!("%{b:02X}")
                } else {
                    format!("%{b:02x}")
                }
            })
            .collect()
    };
    match how % 11 {
        0 => secret.to_owned(),
        1 => percent(secret, true),
        2 => percent(secret, false),
        3 => secret
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 2 == 0 {
                    percent(&c.to_string(), true)
                } else {
                    c.to_string()
                }
            })
            .collect(),
        4 => password.to_owned(),
        5 => stored.to_owned(),
        6 => format!("postgresql://postgres:{stored}@db.example:5432/railway"),
        7 => format!("password={stored}"),
        8 => url.to_owned(),
        9 => format!("Bearer {secret}"),
        _ => password.replace(' ', "+"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 36, failure_persistence: None, ..ProptestConfig::default() })]

    /// Issue 26, "text from the platform": whatever the CLI prints when it fails — secrets of
    /// the service in any spelling, control characters — reaches the terminal masked and
    /// escaped, in every task; and the task did reach the relay (the nonce beside the
    /// secret is shown, the failing command was called): an early error proves nothing.
    #[test]
    fn cli_text_is_masked_and_escaped_in_every_task(
        path in prop_oneof![Just(Path_::Logs), Just(Path_::Redeploy), Just(Path_::UpJson), Just(Path_::ApiHttp), Just(Path_::ApiGraphql), Just(Path_::ConfigPlan)],
        password in "[A-Za-z0-9]{5,9}[@:/ %+#?&=]{1,2}[A-Za-z0-9]{4,8}",
        secret in "[A-Za-z0-9+/]{32,40}",
        how in any::<u8>(),
        (c1, c2, c3) in (controls(), controls(), controls()),
        nonce in 100_000u32..999_999,
    ) {
        let stored = utf8_percent_encode(&password, NON_ALPHANUMERIC).to_string();
        let url = format!("postgresql://postgres:{stored}@postgres.railway.internal:5432/railway");
        let spelled = spell(how, &password, &stored, &url, &secret);
        let text = format!("{c1}request denied{c2}: {spelled} nonce-{nonce}{c3}");
        let mut variables = good_variables();
        variables["DATABASE_URL"] = json!(url);
        variables["NEXTAUTH_SECRET"] = json!(secret);
        let graphql = json!({"graphql": text});
        let (endpoint, error) = match path {
            Path_::Logs => ("logs", graphql),
            Path_::Redeploy => ("redeploy", graphql),
            Path_::UpJson => ("up", graphql),
            Path_::ApiHttp => ("api", json!({"http": {"status": 500, "body": {"errors": [{"message": text}]}}})),
            Path_::ApiGraphql => ("api", graphql),
            Path_::ConfigPlan => ("config", graphql),
        };
        let fake = scenario(json!({
            "variables": {"backend": variables, "frontend": {}},
            "deployments": history(),
            "errors": {endpoint: error},
        }));
        let probe = NOWHERE;
        let path_var = path_env();
        let run: Run = match path {
            Path_::Logs => fake.xtask(&["logs", "--deployment", "dep-old", "--lines", "5"], &[]),
            Path_::Redeploy => fake.xtask(&["deploy", "--skip-verify", "--no-env-file", probe], &[]),
            Path_::UpJson => fake.xtask(&["deploy", "--up", "--skip-verify", "--no-env-file", probe], &[("PATH", path_var.as_str())]),
            Path_::ApiHttp | Path_::ApiGraphql => fake.xtask(&["rollback", "--dry-run", probe], &[]),
            Path_::ConfigPlan => fake.xtask(&["verify", "--remote", "--no-env-file"], &[]),
        };
        let shown = format!("{}{}", run.stdout, run.stderr);
        prop_assert_eq!(run.code, 1, "{}", shown);
        prop_assert!(shown.contains(&format!("nonce-{nonce}")), "the relay was not reached:\n{}", shown);
        let called = fake.commands().iter().any(|c| c.starts_with(endpoint) || (endpoint == "up" && c.starts_with("up ")));
        prop_assert!(called, "`railway {}` never ran: {:?}", endpoint, fake.commands());
        for leaked in [&password, &stored, &secret, &url, &spelled] {
            prop_assert!(!shown.contains(leaked.as_str()), "`{}` leaked:\n{}", leaked, shown);
        }
        let raw: Vec<char> = shown
            .chars()
            .filter(|c| (c.is_control() && *c != '\n') || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
            .collect();
        prop_assert!(raw.is_empty(), "raw control characters {:?} in:\n{}", raw, shown);
    }
}

#[test]
fn a_plan_in_the_servers_words_is_gated_on_its_structure() {
    let live = json!({"project": {"name": "intowork"}, "resources": [
        {"address": "service.backend", "type": "service", "name": "backend", "source": {"type": "github", "repo": "intowork/intowork-backend", "branch": "main"}},
    ]});
    let mut detached = live.clone();
    detached["resources"][0]["source"] = Value::Null;
    // The engine's change, then the server's preview of it (which replaces it: engine.rs),
    // worded without "source" at all and without details.
    let engine = json!([{"kind": "resource.update", "address": "service.backend", "field": "source", "path": "resources.service.backend.source",
        "before": {"repo": "intowork/intowork-backend"}, "after": null, "summary": "Update backend source.repo", "severity": "safe",
        "details": ["source.repo (\"intowork/intowork-backend\" → null)"]}]);
    let server = json!([{"kind": "resource.update", "summary": "Disconnect repository from backend", "severity": "safe"}]);
    let fake = scenario(
        json!({"config_plan": {"changes": engine, "preview": server, "current_graph": live, "desired_graph": detached}}),
    );
    let run = fake.xtask(&["deploy", "--no-env-file", NOWHERE], &[]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_contains!(
        run.stdout,
        "would destroy (source detached): backend: source github:intowork/intowork-backend → none"
    );
    assert!(fake.mutating_calls().is_empty(), "{:?}", fake.commands());

    // The same words with the source kept on both sides: a pending change, not a refusal.
    let server = json!([{"kind": "resource.update", "summary": "Source settings changed for backend", "severity": "safe"}]);
    let fake = scenario(
        json!({"config_plan": {"changes": engine, "preview": server, "current_graph": live, "desired_graph": live}}),
    );
    let run = fake.xtask(&["verify", "--remote", "--no-env-file"], &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_contains!(run.stdout, "1 change pending");
    assert_contains!(run.stdout, "Source settings changed for backend");
}

/// A variable the API refuses (missing, mistyped) comes back as a response body with an
/// `errors` array, which `railway api` prints on stdout — exit 0 with `--allow-errors`, 1 with
/// "Railway API returned 1 GraphQL error(s)" without — never as the CLI's own error
/// (railwayapp 5.71.0 src/commands/api.rs, `execute_document`).
#[test]
fn the_fake_answers_a_graphql_variable_error_with_a_body() {
    let fake = scenario(json!({}));
    let bin = env!("CARGO_BIN_EXE_fake-railway");
    let document = "query XtaskServiceInstance($environmentId: String!, $serviceId: String!) { serviceInstance(environmentId: $environmentId, serviceId: $serviceId) { numReplicas } }";
    let api = |extra: &[&str]| -> Run {
        let sh = xshell::Shell::new().unwrap();
        let out = xshell::cmd!(
            sh,
            "{bin} api {document} --raw-var environmentId=env-production --compact {extra...}"
        )
        .env("FAKE_RAILWAY_SCENARIO", &fake.scenario)
        .ignore_status()
        .quiet()
        .output()
        .unwrap();
        Run::from(out)
    };
    let body = json!({"errors": [{"message": "Variable \"$serviceId\" of required type \"String!\" was not provided."}]});
    let run = api(&["--allow-errors"]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{}", run.stdout);
    assert_eq!(serde_json::from_str::<Value>(&run.stdout).unwrap(), body);
    let run = api(&[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(serde_json::from_str::<Value>(&run.stdout).unwrap(), body);
    assert_contains!(run.stderr, "Railway API returned 1 GraphQL error(s)");
}

/// Following the sealed-secret warning's own advice clears it: with NEXTAUTH_SECRET a
/// reference to one sealed shared variable on both services, the comparison passes "by
/// reference" (a reference that differs, or a plain sealed value, stays a warning).
#[test]
fn a_sealed_secret_shared_by_reference_passes_by_reference() {
    let shared = "${{shared.NEXTAUTH_SECRET}}";
    let mut backend = good_variables();
    backend["NEXTAUTH_SECRET"] = Value::Null;
    let mut frontend = good_frontend();
    frontend["NEXTAUTH_SECRET"] = Value::Null;
    let written = |vars: &Value, reference: &str| {
        let mut w = vars.clone();
        w["NEXTAUTH_SECRET"] = json!(reference);
        w
    };
    let run_with = |frontend_reference: &str| {
        let fake = scenario(json!({
            "variables": {"backend": backend, "frontend": frontend},
            "unrendered_variables": {
                "backend": written(&backend, shared),
                "frontend": written(&frontend, frontend_reference),
            },
            "shared_variables": {"NEXTAUTH_SECRET": null},
        }));
        let run = fake.xtask(&VERIFY_WITH_FRONTEND, &[]);
        let doc: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{e}:\n{}\n{}", run.stdout, run.stderr));
        check(&doc, "platform.nextauth_secret_match").clone()
    };
    let same = run_with(shared);
    assert_eq!(same["status"], "pass", "{same}");
    assert_contains!(
        same["message"].as_str().unwrap(),
        "same by reference: both hold `${{shared.NEXTAUTH_SECRET}}`",
        "{same}"
    );
    let other = run_with("${{shared.FRONTEND_SECRET}}");
    assert_eq!(other["status"], "warn", "{other}");
}

/// A sealed ENVIRONMENT turns no production failure into a pass: the rules run as in
/// production (http://localhost origins fail), and the report says so; the settings that
/// depend on a sealed variable's value are warnings naming it, not passes against defaults.
#[test]
fn sealed_values_never_pass_against_a_default() {
    let mut backend = good_variables();
    backend["ENVIRONMENT"] = Value::Null;
    backend["ALLOWED_ORIGINS"] = json!("http://localhost:3000");
    backend["FRONTEND_URL"] = json!("http://localhost:3000");
    backend["SHUTDOWN_GRACE_SECS"] = Value::Null;
    backend["DATABASE_MAX_CONNECTIONS"] = Value::Null;
    let fake = scenario(json!({"variables": {"backend": backend, "frontend": good_frontend()}}));
    let run = fake.xtask(&["verify", "--remote", "--no-env-file", "--json"], &[]);
    assert_eq!(run.code, 1, "production's rules fail:\n{}", run.stdout);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let about = |variable: &str| -> Vec<Value> {
        doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["variable"] == variable)
            .cloned()
            .collect()
    };
    for variable in ["ALLOWED_ORIGINS", "FRONTEND_URL"] {
        assert!(
            about(variable).iter().any(|c| c["status"] == "fail"),
            "{variable}: {doc:#}"
        );
    }
    let env = about("ENVIRONMENT");
    assert!(
        env.len() == 1
            && env[0]["status"] == "warn"
            && env[0]["message"]
                .as_str()
                .unwrap()
                .contains("as in production, the strictest"),
        "{env:?}"
    );
    for (setting, variable) in [
        ("drainingSeconds", "SHUTDOWN_GRACE_SECS"),
        ("numReplicas", "DATABASE_MAX_CONNECTIONS"),
    ] {
        let c = &about(setting)[0];
        assert_eq!(c["status"], "warn", "{c}");
        assert_contains!(
            c["message"].as_str().unwrap(),
            &format!("{variable}, which is sealed"),
            "{c}"
        );
    }
}

/// With --json, every failure prints one summary document on stdout, with a verdict CI can
/// tell apart from a deployment that ran and failed: `refused` when nothing was triggered
/// (the version gate, the pre-flight, the schema guard), `error` when the task failed after
/// triggering without a verdict.
#[test]
fn json_mode_failures_print_one_summary_with_a_refused_or_error_verdict() {
    let only_doc = |run: &Run| -> Value {
        let lines: Vec<&str> = run.stdout.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "one document:\n{}\n{}",
            run.stdout,
            run.stderr
        );
        serde_json::from_str(lines[0]).unwrap()
    };
    let refused = |run: &Run, task: &str, said: &str| {
        assert_eq!(run.code, 1, "{}", run.stderr);
        let doc = only_doc(run);
        assert_eq!(
            (&doc["ok"], &doc["task"], &doc["verdict"]),
            (&json!(false), &json!(task), &json!("refused")),
            "{doc}"
        );
        assert_contains!(doc["message"].as_str().unwrap(), said, "{doc}");
    };
    // The version gate.
    let fake = scenario(json!({"version": "5.20.0", "deployments": history()}));
    let run = fake.xtask(&["deploy", "--no-env-file", "--json", NOWHERE], &[]);
    refused(&run, "deploy", "railway 5.20.0 is older than");
    let run = fake.xtask(&["rollback", "--json", NOWHERE], &[]);
    refused(&run, "rollback", "railway 5.20.0 is older than");
    // The pre-flight.
    let mut backend = good_variables();
    backend["DATABASE_URL"] = json!(
        "postgresql://postgres:pgpw-FakeRailway-7781@db.example.com:5432/railway?sslmode=disable"
    );
    let fake = scenario(json!({"variables": {"backend": backend}, "deployments": history()}));
    let run = fake.xtask(&["deploy", "--no-env-file", "--json", NOWHERE], &[]);
    refused(&run, "deploy", "deploy: pre-flight failed");
    assert_contains!(
        run.stderr,
        "DATABASE_URL",
        "the checklist on stderr: {}",
        run.stderr
    );
    // The schema guard (these made-up deployments carry no commit).
    let fake = scenario(json!({"deployments": history()}));
    let run = fake.xtask(&["rollback", "--json", NOWHERE], &[]);
    refused(
        &run,
        "rollback",
        "rollback refused before touching anything",
    );
    // A failure after the trigger: no verdict on the deployment, and not a refusal.
    let fake = scenario(json!({"errors": {"redeploy": "rate_limited"}, "deployments": history()}));
    let run = fake.xtask(
        &[
            "deploy",
            "--skip-verify",
            "--no-env-file",
            "--json",
            NOWHERE,
        ],
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = only_doc(&run);
    assert_eq!(
        (&doc["ok"], &doc["verdict"]),
        (&json!(false), &json!("error")),
        "{doc}"
    );
}
