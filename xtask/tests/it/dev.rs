//! `cargo xtask dev --check` end to end, in a temporary stack directory.

use crate::common::Run;

use std::path::Path;

use intowork_testkit::process;
use xshell::{Shell, cmd};

/// The real xtask with the caller's environment minus every configuration variable (it needs
/// PATH, HOME and cargo's own variables to build the backend).
fn dev(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let sh = Shell::new().unwrap();
    let bin = env!("CARGO_BIN_EXE_xtask");
    let d = dir.to_str().unwrap();
    let mut c = cmd!(sh, "{bin} dev --dir {d} {args...}")
        .ignore_status()
        .quiet();
    for v in intowork_config::VARIABLES {
        c = c.env_remove(v.name);
    }
    let out = c.envs(env.iter().copied()).output().unwrap();
    Run::from(out)
}

/// PostgreSQL servers whose command line names the stack's data directory.
fn running_servers(dir: &Path) -> usize {
    let data = std::fs::read_to_string(dir.join("data-dir")).unwrap_or_default();
    let data = data.trim();
    process::processes()
        .iter()
        .filter(|p| {
            !data.is_empty() && p.command_line.contains("postgres") && p.command_line.contains(data)
        })
        .count()
}

fn database_url(dir: &Path) -> String {
    let env = std::fs::read_to_string(dir.join("dev.env")).unwrap();
    env.lines()
        .find_map(|l| l.strip_prefix("DATABASE_URL="))
        .unwrap()
        .to_owned()
}

