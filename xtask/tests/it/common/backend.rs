//! The real backend binary as a child of a test: built the way `cargo xtask dev` builds it,
//! started on a free port with exactly the given environment, its JSON log lines read as they
//! come, killed when the test ends.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use serde_json::Value;
use xshell::{Shell, cmd};

use super::root;

/// `target/debug/backend`, built first.
pub fn binary() -> PathBuf {
    let sh = Shell::new().unwrap();
    sh.change_dir(root());
    cmd!(
        sh,
        "cargo build --quiet --package intowork-backend --bin backend"
    )
    .quiet()
    .run()
    .unwrap();
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    target.join("debug").join("backend")
}

pub struct Backend {
    child: Child,
    lines: Receiver<String>,
    pub port: u16,
}

impl Drop for Backend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Backend {
    /// `backend serve --port 0` with `env` (plus PATH and `LOG_FORMAT=json`), once it listens.
    // A long-running child whose output is read as it comes: xshell only runs to completion.
    #[allow(clippy::disallowed_methods)]
    pub fn start(env: &[(&str, &str)]) -> Backend {
        let mut child = std::process::Command::new(binary())
            .args(["serve", "--port", "0"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("LOG_FORMAT", "json")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut backend = Backend {
            child,
            lines,
            port: 0,
        };
        let listening = backend.wait_line("listening on");
        backend.port = listening["address"]
            .as_str()
            .and_then(|a| a.rsplit(':').next())
            .and_then(|p| p.parse().ok())
            .expect("an address field");
        backend
    }

    /// The next JSON log line containing `needle` (panics after a minute).
    pub fn wait_line(&self, needle: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no `{needle}` line"));
            if line.contains(needle) {
                return serde_json::from_str(&line).unwrap();
            }
        }
    }

    /// Lines logged within `quiet` from now that contain `needle` (none expected, mostly).
    pub fn lines_within(&self, quiet: Duration, needle: &str) -> Vec<String> {
        let deadline = Instant::now() + quiet;
        let mut found = Vec::new();
        while let Ok(line) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            if line.contains(needle) {
                found.push(line);
            }
        }
        found
    }
}
