//! The measurements against the local TLS-only server, each next to its anchor.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use intowork_pglocal::{Database, Pg, Superuser, free_port};
use xshell::{Cmd, Shell, cmd};

use super::load::{self, LoadResult};
use super::measure::{self, median, ms, rss_mib};
use super::report::{Row, Verdict};
use super::rows::{ratio_row, report_load, skip, target_row};
use super::{Binaries, wrk};
use crate::child::terminate;

const SECRET_LEN: usize = 40;
/// The backend's query behind `GET /api/jobs`: its one owner is the `query_as!` in
/// `backend/src/routes/jobs.rs`, and a test finds this very text in `.sqlx/` (the query data
/// `cargo xtask prepare` writes from the backend's macros), so a changed query fails the test
/// until this copy follows. (xtask does not link the backend: its HTTP and logging
/// dependencies would add a third to xtask's cold build, and its commit-stamping build
/// script would rebuild xtask after every commit.)
const LIST_JOBS_SQL: &str = r#"SELECT o.id, o.title, o.description, o.location, o.remote, o.salary_min, o.salary_max,
                  o.published_at AS "published_at!", c.name AS company, c.slug AS company_slug
             FROM job_offers o JOIN companies c ON c.id = o.company_id
            WHERE o.status = 'published'
              AND ($1::timestamptz IS NULL OR (o.published_at, o.id) < ($1, $2))
            ORDER BY o.published_at DESC, o.id DESC
            LIMIT $3"#;
/// Rows of `GET /api/jobs?limit=20`, first page: one more tells if there is a next.
const FIRST_PAGE_ROWS: &str = "21";

/// [`LIST_JOBS_SQL`] for the first page, as a pgbench script (pgbench cannot bind `$n`).
fn pgbench_script() -> String {
    let sql = LIST_JOBS_SQL
        .replace("$1", "NULL")
        .replace("$2", "0")
        .replace("$3", FIRST_PAGE_ROWS);
    format!("{sql};\n")
}

/// What every measurement needs, borrowed for the run: one shell, the cluster's superuser,
/// the application's database.
pub(crate) struct Context<'a> {
    pub(super) sh: &'a Shell,
    pub(super) superuser: Superuser,
    pub(super) db: Database,
    pub(super) url: String,
    xtask: &'a Path,
    backend: &'a Path,
    pub(super) dir: &'a Path,
    /// A development NEXTAUTH_SECRET for the backend under test.
    pub(super) secret: String,
    pgbench: Option<PathBuf>,
}

impl<'a> Context<'a> {
    pub(crate) fn new(
        sh: &'a Shell,
        superuser: Superuser,
        db: Database,
        bins: &'a Binaries,
        dir: &'a Path,
        pg: &Pg,
    ) -> Context<'a> {
        Context {
            sh,
            superuser,
            url: db.url("sslmode=require"),
            db,
            xtask: &bins.xtask,
            backend: &bins.backend,
            dir,
            secret: format!(
                "bench-{}",
                intowork_pglocal::random_alphanumeric(SECRET_LEN)
            ),
            pgbench: pg.binaries.program("pgbench"),
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

    pub(super) fn spawn_backend(&self, port: u16) -> anyhow::Result<std::process::Child> {
        // A long-running child measured from outside: xshell runs commands to completion only.
        #[allow(clippy::disallowed_methods)]
        let child = std::process::Command::new(self.backend)
            .arg("serve")
            .env_clear()
            .env("DATABASE_URL", &self.url)
            .env("NEXTAUTH_SECRET", &self.secret)
            .env("PORT", port.to_string())
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("failed to start `{}`", self.backend.display()))?;
        Ok(child)
    }

    pub(super) fn stop_backend(&self, mut child: std::process::Child) -> anyhow::Result<()> {
        terminate(&mut child)?;
        Ok(())
    }

