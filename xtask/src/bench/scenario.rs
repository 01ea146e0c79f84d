//! The measurements against the local TLS-only server, each next to its anchor.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use xshell::{Shell, cmd};

use super::load::{self, LoadResult};
use super::measure::{self, median, ms, rss_mib};
use super::report::Row;
use super::{Binaries, skip};
use crate::dev::cluster::{self, APP_DB, APP_USER, Layout};
use crate::dev::prereq::Postgres;

const MIGRATIONS: usize = 200;
const SQLX_CLI_INSTALL: &str =
    "cargo install sqlx-cli --locked --no-default-features --features rustls,postgres";
const WRK_INSTALL: &str = "apt-get install -y wrk";
/// The query behind `GET /api/jobs?limit=20` (first page; one row more tells if there is a next).
const JOBS_SQL: &str = "SELECT o.id, o.title, o.description, o.location, o.remote, o.salary_min, o.salary_max, o.published_at, c.name AS company, c.slug AS company_slug FROM job_offers o JOIN companies c ON c.id = o.company_id WHERE o.status = 'published' AND (NULL::timestamptz IS NULL) ORDER BY o.published_at DESC, o.id DESC LIMIT 21;";

pub(crate) struct Context {
    pub(super) sh: &'static Shell,
    layout: Layout,
    port: u16,
    bins: PathBuf,
    backend: PathBuf,
    pub(super) dir: PathBuf,
    url: String,
    password: String,
    pub(super) secret: String,
    pgbench: Option<PathBuf>,
}

