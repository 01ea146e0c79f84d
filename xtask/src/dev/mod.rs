//! `cargo xtask dev`: the whole path — TLS-only database, verify, migrate, serve, health —
//! on a laptop, before any Railway account exists. The local database behaves like
//! Railway's (TLS only, a self-signed CA:TRUE certificate), so a URL that turns TLS off
//! fails here exactly as it would there.

mod backend;
pub(crate) mod cluster;
pub(crate) mod prereq;

use std::time::{Duration, Instant};

use anyhow::Context;
use intowork_config::Settings;
use intowork_db::migrate::{self, Limits, MIGRATOR};
use xshell::Shell;

use crate::exit::Reported;
use crate::flags::{self, DevAction};
use crate::{checklist, config_source, runtime};
use backend::Backend;
pub(crate) use backend::terminate;
use cluster::Layout;
use prereq::Postgres;

impl flags::Dev {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let dir = match &self.dir {
            Some(d) => std::path::absolute(d)?,
            None => config_source::project_root().join("target").join("dev"),
        };
        let layout = Layout { dir };
        let pg = Postgres::find(sh)?;
        if let Some(DevAction::Stop) = self.action {
            return stop_all(sh, &pg, &layout, true);
        }
        if self.reset {
            stop_all(sh, &pg, &layout, false)?;
            if let Some(data) = layout.data_dir() {
                std::fs::remove_dir_all(&data)
                    .with_context(|| format!("failed to remove `{}`", data.display()))?;
            }
            if layout.dir.exists() {
                std::fs::remove_dir_all(&layout.dir)?;
            }
        }
        let mut steps = Steps::new(self.check);
        let result = self.up_and_serve(sh, &pg, &layout, &mut steps);
        if self.check {
            // One-shot: whatever happened, nothing is left running.
            if let Err(e) = stop_all(sh, &pg, &layout, false) {
                steps.fail("stop", &format!("{e:#}"));
            } else {
                steps.pass("stop", "backend and database stopped", Duration::ZERO);
            }
            steps.print_summary();
        }
        result?;
        if steps.failed {
            return Err(Reported("dev --check: a step failed (see above)".into()).into());
        }
        Ok(())
    }

    fn up_and_serve(
        &self,
        sh: &Shell,
        pg: &Postgres,
        layout: &Layout,
        steps: &mut Steps,
    ) -> anyhow::Result<()> {
        // 1. The database: created once, reused after.
        let t = Instant::now();
        let (data, how) = match layout.data_dir() {
            Some(data) => (data, "reused"),
            None => {
                let port = free_port()?;
                (
                    cluster::create(sh, pg, layout, port, cluster::DEV_MAX_CONNECTIONS)
                        .context("failed to create the local database")?,
                    "created",
                )
            }
        };
        let port = ensure_running(sh, pg, layout, &data)?;
        steps.pass(
            "database",
            &format!(
                "{how}, TLS only, on localhost:{port} (data: {})",
                data.display()
            ),
            t.elapsed(),
        );

        // 2. Configuration: the process environment over the stack's env file, as every task reads it.
        let stack_env = flags::EnvFileArgs {
            env_file: Some(layout.env_file()),
            no_env_file: false,
        };
        let (_, source) = config_source::load(&stack_env)?;
        let settings = match Settings::load(&source) {
            Ok(l) => l.settings,
            Err(invalid) => {
                steps.fail("configuration", &invalid.to_string());
                return Err(Reported("dev: the configuration is invalid".into()).into());
            }
        };

        // 3. Verify, online.
        let t = Instant::now();
        let report = runtime::block_on(intowork_db::online::run(settings.database(), 1))?;
        if report.has_failures() {
            eprint!("{}", checklist::human(&report, false));
            let why = report
                .failures()
                .map(|c| c.message.clone())
                .collect::<Vec<_>>()
                .join("; ");
            steps.fail("verify", &why);
            return Err(Reported("dev: the database checks failed (see above)".into()).into());
        }
        let tls = intowork_db::online::Stage::TlsProof
            .find(&report)
            .map(|c| c.message.clone())
            .unwrap_or_default();
        steps.pass("verify", &tls, t.elapsed());

        // 4. Migrate.
        let t = Instant::now();
        let applied = runtime::block_on(migrate::run(
            settings.database(),
            &MIGRATOR,
            Limits::from_settings(settings.migrations()),
            false,
        ))?
        .inspect_err(|e| steps.fail("migrate", &e.to_string()))?;
        steps.pass(
            "migrate",
            &format!("{} applied, database up to date", applied.len()),
            t.elapsed(),
        );

        // 5. The backend.
        let t = Instant::now();
        let http_port = match self.port {
            Some(p) => p,
            None if !self.check && port_free(8000) => 8000,
            None => free_port()?,
        };
        let bin = backend::build(sh, self.check)?;
        steps.pass("build", &format!("{}", bin.display()), t.elapsed());
        let t = Instant::now();
        let mut backend = Backend::spawn(&bin, layout, &layout.env_file(), http_port, self.check)?;
        let base = format!("http://127.0.0.1:{http_port}");
        let ready = crate::health::probe(
            &format!("{base}/health/ready"),
            Duration::from_secs(60),
            Duration::from_millis(100),
        );
        if !ready.ok {
            steps.fail(
                "backend",
                &format!(
                    "/health/ready never answered 200 ({}): see {}",
                    ready.detail.trim(),
                    layout.backend_log().display()
                ),
            );
            backend.stop()?;
            return Ok(());
        }
        steps.pass(
            "backend",
            &format!("ready on {base} (/health/ready: {})", ready.detail.trim()),
            t.elapsed(),
        );
        if self.check {
            let t = Instant::now();
            let api = crate::health::probe(
                &format!("{base}/api/jobs?limit=5"),
                Duration::ZERO,
                Duration::ZERO,
            );
            if api.ok {
                steps.pass("api", "GET /api/jobs → 200", t.elapsed());
            } else {
                steps.fail(
                    "api",
                    &format!(
                        "GET /api/jobs → {}",
                        api.status.map(|s| s.to_string()).unwrap_or(api.detail)
                    ),
                );
            }
            let t = Instant::now();
            let code = backend.stop()?;
            if code == Some(0) {
                steps.pass(
                    "shutdown",
                    "backend drained and exited 0 on SIGTERM",
                    t.elapsed(),
                );
            } else {
                steps.fail(
                    "shutdown",
                    &format!("backend exited with {code:?} on SIGTERM"),
                );
            }
            return Ok(());
        }
        println!("backend on {base} — Ctrl-C stops it, then the database");
        backend.wait_interactive()?;
        cluster::stop(sh, pg, &data)?;
        println!("stopped: backend and database");
        Ok(())
    }
}