    /// The application database migrated and holding published offers.
    fn prepare_app_db(&self) -> anyhow::Result<()> {
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
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM job_offers) THEN
               INSERT INTO users (email, full_name, role) VALUES ('bench@intowork.example', 'Bench', 'employer');
               INSERT INTO companies (owner_id, name, slug) SELECT id, 'Bench Co', 'bench-co' FROM users;
               INSERT INTO job_offers (company_id, title, description, status, published_at)
                 SELECT c.id, 'Offer ' || g, repeat('A real-looking description. ', 10), 'published', now() - g * interval '1 minute'
                 FROM companies c, generate_series(1, 500) g;
             END IF; END $$;\n",
            None,
        )?;
        Ok(())
    }

    /// 3. Process start → first 200 from /health/ready, migrations already applied.
    pub(crate) fn startup(&self) -> anyhow::Result<Row> {
        self.prepare_app_db()?;
        let mut times = Vec::new();
        for _ in 0..7 {
            let port = free_port()?;
            let t = Instant::now();
            let child = self.spawn_backend(port)?;
            let ready = loop {
                if http_status(port, "/health/ready") == Some(200) {
                    break Some(t.elapsed());
                }
                if t.elapsed() > Duration::from_secs(30) {
                    break None;
                }
                std::thread::sleep(Duration::from_millis(2));
            };
            self.stop_backend(child)?;
            times.push(ready.context("the backend never became ready")?);
        }
        Ok(target_row(
            "backend process start → first 200 from /health/ready",
            ms(median(&mut times)),
            "ms",
            150.0,
            "< 150 ms",
        ))
    }

    /// 4 and 5. RSS idle and under load; /health and /api/jobs throughput vs pgbench.
    pub(crate) fn load(&self, clients: usize, duration: Duration) -> anyhow::Result<Vec<Row>> {
        let port = free_port()?;
        let child = self.spawn_backend(port)?;
        let pid = child.id();
        let deadline = Instant::now() + Duration::from_secs(30);
        while http_status(port, "/health/ready") != Some(200) {
            anyhow::ensure!(Instant::now() < deadline, "the backend never became ready");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_secs(1));
        let idle = rss_mib(pid).context("cannot read the backend's memory")?;

        let peak = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (peak, stop) = (peak.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(m) = rss_mib(pid) {
                        peak.fetch_max((m * 1024.0) as u64, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
        };
        let health = self.generate(port, "/health", None, clients, duration)?;
        let jobs = self.generate(port, "/api/jobs?limit=20", None, clients, duration)?;
        stop.store(true, Ordering::Relaxed);
        let _ = sampler.join();
        self.stop_backend(child)?;
        let loaded = peak.load(Ordering::Relaxed) as f64 / 1024.0;

        let mut rows = vec![
            target_row("backend RSS, idle", idle, "MiB", 20.0, "≤ 20 MiB"),
            target_row(
                &format!("backend RSS, peak under {clients} keep-alive clients"),
                loaded,
                "MiB",
                60.0,
                "≤ 60 MiB",
            ),
            report_load(
                "`GET /health` throughput",
                &health,
                "no database: the HTTP stack's ceiling",
            ),
        ];
        let name =
            format!("`GET /api/jobs` throughput vs pgbench running its query ({clients} clients)");
        rows.push(match &self.pgbench {
            Some(pgbench) => match self.pgbench(pgbench, clients, duration)? {
                Some(tps) => {
                let ratio = jobs.rps / tps;
                Row {
                    name,
                    ours: format!("{:.0} req/s (p50 {:.1} ms, p99 {:.1} ms)", jobs.rps, jobs.p50_ms, jobs.p99_ms),
                    anchor: format!("{tps:.0} tps"),
                    ratio: Some(ratio),
                    target: "≥ 0.70×".into(),
                    verdict: Verdict::within(ratio >= 0.70),
                    note: format!("load by {}; {} errors; the backend uses a pool of 10 connections, pgbench one per client", jobs.tool, jobs.errors),
                }
                }
                None => skip(&name, &format!("pgbench ran no transaction in {} s: connecting its {clients} clients (TLS, SCRAM) took the whole run; use a longer --load-secs", duration.as_secs())),
            },
            None => skip(&name, "pgbench not found: apt-get install -y postgresql-contrib"),
        });
        Ok(rows)
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
        if crate::which::find("wrk").is_some() {
            let url = format!("http://127.0.0.1:{port}{path}");
            return wrk::run(self.sh, self.dir, &url, header, clients, duration);
        }
        load::run(port, path, header, clients, duration)
    }

    /// pgbench's transactions per second, or `None` when it ran none (its clients connect
    /// within the run's duration, and 200 TLS+SCRAM connections can take seconds).
    fn pgbench(
        &self,
        bin: &Path,
        clients: usize,
        duration: Duration,
    ) -> anyhow::Result<Option<f64>> {
        let script = self.dir.join("jobs.sql");
        std::fs::write(&script, pgbench_script())?;
        let (c, t, p) = (
            clients.to_string(),
            duration.as_secs().to_string(),
            self.db.port.to_string(),
        );
        let (user, database) = (&self.db.user, &self.db.name);
        let out = cmd!(
            self.sh,
            "{bin} -n -c {c} -j 2 -T {t} -f {script} -h localhost -p {p} -U {user} {database}"
        )
        .env("PGPASSWORD", &self.db.password)
        .env("PGSSLMODE", "require")
        .quiet()
        .ignore_stderr()
        .read()?;
        parse_pgbench(&out).context("cannot read pgbench's output")
    }
}

/// `Some(tps)`, or `Some(None)` when pgbench processed no transaction; `None` when the output
/// says neither.
fn parse_pgbench(out: &str) -> Option<Option<f64>> {
    let value = |prefix: &str| {
        out.lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .and_then(|r| r.split_whitespace().next())
    };
    if value("number of transactions actually processed:") == Some("0") {
        return Some(None);
    }
    value("tps = ").and_then(|v| v.parse().ok()).map(Some)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgbench_output_is_read() {
        let ran = "number of transactions actually processed: 7327\nlatency average = 0.540 ms\ninitial connection time = 22.452 ms\ntps = 3704.111883 (without initial connection time)\n";
        assert_eq!(parse_pgbench(ran), Some(Some(3704.111883)));
        let connected_only = "number of clients: 200\nnumber of transactions actually processed: 0\nnumber of failed transactions: 0 (NaN%)\n";
        assert_eq!(parse_pgbench(connected_only), Some(None));
        assert_eq!(parse_pgbench("garbage"), None);
    }

    #[test]
    fn the_pgbench_anchor_runs_the_backends_query() {
        use sha2::{Digest, Sha256};
        // sqlx names each query's data after the SHA-256 of its text.
        let hash: String = Sha256::digest(LIST_JOBS_SQL.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let file = crate::config_source::project_root()
            .join(".sqlx")
            .join(format!("query-{hash}.json"));
        let data = std::fs::read_to_string(&file).unwrap_or_else(|_| {
            panic!(
                "no `{}`: the backend no longer runs LIST_JOBS_SQL; copy the query of \
                 backend/src/routes/jobs.rs's `list` into it",
                file.display()
            )
        });
        let data: serde_json::Value = serde_json::from_str(&data).unwrap();
        assert_eq!(data["query"], LIST_JOBS_SQL);
        let script = pgbench_script();
        assert!(!script.contains('$'), "{script}");
        assert!(script.trim_end().ends_with("LIMIT 21;"), "{script}");
    }
}
