//! The one fake-CLI fixture: a scenario for the fake `railway` executable (xtask/fake-railway,
//! the real v5 CLI's interface playing scripted platforms), the platform variables it starts
//! from, and `xtask` run against it with every secret checked absent from the output.

use crate::common::Run;

use std::path::PathBuf;

use intowork_testkit::ValidEnv;
use serde_json::{Value, json};
use xshell::{Shell, cmd};

/// Obviously fake secrets; none may appear in any output.
pub(crate) const DB_PASSWORD: &str = "pgpw-FakeRailway-7781";
pub(crate) const SECRET: &str = "railway-test-nextauth-secret-0f1e2d3c4b5a6978";
pub(crate) const FRONT_SECRET: &str = "railway-test-frontend-secret-99887766554433";
const RESEND: &str = "re_fakeRailwayKey42";
pub(crate) const BEARER: &str = "eyFakeBearerToken.abc.def";

/// `verify --remote` comparing NEXTAUTH_SECRET with the `frontend` service, as JSON.
pub(crate) const VERIFY_WITH_FRONTEND: [&str; 6] = [
    "verify",
    "--remote",
    "--no-env-file",
    "--frontend-service",
    "frontend",
    "--json",
];

pub(crate) struct Fake {
    _dir: tempfile::TempDir,
    pub(crate) scenario: PathBuf,
    pub(crate) calls: PathBuf,
}

pub(crate) fn now_plus(secs: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(secs))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The backend's variables on the platform: the testkit's valid production configuration
/// with email on, with this file's own secrets and Railway's private database host.
pub(crate) fn good_env() -> ValidEnv {
    ValidEnv::production(&format!(
        "postgresql://postgres:{DB_PASSWORD}@postgres.railway.internal:5432/railway"
    ))
    .with_email()
    .with(&[
        ("NEXTAUTH_SECRET", SECRET),
        ("RESEND_API_KEY", RESEND),
        ("RAILWAY_PUBLIC_DOMAIN", "backend.intowork.example"),
    ])
}

pub(crate) fn good_variables() -> Value {
    Value::Object(
        good_env()
            .vars()
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
    )
}

/// A frontend that calls the backend at its public domain, with the backend's secret.
pub(crate) fn good_frontend() -> Value {
    json!({
        "NEXTAUTH_SECRET": SECRET,
        "NEXT_PUBLIC_API_URL": "https://backend.intowork.example",
        "RAILWAY_PUBLIC_DOMAIN": "app.intowork.example",
    })
}

/// Each service's public domains: the custom ones `good_variables` and `good_frontend` name.
pub(crate) fn good_domains() -> Value {
    json!({
        "backend": {"custom": ["backend.intowork.example"]},
        "frontend": {"custom": ["app.intowork.example"]},
    })
}

pub(crate) fn scenario(extra: Value) -> Fake {
    let dir = tempfile::tempdir().unwrap();
    let mut base = json!({
        "project": {"id": "prj-1", "name": "intowork", "environments": ["production"], "services": ["backend", "frontend"], "workspace": "IntoWork"},
        "variables": {"backend": good_variables(), "frontend": good_frontend()},
        "domains": good_domains(),
        "deployments": {"backend": [{"id": "dep-old", "status": "SUCCESS", "createdAt": now_plus(-3600)}]},
        "new_deployment_id": "dep-new",
        "progression": ["QUEUED", "BUILDING", "DEPLOYING", "SUCCESS"],
    });
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    let scenario = dir.path().join("scenario.json");
    std::fs::write(&scenario, base.to_string()).unwrap();
    let calls = dir.path().join("calls.jsonl");
    Fake {
        _dir: dir,
        scenario,
        calls,
    }
}

impl Fake {
    pub(crate) fn xtask(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Run {
        let sh = Shell::new().unwrap();
        let bin = env!("CARGO_BIN_EXE_xtask");
        let out = cmd!(sh, "{bin} {args...}")
            .env_clear()
            .env("RAILWAY_BIN", env!("CARGO_BIN_EXE_fake-railway"))
            .env("FAKE_RAILWAY_SCENARIO", &self.scenario)
            .env("FAKE_RAILWAY_CALLS", &self.calls)
            .envs(extra_env.iter().copied())
            .ignore_status()
            .quiet()
            .output()
            .unwrap();
        let run = Run::from(out);
        for secret in [DB_PASSWORD, SECRET, FRONT_SECRET, RESEND, BEARER] {
            assert_lacks!(
                run.stdout,
                secret,
                "`{secret}` leaked:\n{}\n{}",
                run.stdout,
                run.stderr
            );
            assert_lacks!(
                run.stderr,
                secret,
                "`{secret}` leaked:\n{}\n{}",
                run.stdout,
                run.stderr
            );
        }
        run
    }

    /// Runs the fake directly (test set-up, e.g. to create a deployment).
    pub(crate) fn railway(&self, args: &[&str]) {
        let sh = Shell::new().unwrap();
        let bin = env!("CARGO_BIN_EXE_fake-railway");
        cmd!(sh, "{bin} {args...}")
            .env("FAKE_RAILWAY_SCENARIO", &self.scenario)
            .quiet()
            .ignore_stdout()
            .run()
            .unwrap();
    }

    pub(crate) fn calls(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.calls)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    pub(crate) fn commands(&self) -> Vec<String> {
        self.calls()
            .iter()
            .map(|c| {
                c["argv"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    pub(crate) fn mutating_calls(&self) -> Vec<String> {
        self.commands()
            .into_iter()
            .filter(|c| {
                c.starts_with("redeploy") || c.starts_with("up") || c.starts_with("api mutation")
            })
            .collect()
    }
}

const FAST: &[&str] = &["--poll-interval", "50ms", "--timeout", "20s"];

/// `deploy` polling fast, probing the local health server on `health_port`.
pub(crate) fn deploy(fake: &Fake, extra: &[&str], health_port: u16) -> Run {
    let url = format!("http://127.0.0.1:{health_port}/health/ready");
    let mut args = vec!["deploy", "--health-url", url.as_str(), "--no-env-file"];
    args.extend_from_slice(FAST);
    args.extend_from_slice(extra);
    let args: Vec<String> = args.into_iter().map(str::to_owned).collect();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    fake.xtask(&refs, &[])
}