/// Starts the cluster if needed, on the port its env file names (or a new one if that port
/// was taken meanwhile), and returns the port.
pub(crate) fn ensure_running(
    sh: &Shell,
    pg: &Postgres,
    layout: &Layout,
    data: &std::path::Path,
) -> anyhow::Result<u16> {
    let env = std::fs::read_to_string(layout.env_file())
        .context("the stack's env file is missing: run `cargo xtask dev --reset`")?;
    let port = env
        .lines()
        .find_map(|l| l.strip_prefix("DATABASE_URL="))
        .and_then(|u| u.split("@localhost:").nth(1))
        .and_then(|rest| rest.split('/').next())
        .and_then(|p| p.parse::<u16>().ok())
        .context(
            "the stack's env file has no usable DATABASE_URL: run `cargo xtask dev --reset`",
        )?;
    if cluster::is_running(sh, pg, data) {
        return Ok(port);
    }
    let port = if port_free(port) {
        port
    } else {
        let new = free_port()?;
        std::fs::write(
            layout.env_file(),
            env.replace(
                &format!("@localhost:{port}/"),
                &format!("@localhost:{new}/"),
            ),
        )?;
        cluster::set_port(sh, pg, data, new)?;
        new
    };
    cluster::start(sh, pg, layout, data)?;
    Ok(port)
}

fn stop_all(sh: &Shell, pg: &Postgres, layout: &Layout, say: bool) -> anyhow::Result<()> {
    let stopped_backend = backend::stop_leftover(sh, layout)?;
    let data = layout.data_dir();
    let was_running = data
        .as_deref()
        .is_some_and(|d| cluster::is_running(sh, pg, d));
    if let Some(data) = &data {
        cluster::stop(sh, pg, data)?;
    }
    if say {
        match (stopped_backend, was_running) {
            (false, false) => println!("nothing was running"),
            (b, d) => println!(
                "stopped:{}{}",
                if b { " backend" } else { "" },
                if d { " database" } else { "" }
            ),
        }
    }
    Ok(())
}

pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?
        .local_addr()?
        .port())
}

fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// The report `--check` prints: each step with its duration.
struct Steps {
    quiet_until_summary: bool,
    lines: Vec<String>,
    failed: bool,
}

impl Steps {
    fn new(check: bool) -> Steps {
        Steps {
            quiet_until_summary: check,
            lines: Vec::new(),
            failed: false,
        }
    }

    fn pass(&mut self, step: &str, what: &str, took: Duration) {
        self.push(format!("ok    {step:<13} {what} ({} ms)", took.as_millis()));
    }

    fn fail(&mut self, step: &str, why: &str) {
        self.failed = true;
        self.push(format!("FAIL  {step:<13} {why}"));
    }

    fn push(&mut self, line: String) {
        if !self.quiet_until_summary {
            println!("{line}");
        }
        self.lines.push(line);
    }

    fn print_summary(&self) {
        println!("dev --check:");
        for l in &self.lines {
            println!("  {l}");
        }
        println!(
            "dev --check {}",
            if self.failed { "FAILED" } else { "passed" }
        );
    }
}
