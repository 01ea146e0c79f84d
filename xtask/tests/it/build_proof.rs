//! Proof that the new build serves, with the real backend against a real PostgreSQL server:
//! `deploy` passes only when the build answering `/health` is the commit it deployed. A
//! stale build — here the backend of an older commit still answering — is never reported
//! as deployed.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use intowork_testkit::{Flavor, PgServer, TestDb, free_port};
use serde_json::{Value, json};
use xshell::{Shell, cmd};

use crate::common::fake_cli::{Fake, now_plus, scenario};

const OLD: &str = "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const NEW: &str = "2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const SECRET: &str = "build-proof-test-secret-0123456789abcdef0123";

/// `cargo build` of the backend (as `cargo xtask dev` builds it); its path.
fn backend_binary() -> PathBuf {
    let sh = Shell::new().unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    sh.change_dir(&root);
    let mut build = cmd!(
        sh,
        "{cargo} build --quiet --package intowork-backend --bin backend"
    );
    // The variables cargo gave this test process would make build scripts rerun.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("CARGO_") && name != "CARGO_HOME" && name != "CARGO_TARGET_DIR" {
            build = build.env_remove(name);
        }
    }
    build.run().expect("the backend builds");
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("debug/backend")
}

/// The real backend, as Railway runs it for a GitHub deploy of `commit`.
struct Backend {
    child: Child,
    port: u16,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Backend {
    // A long-running child the test must stop: xshell only runs commands to completion.
    #[allow(clippy::disallowed_methods)]
    fn start(db: &TestDb, commit: &str) -> Backend {
        let port = free_port();
        let mut child = std::process::Command::new(backend_binary())
            .args(["serve", "--port", &port.to_string()])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DATABASE_URL", db.url("sslmode=require"))
            .env("NEXTAUTH_SECRET", SECRET)
            .env("ALLOWED_ORIGINS", "https://app.intowork.example")
            .env("LOG_FORMAT", "json")
            .env("RAILWAY_GIT_COMMIT_SHA", commit)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the backend starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let backend = Backend { child, port, lines };
        backend.wait_for("application startup complete");
        backend
    }

    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(l) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.contains(needle))
            {
                return l.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no `{needle}`: {:?}",
                self.lines.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn ready_url(&self) -> String {
        format!("http://127.0.0.1:{}/health/ready", self.port)
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fake() -> Fake {
    scenario(json!({
        "deployments": {"backend": [{"id": "dep-old", "status": "SUCCESS", "createdAt": now_plus(-600), "meta": {"commitHash": OLD}}]},
        // `--from-source`: the platform says which commit it built.
        "new_deployment_meta": {"commitHash": NEW, "branch": "main", "repo": "intowork/intowork-backend"},
    }))
}

fn deploy(fake: &Fake, url: &str) -> Value {
    let args = [
        "deploy",
        "--from-source",
        "--no-env-file",
        "--json",
        "--health-url",
        url,
        "--poll-interval",
        "100ms",
        "--timeout",
        "3s",
    ];
    let run = fake.xtask(&args, &[]);
    let doc: Value = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    assert_eq!(doc["ok"], run.code == 0, "{doc}");
    doc
}

#[test]
fn a_stale_build_is_never_reported_as_deployed() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();

    // The platform built NEW, but the backend answering is still the build of OLD.
    let stale = Backend::start(&db, OLD);
    let started = stale.wait_for("\"message\":\"build ");
    assert_contains!(
        started,
        &format!("(commit {OLD})"),
        "the start-up log names the build: {started}"
    );
    let doc = deploy(&fake(), &stale.ready_url());
    assert_eq!(
        (doc["ok"].as_bool(), doc["verdict"].as_str()),
        (Some(false), Some("stale_build")),
        "{doc}"
    );
    assert_eq!(doc["commit"], NEW, "from the deployment's meta");
    assert_eq!(doc["health"]["serving"]["commit"], OLD);
    assert_eq!(
        doc["health"]["status"], 200,
        "ready, yet not the deployed build"
    );
    assert_lacks!(
        doc["message"].as_str().unwrap(),
        "deployed and healthy",
        "{doc}"
    );
    drop(stale);

    // The build of NEW answers: deployed.
    let fresh = Backend::start(&db, NEW);
    let doc = deploy(&fake(), &fresh.ready_url());
    assert_eq!(
        (doc["ok"].as_bool(), doc["verdict"].as_str()),
        (Some(true), Some("deployed")),
        "{doc}"
    );
    assert_eq!(doc["health"]["serving"]["commit"], NEW);
    assert_eq!(
        doc["health"]["serving"]["version"],
        env!("CARGO_PKG_VERSION")
    );
}
