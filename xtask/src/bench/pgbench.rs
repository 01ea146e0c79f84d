//! The ceiling for `GET /api/jobs`: pgbench running the backend's own statement the way sqlx
//! does (extended protocol, prepared once per connection, TLS), at the backend's client
//! count and at pgbench's own best concurrency.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use xshell::cmd;

use super::cpu::{Meter, PerRequest};
use super::scenario::Context;

/// The backend's query behind `GET /api/jobs`: its one owner is the `query_as!` in
/// `backend/src/routes/jobs.rs`, and a test finds this very text in `.sqlx/` (the query data
/// `cargo xtask prepare` writes from the backend's macros), so a changed query fails the test
/// until this copy follows. (xtask does not link the backend: its HTTP and logging
/// dependencies would add a third to xtask's cold build, and its commit-stamping build
/// script would rebuild xtask after every commit.)
pub(crate) const LIST_JOBS_SQL: &str = r#"SELECT o.id, o.title, o.description, o.location, o.remote, o.salary_min, o.salary_max,
                  o.published_at AS "published_at!", c.name AS company, c.slug AS company_slug
             FROM job_offers o JOIN companies c ON c.id = o.company_id
            WHERE o.status = 'published'
              AND ($1::timestamptz IS NULL OR (o.published_at, o.id) < ($1, $2))
            ORDER BY o.published_at DESC, o.id DESC
            LIMIT $3"#;
/// Rows of `GET /api/jobs?limit=20`, first page: one more tells if there is a next.
const FIRST_PAGE_ROWS: u32 = 21;
/// Client counts tried for pgbench's best (the backend's pool holds 10 connections).
pub(crate) const CONCURRENCY: [usize; 4] = [2, 4, 10, 32];
/// pgbench's worker threads: one per core of the machines this runs on.
const THREADS: usize = 2;

/// [`LIST_JOBS_SQL`] as a pgbench script for the first page. `-M prepared` turns the
/// `:variables` into bound parameters, as sqlx sends them; the cursor `$1` is NULL on the
/// first page and pgbench cannot bind a NULL (its variables are never NULL), so that one is
/// written as a literal.
pub(crate) fn script() -> String {
    let sql = LIST_JOBS_SQL
        .replace("$1", "NULL")
        .replace("$2", ":after_id")
        .replace("$3", ":page_rows");
    format!("\\set after_id 0\n\\set page_rows {FIRST_PAGE_ROWS}\n{sql};\n")
}

/// One pgbench run: its settings, its throughput, where the CPU went.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub(crate) clients: usize,
    pub(crate) secs: u64,
    pub(crate) tps: f64,
    /// PostgreSQL's and pgbench's CPU per transaction (`generator_us` is pgbench's).
    pub(crate) cpu: Option<PerRequest>,
}

impl Run {
    /// The settings, as a reader would type them.
    pub(crate) fn label(&self) -> String {
        format!(
            "pgbench -M prepared -c {} -j {THREADS} -T {}, sslmode=require",
            self.clients, self.secs
        )
    }
}

impl Context<'_> {
    /// pgbench's run at `clients`, or `None` when it processed no transaction (its clients
    /// connect within the run's duration, and 200 TLS+SCRAM connections can take seconds).
    fn pgbench(
        &self,
        bin: &Path,
        script: &Path,
        clients: usize,
        duration: Duration,
    ) -> anyhow::Result<Option<Run>> {
        let (c, j, t, p) = (
            clients.to_string(),
            THREADS.to_string(),
            duration.as_secs().to_string(),
            self.db.port.to_string(),
        );
        let (user, database) = (&self.db.user, &self.db.name);
        let meter = Meter::start(None, self.postmaster);
        let out = cmd!(
            self.sh,
            "{bin} -n -M prepared -c {c} -j {j} -T {t} -f {script} -h localhost -p {p} -U {user} {database}"
        )
        .env("PGPASSWORD", &self.db.password)
        .env("PGSSLMODE", "require")
        .quiet()
        .ignore_stderr()
        .read()?;
        let Some((tps, transactions)) = parse(&out).context("cannot read pgbench's output")? else {
            return Ok(None);
        };
        Ok(Some(Run {
            clients,
            secs: duration.as_secs(),
            tps,
            cpu: meter.finish(transactions),
        }))
    }

    /// The runs at each of [`CONCURRENCY`], then at `load_clients` (the HTTP load's count)
    /// unless it is one of them; those that ran no transaction are left out.
    pub(crate) fn pgbench_sweep(
        &self,
        bin: &Path,
        load_clients: usize,
        duration: Duration,
    ) -> anyhow::Result<Vec<Run>> {
        let script = self.dir.join("jobs.sql");
        std::fs::write(&script, self::script())?;
        let extra = (!CONCURRENCY.contains(&load_clients)).then_some(load_clients);
        let mut runs = Vec::new();
        for clients in CONCURRENCY.into_iter().chain(extra) {
            runs.extend(self.pgbench(bin, &script, clients, duration)?);
        }
        Ok(runs)
    }
}

/// `Some((tps, transactions))`, or `Some(None)` when pgbench processed no transaction;
/// `None` when the output says neither.
fn parse(out: &str) -> Option<Option<(f64, u64)>> {
    let value = |prefix: &str| {
        out.lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .and_then(|r| r.split_whitespace().next())
    };
    let transactions: u64 = value("number of transactions actually processed:")?
        .split('/')
        .next()?
        .parse()
        .ok()?;
    if transactions == 0 {
        return Some(None);
    }
    let tps = value("tps = ")?.parse().ok()?;
    Some(Some((tps, transactions)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgbench_output_is_read() {
        let ran = "number of transactions actually processed: 7327\nlatency average = 0.540 ms\ninitial connection time = 22.452 ms\ntps = 3704.111883 (without initial connection time)\n";
        assert_eq!(parse(ran), Some(Some((3704.111883, 7327))));
        let connected_only = "number of clients: 200\nnumber of transactions actually processed: 0\nnumber of failed transactions: 0 (NaN%)\n";
        assert_eq!(parse(connected_only), Some(None));
        assert_eq!(parse("garbage"), None);
    }

    #[test]
    fn the_pgbench_anchor_runs_the_backends_query() {
        use sha2::{Digest, Sha256};
        // sqlx names each query's data after the SHA-256 of its text.
        let hash: String = Sha256::digest(LIST_JOBS_SQL.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let file = crate::util::config_source::project_root()
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
        // Every parameter is bound or written out; the statement is the backend's otherwise.
        let script = script();
        assert!(!script.contains('$'), "{script}");
        assert!(script.contains("< (NULL, :after_id)"), "{script}");
        assert!(script.trim_end().ends_with("LIMIT :page_rows;"), "{script}");
        assert!(
            script.starts_with("\\set after_id 0\n\\set page_rows 21\n"),
            "{script}"
        );
    }
}
