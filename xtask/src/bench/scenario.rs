//! The measurements against the local TLS-only server, each next to its anchor.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use intowork_pglocal::{Database, Pg, Superuser, free_port};
use xshell::{Cmd, Shell, cmd};

use super::load::{self, LoadResult};
use super::measure::{self, median, ms};
use super::report::Row;
use super::rows::{ratio_row, target_row};
use super::{BenchBinaries, wrk};
use crate::util::child::terminate;

/// Published offers in the bench's database (`GET /api/jobs` pages through them).
const OFFERS: u32 = 1000;
/// The floor's PostgreSQL connections, shared by all its requests (pipelined).
pub(super) const FLOOR_CONNECTIONS: u32 = 4;
/// What every measurement needs, borrowed for the run: one shell, the cluster's superuser,
/// the application's database.
pub(crate) struct Context<'a> {
    pub(super) sh: &'a Shell,
    pub(super) superuser: Superuser,
    pub(super) db: Database,
    pub(super) url: String,
    xtask: &'a Path,
    backend: &'a Path,
    floor: &'a Path,
    pub(super) dir: &'a Path,
    /// A development NEXTAUTH_SECRET for the backend under test.
    pub(super) secret: String,
    pub(super) pgbench: Option<PathBuf>,
    /// The server programs and account (PgBouncer runs as it).
    pub(super) pg: &'a Pg,
    /// The PostgreSQL server's process id (its sessions are its children), when known.
    pub(super) postmaster: Option<u32>,
}

/// A backend serving on `port`, ready; stopped by [`Context::stop_backend`], killed if
/// dropped still running (a panic, an error before the stop).
#[derive(Debug)]
pub(crate) struct Running {
    pub(crate) child: Child,
    pub(crate) port: u16,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl<'a> Context<'a> {
    pub(crate) fn new(
        sh: &'a Shell,
        superuser: Superuser,
        db: Database,
        bins: &'a BenchBinaries,
        dir: &'a Path,
        pg: &'a Pg,
        postmaster: Option<u32>,
    ) -> Context<'a> {
        Context {
            sh,
            superuser,
            url: db.url("sslmode=require"),
            db,
            xtask: &bins.xtask,
            backend: &bins.backend,
            floor: &bins.floor,
            dir,
            secret: format!("bench-{}", crate::dev::dev_secret()),
            pgbench: pg.binaries.program("pgbench"),
            pg,
            postmaster,
        }
    }