#[test]
fn check_creates_then_reuses_a_tls_only_stack_and_leaves_nothing_running() {
    let dir = tempfile::tempdir().unwrap();
    let first = dev(dir.path(), &["--check"], &[]);
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    for step in [
        "database", "verify", "migrate", "build", "backend", "api", "shutdown", "stop",
    ] {
        assert!(
            first
                .stdout
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("ok    {step}"))),
            "step {step}:\n{}",
            first.stdout
        );
    }
    assert_contains!(first.stdout, "created, TLS only");
    assert_contains!(first.stdout, "session encrypted: TLSv1.");
    assert_contains!(first.stdout, "GET /api/jobs → 200");
    assert_contains!(first.stdout, "exited 0 on SIGTERM");
    assert_eq!(running_servers(dir.path()), 0, "nothing left running");
    // What a local Next.js checkout needs: this API, this stack's secret, an allowed origin.
    let env = std::fs::read_to_string(dir.path().join("dev.env")).unwrap();
    let secret = env
        .lines()
        .find_map(|l| l.strip_prefix("NEXTAUTH_SECRET="))
        .unwrap();
    for line in [
        "  NEXT_PUBLIC_API_URL=http://127.0.0.1:".to_owned(),
        format!("  NEXTAUTH_SECRET={secret}\n"),
        "  NEXTAUTH_URL=http://localhost:3000\n".to_owned(),
        "this backend allows calls from http://localhost:3000 (ALLOWED_ORIGINS)".to_owned(),
    ] {
        assert_contains!(first.stdout, &line, "{line:?}:\n{}", first.stdout);
    }

    // A NEXTAUTH_SECRET in the process environment wins over the stack's file and may be a
    // real one: never printed, a placeholder names where it came from.
    let real = "dev-test-secret-from-the-environment-0123456789";
    let second = dev(dir.path(), &["--check"], &[("NEXTAUTH_SECRET", real)]);
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
    assert_lacks!(second.stdout, real);
    assert_lacks!(second.stderr, real, "{}", second.stdout);
    assert_contains!(
        second.stdout,
        "  NEXTAUTH_SECRET=<the backend's NEXTAUTH_SECRET>\n",
        "{}",
        second.stdout
    );
    assert_contains!(
        second.stdout,
        "(NEXTAUTH_SECRET comes from environment, not the stack's generated one: not printed"
    );
    assert_contains!(second.stdout, "reused, TLS only");
    assert_contains!(second.stdout, "migrate       0 applied");
    assert_eq!(running_servers(dir.path()), 0);

    // The env file holds a generated password and secret, readable by its owner only.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join("dev.env"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let url = database_url(dir.path());
    let password = url.split(':').nth(2).unwrap().split('@').next().unwrap();
    assert!(password.len() >= 32);
    assert_lacks!(
        first.stdout,
        password,
        "the generated password is never printed"
    );
    assert_lacks!(
        first.stderr,
        password,
        "the generated password is never printed"
    );

    // Turning TLS off is the diagnosed failure, not a hang: on loopback the server refuses
    // it ("no encryption"), for a remote name the configuration does.
    let plaintext = url.replace("sslmode=require", "sslmode=disable");
    let run = dev(dir.path(), &["--check"], &[("DATABASE_URL", &plaintext)]);
    assert_eq!(run.code, 1);
    assert_contains!(run.stdout, "FAIL  verify", "{}\n{}", run.stdout, run.stderr);
    assert_contains!(
        run.stdout,
        "no encryption",
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert_contains!(
        run.stdout,
        "use `sslmode=require`",
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    let remote = plaintext.replace("@localhost:", "@db.intowork.example:");
    let run = dev(dir.path(), &["--check"], &[("DATABASE_URL", &remote)]);
    assert_eq!(run.code, 1);
    assert_contains!(
        run.stdout,
        "FAIL  configuration",
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert_contains!(
        run.stdout,
        "Connection reset by peer",
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert_eq!(running_servers(dir.path()), 0);

    let stop = dev(dir.path(), &["stop"], &[]);
    assert_eq!(stop.code, 0);
    assert_contains!(stop.stdout, "nothing was running");
    // `--dir` is read after the subcommand too (`dev stop --dir X`, as one would type it).
    let sh = Shell::new().unwrap();
    let (bin, d) = (env!("CARGO_BIN_EXE_xtask"), dir.path());
    let after = cmd!(sh, "{bin} dev stop --dir {d}")
        .quiet()
        .ignore_status()
        .output()
        .unwrap();
    assert!(after.status.success(), "{after:?}");
    assert_contains!(
        String::from_utf8_lossy(&after.stdout),
        "nothing was running"
    );
}

/// `cargo xtask dev` left running: Ctrl-C stops the backend, then the database; a stack whose
/// xtask was killed hard is stopped by `dev stop`.
#[test]
fn interactive_dev_stops_cleanly_on_ctrl_c_and_dev_stop_cleans_up_after_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();

    let mut first = Interactive::start(dir.path(), &port);
    first.wait_for("backend on http://");
    assert_eq!(probe(&port), Some(200), "the backend serves while dev runs");
    first.signal("INT");
    assert_eq!(first.wait(), Some(0), "{}", first.output());
    assert_contains!(first.output(), "stopped: backend and database");
    assert_eq!(running_servers(dir.path()), 0);
    assert_eq!(probe(&port), None);

    let mut second = Interactive::start(dir.path(), &port);
    second.wait_for("backend on http://");
    second.signal("KILL");
    second.wait();
    assert_eq!(
        running_servers(dir.path()),
        1,
        "a hard kill leaves the database behind"
    );
    let stop = dev(dir.path(), &["stop"], &[]);
    assert_eq!(stop.code, 0, "{}{}", stop.stdout, stop.stderr);
    assert_contains!(stop.stdout, "stopped: backend database");
    assert_eq!(running_servers(dir.path()), 0);
    assert_eq!(probe(&port), None);
}

fn probe(port: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok()?;
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.split_whitespace().nth(1)?.parse().ok()
}

struct Interactive {
    child: std::process::Child,
    out: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Interactive {
    // A long-running child the test must signal: xshell only runs commands to completion.
    #[allow(clippy::disallowed_methods)]
    fn start(dir: &Path, port: &str) -> Interactive {
        use std::io::Read;
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"));
        c.args(["dev", "--dir", dir.to_str().unwrap(), "--port", port])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        for v in intowork_config::VARIABLES {
            c.env_remove(v.name);
        }
        let mut child = c.spawn().unwrap();
        let out = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        for mut pipe in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let sink = out.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = pipe.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    sink.lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
        }
        Interactive { child, out }
    }

    fn output(&self) -> String {
        self.out.lock().unwrap().clone()
    }

    /// Waits for `needle` in the output. The first wait includes dev's own `cargo build` of
    /// the backend, which on a shared 2-core machine (other test binaries building the
    /// backend with other features) can take minutes: a liveness bound, not a speed target.
    fn wait_for(&self, needle: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
        while !self.output().contains(needle) {
            assert!(
                std::time::Instant::now() < deadline,
                "no `{needle}`:\n{}",
                self.output()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    fn signal(&self, name: &str) {
        process::signal(self.child.id(), process::named(name));
    }

    fn wait(&mut self) -> Option<i32> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(std::time::Duration::from_millis(100));
                return status.code();
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

impl Drop for Interactive {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