impl Context {
    pub(crate) fn new(
        _sh: &Shell,
        layout: &Layout,
        port: u16,
        bins: &Binaries,
        dir: &Path,
        pg: &Postgres,
    ) -> anyhow::Result<Context> {
        // The measured commands are built in closures run many times: one shell for the run.
        let sh: &'static Shell = Box::leak(Box::new(Shell::new()?));
        let env = std::fs::read_to_string(layout.env_file())?;
        let get = |k: &str| {
            env.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}=")))
                .map(str::to_owned)
        };
        let url = get("DATABASE_URL").context("no DATABASE_URL in the bench stack's env file")?;
        let password = url
            .split(':')
            .nth(2)
            .and_then(|r| r.split('@').next())
            .unwrap_or_default()
            .to_owned();
        let secret =
            get("NEXTAUTH_SECRET").context("no NEXTAUTH_SECRET in the bench stack's env file")?;
        let pgbench = [pg.bin("pgbench"), PathBuf::from("/usr/bin/pgbench")]
            .into_iter()
            .find(|p| p.is_file());
        Ok(Context {
            sh,
            layout: layout.clone(),
            port,
            bins: bins.xtask.clone(),
            backend: bins.backend.clone(),
            dir: dir.to_path_buf(),
            url,
            password,
            secret,
            pgbench,
        })
    }

    fn xtask(&self, url: &str) -> xshell::Cmd<'static> {
        let bin = &self.bins;
        cmd!(self.sh, "{bin}")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DATABASE_URL", url)
            .env("NEXTAUTH_SECRET", &self.secret)
    }

    fn url_for(&self, db: &str) -> String {
        self.url.replace(&format!("/{APP_DB}?"), &format!("/{db}?"))
    }

    /// 1. `verify` (DNS, TCP, TLS probe, auth, version, pg_stat_ssl, capacity) vs libpq's psql.
    pub(crate) fn connect_vs_psql(&self) -> anyhow::Result<Row> {
        let ours = measure::median_of(15, || {
            self.xtask(&self.url).args(["verify", "--no-env-file"])
        })?;
        let conninfo = format!(
            "host=localhost port={} user={APP_USER} dbname={APP_DB} sslmode=require",
            self.port
        );
        let pw = self.password.clone();
        let query = "select 1";
        let anchor = measure::median_of(15, || {
            cmd!(self.sh, "psql -X -q -d {conninfo} -c {query}").env("PGPASSWORD", &pw)
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

    /// 2. 200 generated migrations on an empty database, vs sqlx-cli; then `status`.
    pub(crate) fn migrations(&self) -> anyhow::Result<Vec<Row>> {
        let source = self.dir.join(format!("migrations-{MIGRATIONS}"));
        if !source
            .join(format!(
                "{:014}_t{MIGRATIONS}.up.sql",
                20_000_000_000_000u64 + MIGRATIONS as u64
            ))
            .is_file()
        {
            let _ = std::fs::remove_dir_all(&source);
            std::fs::create_dir_all(&source)?;
            for i in 1..=MIGRATIONS {
                let v = 20_000_000_000_000u64 + i as u64;
                std::fs::write(
                    source.join(format!("{v:014}_t{i}.up.sql")),
                    format!(
                        "CREATE TABLE bench_t{i} (id bigint PRIMARY KEY, note text NOT NULL DEFAULT '');\nCREATE INDEX bench_t{i}_note ON bench_t{i} (note);\n"
                    ),
                )?;
                std::fs::write(
                    source.join(format!("{v:014}_t{i}.down.sql")),
                    format!("DROP TABLE bench_t{i};\n"),
                )?;
            }
        }
        let src = source.to_str().context("non-UTF-8 path")?.to_owned();
        let fresh = |db: &str| {
            cluster::admin_sql(
                self.sh,
                &self.layout,
                self.port,
                &format!(
                    "SET client_min_messages = warning;\nDROP DATABASE IF EXISTS {db};\nCREATE DATABASE {db} OWNER {APP_USER};\n"
                ),
            )
        };
        let url = self.url_for("bench_migrations");

        let name = format!(
            "apply {MIGRATIONS} migrations to an empty database (`xtask migrate run` vs sqlx-cli `migrate run`)"
        );
        let sqlx_cli = cmd!(self.sh, "sqlx --version")
            .quiet()
            .ignore_stderr()
            .read()
            .is_ok();
        // Interleaved, so drift on a noisy machine (fsync, other load) hits both sides alike.
        let (mut ours, mut anchor) = (Vec::new(), Vec::new());
        for _ in 0..5 {
            fresh("bench_migrations")?;
            let t = Instant::now();
            let out = self
                .xtask(&url)
                .args(["migrate", "run", "--no-env-file", "--source", &src])
                .quiet()
                .ignore_status()
                .output()?;
            ours.push(t.elapsed());
            anyhow::ensure!(
                out.status.success(),
                "migrate run failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            if sqlx_cli {
                fresh("bench_migrations")?;
                let t = Instant::now();
                cmd!(
                    self.sh,
                    "sqlx migrate run --source {src} --database-url {url}"
                )
                .quiet()
                .ignore_stdout()
                .run()?;
                anchor.push(t.elapsed());
            }
        }
        let ours = median(&mut ours);
        let status = measure::median_of(11, || {
            self.xtask(&url)
                .args(["migrate", "status", "--no-env-file", "--source", &src])
        })?;
        let run_row = if sqlx_cli {
            ratio_row(
                &name,
                ours,
                median(&mut anchor),
                1.1,
                "≤ 1.1×",
                "ours also takes the advisory lock with a deadline and sets lock/statement timeouts",
            )
        } else {
            let mut row = skip(
                &name,
                &format!("sqlx-cli is not installed: {SQLX_CLI_INSTALL}"),
            );
            row.ours = format!("{:.0} ms", ms(ours));
            row.target = "≤ 1.1×".into();
            row
        };
        let status_row = target_row(
            &format!("`xtask migrate status` with {MIGRATIONS} migrations applied"),
            ms(status),
            "ms",
            100.0,
            "< 100 ms",
        );
        Ok(vec![run_row, status_row])
    }

    pub(super) fn spawn_backend(&self, port: u16) -> anyhow::Result<std::process::Child> {
        // A long-running child measured from outside: xshell runs commands to completion only.
        #[allow(clippy::disallowed_methods)]
        let child = std::process::Command::new(&self.backend)
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
        crate::dev::terminate(&mut child)?;
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
        cluster::admin_sql_in(
            self.sh,
            &self.layout,
            self.port,
            APP_DB,
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM job_offers) THEN
               INSERT INTO users (email, full_name, role) VALUES ('bench@intowork.example', 'Bench', 'employer');
               INSERT INTO companies (owner_id, name, slug) SELECT id, 'Bench Co', 'bench-co' FROM users;
               INSERT INTO job_offers (company_id, title, description, status, published_at)
                 SELECT c.id, 'Offer ' || g, repeat('A real-looking description. ', 10), 'published', now() - g * interval '1 minute'
                 FROM companies c, generate_series(1, 500) g;
             END IF; END $$;\n",
        )
    }

    /// 3. Process start → first 200 from /health/ready, migrations already applied.
    pub(crate) fn startup(&self) -> anyhow::Result<Row> {
        self.prepare_app_db()?;
        let mut times = Vec::new();
        for _ in 0..7 {
            let port = crate::dev::free_port()?;
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
        let port = crate::dev::free_port()?;
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
            Some(pgbench) => {
                let tps = self.pgbench(pgbench, clients, duration)?;
                let ratio = jobs.rps / tps;
                Row {
                    name,
                    ours: format!("{:.0} req/s (p50 {:.1} ms, p99 {:.1} ms)", jobs.rps, jobs.p50_ms, jobs.p99_ms),
                    anchor: format!("{tps:.0} tps"),
                    ratio: Some(ratio),
                    target: "≥ 0.70×".into(),
                    verdict: if ratio >= 0.70 { "pass" } else { "miss" },
                    note: format!("load by {}; {} errors; the backend uses a pool of 10 connections, pgbench one per client", jobs.tool, jobs.errors),
                }
            }
            None => skip(&name, "pgbench not found: apt-get install -y postgresql-contrib"),
        });
        Ok(rows)
    }

    /// `header` (`Name: value`, e.g. a session) reaches wrk through a Lua script file, never
    /// its command line.
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
            let d = format!("{}s", duration.as_secs());
            let c = clients.to_string();
            let script = self.dir.join("headers.lua");
            let lua = header
                .and_then(|h| h.split_once(": "))
                .map(|(k, v)| format!("wrk.headers[\"{k}\"] = \"{v}\"\n"))
                .unwrap_or_default();
            std::fs::write(&script, lua)?;
            let out = cmd!(self.sh, "wrk -t2 -c{c} -d{d} --latency -s {script} {url}")
                .quiet()
                .read()?;
            let _ = std::fs::remove_file(&script);
            return parse_wrk(&out).context("cannot read wrk's output");
        }
        load::run(port, path, header, clients, duration)
    }

    fn pgbench(&self, bin: &Path, clients: usize, duration: Duration) -> anyhow::Result<f64> {
        let script = self.dir.join("jobs.sql");
        std::fs::write(&script, JOBS_SQL)?;
        let (c, t, p) = (
            clients.to_string(),
            duration.as_secs().to_string(),
            self.port.to_string(),
        );
        let out = cmd!(
            self.sh,
            "{bin} -n -c {c} -j 2 -T {t} -f {script} -h localhost -p {p} -U {APP_USER} {APP_DB}"
        )
        .env("PGPASSWORD", &self.password)
        .env("PGSSLMODE", "require")
        .quiet()
        .ignore_stderr()
        .read()?;
        out.lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("tps = ")
                    .and_then(|r| r.split_whitespace().next())
                    .and_then(|v| v.parse().ok())
            })
            .context("cannot read pgbench's tps")
    }
}

