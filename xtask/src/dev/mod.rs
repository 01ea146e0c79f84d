//! `cargo xtask dev`: the whole path — TLS-only database, verify, migrate, serve, health —
//! on a laptop, before any Railway account exists. The local database behaves like
//! Railway's (TLS only, a self-signed CA:TRUE certificate), so a URL that turns TLS off
//! fails here exactly as it would there. Missing prerequisites are installed first
//! (`install`), with the user's consent.

mod backend;
mod frontend;
mod install;
mod stack;
mod steps;

pub(crate) use stack::{APP_DB, dev_secret};

use std::time::{Duration, Instant};

use intowork_config::{Settings, ValueOrigin};
use intowork_db::migrate::{self, Limits, MIGRATOR};
use intowork_pglocal::{Pg, is_free};
use xshell::Shell;

use crate::flags::{self, DevAction};
use crate::util::exit::Reported;
use crate::{util::checklist, util::config_source, util::runtime};
use backend::Backend;
use install::Consent;
use stack::Stack;
use steps::Steps;

/// The backend's usual port, used when free (never by `--check`, which must not collide).
const USUAL_HTTP_PORT: u16 = 8000;

impl flags::Dev {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let consent = Consent::from_flags(self.install);
        if let Some(DevAction::Setup) = self.action {
            let pg = install::ensure(sh, consent)?;
            println!(
                "dev: everything dev and the tests need is installed (PostgreSQL: {})",
                pg.binaries.bindir.display()
            );
            return Ok(());
        }
        let dir = match &self.dir {
            Some(d) => std::path::absolute(d)?,
            None => config_source::project_root().join("target").join("dev"),
        };
        if let Some(DevAction::Stop) = self.action {
            // Nothing to install for stopping: without PostgreSQL, no database runs.
            let pg = Pg::find().map_err(|missing| Reported(format!("dev: {missing}")))?;
            return stop_all(&Stack::new(pg, dir), true);
        }
        let stack = Stack::new(install::ensure(sh, consent)?, dir);
        if self.reset {
            stop_all(&stack, false)?;
            stack.cluster.remove()?;
        }
        let mut steps = Steps::new(self.check);
        let result = self.up_and_serve(sh, &stack, &mut steps);
        if self.check {
            // One-shot: whatever happened, nothing is left running.
            if let Err(e) = stop_all(&stack, false) {
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

    fn up_and_serve(&self, sh: &Shell, stack: &Stack, steps: &mut Steps) -> anyhow::Result<()> {
        start_database(stack, steps)?;
        let (settings, secret_origin) = configuration(stack, steps)?;
        verify(&settings, steps)?;
        migrate(&settings, steps)?;
        let Some((mut backend, base)) = self.start_backend(sh, stack, steps)? else {
            return Ok(());
        };
        let secret = frontend::Secret::of(&settings, secret_origin.as_ref(), &stack.env_file());
        println!("{}", frontend::settings(&settings, &base, &secret));
        if self.check {
            return check_api_and_shutdown(&base, &mut backend, steps);
        }
        println!("backend on {base} — Ctrl-C stops it, then the database");
        backend.wait_interactive()?;
        stack.cluster.stop()?;
        println!("stopped: backend and database");
        Ok(())
    }

    /// Builds and starts the backend, and waits for `/health/ready`; `None` when it never
    /// became ready (the step says why, the backend is stopped).
    fn start_backend(
        &self,
        sh: &Shell,
        stack: &Stack,
        steps: &mut Steps,
    ) -> anyhow::Result<Option<(Backend, String)>> {
        let t = Instant::now();
        let http_port = match self.port {
            Some(p) => p,
            None if !self.check && is_free(USUAL_HTTP_PORT) => USUAL_HTTP_PORT,
            None => intowork_pglocal::free_port()?,
        };
        let bin = backend::build(sh, self.check)?;
        steps.pass("build", &format!("{}", bin.display()), t.elapsed());
        let t = Instant::now();
        let mut backend = Backend::spawn(&bin, stack, http_port, self.check)?;
        let base = format!("http://127.0.0.1:{http_port}");
        let ready = crate::release::health::probe(
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
                    stack.backend_log().display()
                ),
            );
            backend.stop()?;
            return Ok(None);
        }
        steps.pass(
            "backend",
            &format!("ready on {base} (/health/ready: {})", ready.detail.trim()),
            t.elapsed(),
        );
        Ok(Some((backend, base)))
    }
}

/// Created once, reused after.
fn start_database(stack: &Stack, steps: &mut Steps) -> anyhow::Result<()> {
    let t = Instant::now();
    let started = stack.start_database()?;
    let how = if started.created { "created" } else { "reused" };
    let data = stack.cluster.data_dir().unwrap_or_default();
    steps.pass(
        "database",
        &format!(
            "{how}, TLS only, on localhost:{} (data: {})",
            started.port,
            data.display()
        ),
        t.elapsed(),
    );
    Ok(())
}

/// The process environment over the stack's env file, as every task reads it; and where
/// NEXTAUTH_SECRET came from (the environment wins over the file).
fn configuration(
    stack: &Stack,
    steps: &mut Steps,
) -> anyhow::Result<(Settings, Option<ValueOrigin>)> {
    let stack_env = flags::EnvFileArgs {
        env_file: Some(stack.env_file()),
        no_env_file: false,
    };
    let (_, source) = config_source::load(&stack_env)?;
    let secret_origin = source.lookup("NEXTAUTH_SECRET").origin().cloned();
    match Settings::load(&source) {
        Ok(loaded) => Ok((loaded.settings, secret_origin)),
        Err(invalid) => {
            steps.fail("configuration", &invalid.to_string());
            Err(Reported("dev: the configuration is invalid".into()).into())
        }
    }
}

/// The online checks, as `cargo xtask verify` runs them.
fn verify(settings: &Settings, steps: &mut Steps) -> anyhow::Result<()> {
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
    Ok(())
}

fn migrate(settings: &Settings, steps: &mut Steps) -> anyhow::Result<()> {
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
    Ok(())
}

/// `--check`: one API call, then SIGTERM, which must drain and exit 0.
fn check_api_and_shutdown(
    base: &str,
    backend: &mut Backend,
    steps: &mut Steps,
) -> anyhow::Result<()> {
    let t = Instant::now();
    let api = crate::release::health::probe(
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
    Ok(())
}

fn stop_all(stack: &Stack, say: bool) -> anyhow::Result<()> {
    let stopped_backend = backend::stop_leftover(stack)?;
    let stopped_database = stack.cluster.stop()?;
    if say {
        match (stopped_backend, stopped_database) {
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