    /// The release xtask with nothing but PATH and the stack's settings.
    pub(super) fn xtask(&self, url: &str) -> Cmd<'a> {
        let bin = self.xtask;
        cmd!(self.sh, "{bin}")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DATABASE_URL", url)
            .env("NEXTAUTH_SECRET", &self.secret)
    }

    /// The application's URL, to another database of the same owner.
    pub(super) fn url_for(&self, database: &str) -> String {
        Database {
            name: database.to_owned(),
            ..self.db.clone()
        }
        .url("sslmode=require")
    }

    /// 1. `verify` (DNS, TCP, TLS probe, auth, version, pg_stat_ssl, capacity) vs libpq's psql.
    pub(crate) fn connect_vs_psql(&self) -> anyhow::Result<Row> {
        let ours = measure::median_of(15, || {
            self.xtask(&self.url).args(["verify", "--no-env-file"])
        })?;
        let conninfo = format!(
            "host=localhost port={} user={} dbname={} sslmode=require",
            self.db.port, self.db.user, self.db.name
        );
        let query = "select 1";
        let anchor = measure::median_of(15, || {
            cmd!(self.sh, "psql -X -q -d {conninfo} -c {query}")
                .env("PGPASSWORD", &self.db.password)
        })?;
        Ok(ratio_row(
            "connect + prove TLS, process start included (`xtask verify` vs `psql sslmode=require -c 'select 1'`)",
            ours,
            anchor,
            1.5,
            "≤ 1.5×",
            "verify also resolves, probes the certificate, reads pg_stat_ssl and max_connections",
        ))
    }

    /// The release backend as Railway runs it: JSON logs at the default level (no
    /// `RUST_LOG`), on stdout — here thrown away.
    pub(super) fn spawn_backend(&self, port: u16) -> anyhow::Result<Child> {
        self.spawn_backend_with(port, &self.url, &[])
    }

    /// [`Context::spawn_backend`] to `url`, with `extra` variables.
    fn spawn_backend_with(
        &self,
        port: u16,
        url: &str,
        extra: &[(&str, &str)],
    ) -> anyhow::Result<Child> {
        // A long-running child measured from outside: xshell runs commands to completion only.
        #[allow(clippy::disallowed_methods)]
        let child = std::process::Command::new(self.backend)
            .arg("serve")
            .env_clear()
            .env("DATABASE_URL", url)
            .envs(extra.iter().copied())
            .env("NEXTAUTH_SECRET", &self.secret)
            .env("PORT", port.to_string())
            .env("LOG_FORMAT", "json")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("failed to start `{}`", self.backend.display()))?;
        Ok(child)
    }

    /// The floor (bench/floor): the same routes on hyper + tokio-postgres, same database.
    fn spawn_floor(&self, port: u16) -> anyhow::Result<Child> {
        // A long-running child measured from outside, as the backend.
        #[allow(clippy::disallowed_methods)]
        let child = std::process::Command::new(self.floor)
            .env_clear()
            .env("DATABASE_URL", &self.url)
            .env("PORT", port.to_string())
            .env("FLOOR_CONNECTIONS", FLOOR_CONNECTIONS.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("failed to start `{}`", self.floor.display()))?;
        Ok(child)
    }

    /// A backend on a free port, answering 200 on `/health/ready`.
    pub(super) fn start_backend(&self) -> anyhow::Result<Running> {
        Ok(self
            .launch(Duration::from_millis(20), |port| self.spawn_backend(port))?
            .0)
    }

    /// [`Context::start_backend`] to `url`, with `extra` variables.
    pub(super) fn start_backend_with(
        &self,
        url: &str,
        extra: &[(&str, &str)],
    ) -> anyhow::Result<Running> {
        let spawn = |port| self.spawn_backend_with(port, url, extra);
        Ok(self.launch(Duration::from_millis(20), spawn)?.0)
    }

    /// The floor on a free port, connected and answering.
    pub(super) fn start_floor(&self) -> anyhow::Result<Running> {
        Ok(self
            .launch(Duration::from_millis(20), |port| self.spawn_floor(port))?
            .0)
    }

    /// A server from `spawn` on a free port, asked for `/health/ready` every `poll` until it
    /// answers 200 (30 s at most); with the time from its start to that answer.
    fn launch(
        &self,
        poll: Duration,
        spawn: impl Fn(u16) -> anyhow::Result<Child>,
    ) -> anyhow::Result<(Running, Duration)> {
        let port = free_port()?;
        let start = Instant::now();
        // Killed on the way out if it never becomes ready.
        let backend = Running {
            child: spawn(port)?,
            port,
        };
        while http_status(port, "/health/ready") != Some(200) {
            anyhow::ensure!(
                start.elapsed() <= Duration::from_secs(30),
                "the server under test never became ready"
            );
            std::thread::sleep(poll);
        }
        Ok((backend, start.elapsed()))
    }

    pub(super) fn stop_backend(&self, mut backend: Running) -> anyhow::Result<()> {
        terminate(&mut backend.child)?;
        Ok(())
    }

    /// The id of a published offer, for `GET /api/jobs/{id}`.
    pub(super) fn an_offer_id(&self) -> anyhow::Result<i64> {
        let id = self.superuser.query(
            &self.db.name,
            "SELECT max(id) FROM job_offers WHERE status = 'published'",
        )?;
        id.trim()
            .parse()
            .with_context(|| format!("no published offer in the bench database: `{id}`"))
    }

    /// The application database migrated and holding [`OFFERS`] published offers, with the
    /// planner's statistics up to date (a fresh table without them makes every figure
    /// meaningless).
    pub(super) fn prepare_app_db(&self) -> anyhow::Result<()> {
        let out = self
            .xtask(&self.url)
            .args(["migrate", "run", "--no-env-file"])
            .quiet()
            .ignore_status()
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "migrate run failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.superuser.execute(
            &self.db.name,
            &format!(
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM companies WHERE slug = 'bench-co') THEN
                   INSERT INTO users (email, full_name, role) VALUES ('bench@intowork.example', 'Bench', 'employer') ON CONFLICT DO NOTHING;
                   INSERT INTO companies (owner_id, name, slug) SELECT id, 'Bench Co', 'bench-co' FROM users WHERE email = 'bench@intowork.example';
                 END IF; END $$;
                 INSERT INTO job_offers (company_id, title, description, status, published_at)
                   SELECT c.id, 'Offer ' || g, repeat('A real-looking description. ', 10), 'published', now() - g * interval '1 minute'
                   FROM companies c, generate_series((SELECT count(*) FROM job_offers) + 1, {OFFERS}) g
                   WHERE c.slug = 'bench-co';
                 ANALYZE;\n"
            ),
            None,
        )?;
        Ok(())
    }

    /// 3. Process start → first 200 from /health/ready, migrations already applied.
    pub(crate) fn startup(&self) -> anyhow::Result<Row> {
        self.prepare_app_db()?;
        let mut times = Vec::new();
        for _ in 0..7 {
            let (backend, ready) =
                self.launch(Duration::from_millis(2), |port| self.spawn_backend(port))?;
            self.stop_backend(backend)?;
            times.push(ready);
        }
        Ok(target_row(
            "backend process start → first 200 from /health/ready",
            ms(median(&mut times)),
            "ms",
            150.0,
            "< 150 ms",
        ))
    }

    /// `header` (`Name: value`, e.g. a session) is sent with every request.
    pub(super) fn generate(
        &self,
        port: u16,
        path: &str,
        header: Option<&str>,
        clients: usize,
        duration: Duration,
    ) -> anyhow::Result<LoadResult> {
        if crate::util::which::find("wrk").is_some() {
            let url = format!("http://127.0.0.1:{port}{path}");
            return wrk::run(self.sh, self.dir, &url, header, clients, duration);
        }
        load::run(port, path, header, clients, duration)
    }
}

/// One request with a short timeout; the status, or `None` when nothing answered.
pub(super) fn http_status(port: u16, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 32];
    let n = s.read(&mut head).ok()?;
    std::str::from_utf8(&head[..n])
        .ok()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