/// `WRK_INSTALL` is named in the note when the built-in generator was used.
pub(super) fn report_load(name: &str, r: &LoadResult, note: &str) -> Row {
    let tool = if r.tool == "built-in" {
        format!("built-in load generator (wrk not installed: {WRK_INSTALL})")
    } else {
        "wrk".to_owned()
    };
    Row {
        name: name.to_owned(),
        ours: format!(
            "{:.0} req/s (p50 {:.1} ms, p99 {:.1} ms)",
            r.rps, r.p50_ms, r.p99_ms
        ),
        anchor: "—".into(),
        ratio: None,
        target: "reported".into(),
        verdict: "info",
        note: format!("{note}; load by {tool}; {} errors", r.errors),
    }
}

fn parse_wrk(out: &str) -> Option<LoadResult> {
    let rps: f64 = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())?;
    let pct = |p: &str| {
        out.lines()
            .find_map(|l| l.trim().strip_prefix(p))
            .map(|v| v.trim())
            .and_then(parse_wrk_time)
    };
    let errors = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    Some(LoadResult {
        errors,
        rps,
        p50_ms: pct("50%").unwrap_or(f64::NAN),
        p99_ms: pct("99%").unwrap_or(f64::NAN),
        tool: "wrk",
    })
}

fn parse_wrk_time(v: &str) -> Option<f64> {
    let (num, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic())?);
    let n: f64 = num.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        _ => return None,
    })
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

fn ratio_row(
    name: &str,
    ours: Duration,
    anchor: Duration,
    limit: f64,
    target: &str,
    note: &str,
) -> Row {
    let ratio = ms(ours) / ms(anchor);
    Row {
        name: name.to_owned(),
        ours: format!("{:.1} ms", ms(ours)),
        anchor: format!("{:.1} ms", ms(anchor)),
        ratio: Some(ratio),
        target: target.to_owned(),
        verdict: if ratio <= limit { "pass" } else { "miss" },
        note: note.to_owned(),
    }
}

fn target_row(name: &str, value: f64, unit: &str, limit: f64, target: &str) -> Row {
    Row {
        name: name.to_owned(),
        ours: format!("{value:.1} {unit}"),
        anchor: "—".into(),
        ratio: None,
        target: target.to_owned(),
        verdict: if value <= limit { "pass" } else { "miss" },
        note: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_output_is_read() {
        let out = "Running 10s test @ http://127.0.0.1:8000/health\n  2 threads and 200 connections\n  Latency Distribution\n     50%    2.10ms\n     75%    3.00ms\n     90%    4.00ms\n     99%  850.00us\n  123456 requests in 10.00s, 20.00MB read\nRequests/sec:  12345.67\nTransfer/sec:      2.00MB\n";
        let r = parse_wrk(out).unwrap();
        assert!((r.rps - 12345.67).abs() < 1e-6);
        assert!((r.p50_ms - 2.1).abs() < 1e-9 && (r.p99_ms - 0.85).abs() < 1e-9);
        assert_eq!(parse_wrk_time("1.5s"), Some(1500.0));
        assert!(parse_wrk("garbage").is_none());
    }

    #[test]
    fn verdicts_follow_the_targets() {
        let ms = Duration::from_millis;
        assert_eq!(
            ratio_row("x", ms(30), ms(20), 1.5, "≤ 1.5×", "").verdict,
            "pass"
        );
        assert_eq!(
            ratio_row("x", ms(31), ms(20), 1.5, "≤ 1.5×", "").verdict,
            "miss"
        );
        assert_eq!(
            target_row("x", 151.0, "ms", 150.0, "< 150 ms").verdict,
            "miss"
        );
    }
}
