//! `GET /api/jobs?limit=20` through PgBouncer in transaction mode against the same backend
//! connected directly: same load, same run, same cluster. Behind a transaction pooler the
//! backend pins each statement in a transaction that ends with `DEALLOCATE ALL`
//! (crates/db/src/pool/pinned.rs): four round trips where a direct connection with cached
//! statements needs one, plus PgBouncer's own hop. This measures what that costs: throughput,
//! and CPU per request of the backend, PostgreSQL and PgBouncer.

use std::time::Duration;

use intowork_prereqs::PGBOUNCER;

use super::bouncer::{Bouncer, SERVER_CONNECTIONS};
use super::cpu::process_seconds;
use super::floor::load_text;
use super::report::{Row, TargetVerdict};
use super::rows::skip;
use super::scenario::{Context, Running};
use super::throughput::Measured;

const LABEL: &str = "`GET /api/jobs?limit=20` through PgBouncer (transaction mode)";
const PATH: &str = "/api/jobs?limit=20";

/// Both runs, and PgBouncer's CPU per request in the pooled one.
struct Compared {
    direct: Measured,
    pooled: Measured,
    bouncer_us: Option<f64>,
    /// `pgbouncer --version`'s first line.
    version: String,
}

impl Context<'_> {
    /// The pooler rows; skipped when PgBouncer is not installed.
    pub(crate) fn pooler(&self, clients: usize, duration: Duration) -> anyhow::Result<Vec<Row>> {
        let Some(program) = intowork_pglocal::find_program(&PGBOUNCER, "pgbouncer") else {
            let why = "pgbouncer is not installed (`cargo xtask dev setup` installs it)";
            return Ok(vec![skip(LABEL, why)]);
        };
        self.prepare_app_db()?;
        let version = xshell::cmd!(self.sh, "{program} --version")
            .quiet()
            .read()
            .unwrap_or_default();
        let version = version.lines().next().unwrap_or("PgBouncer").to_owned();
        let dir = self.dir.join("pgbouncer");
        let bouncer = Bouncer::start(self.pg, &program, &dir, &self.db)?;
        let compared = self.through_and_direct(&bouncer, clients, duration);
        // Stopped whatever happened.
        let stopped = bouncer.stop();
        let compared = Compared {
            version,
            ..compared?
        };
        stopped?;
        Ok(rows(&compared, clients))
    }

    fn through_and_direct(
        &self,
        bouncer: &Bouncer,
        clients: usize,
        duration: Duration,
    ) -> anyhow::Result<Compared> {
        let url = self
            .db
            .url_with_host_port("localhost", bouncer.port, "sslmode=require");
        let direct = self.start_backend()?;
        let vars = [
            ("DATABASE_POOL_MODE", "transaction"),
            ("DATABASE_DIRECT_URL", self.url.as_str()),
        ];
        let pooled = self.start_backend_with(&url, &vars)?;
        let measured = self.compare(&direct, &pooled, bouncer, clients, duration);
        let stopped = (self.stop_backend(direct), self.stop_backend(pooled));
        let compared = measured?;
        stopped.0?;
        stopped.1?;
        Ok(compared)
    }

    fn compare(
        &self,
        direct: &Running,
        pooled: &Running,
        bouncer: &Bouncer,
        clients: usize,
        duration: Duration,
    ) -> anyhow::Result<Compared> {
        // Unmeasured: both pools open their connections.
        for server in [direct, pooled] {
            self.generate(server.port, PATH, None, clients, Duration::from_secs(1))?;
        }
        let direct = self.measure(direct, PATH, None, clients, duration)?;
        let before = bouncer.pid().and_then(process_seconds);
        let pooled = self.measure(pooled, PATH, None, clients, duration)?;
        let after = bouncer.pid().and_then(process_seconds);
        let requests = pooled.load.requests.max(1) as f64;
        let bouncer_us = before.zip(after).map(|(a, b)| (b - a) * 1e6 / requests);
        Ok(Compared {
            direct,
            pooled,
            bouncer_us,
            version: String::new(),
        })
    }
}

fn settings(clients: usize, m: &Compared) -> String {
    format!(
        "{clients} keep-alive clients by {}, errors: pooled {}, direct {}; {} (Debian's), \
         pool_mode=transaction, default_pool_size={SERVER_CONNECTIONS}, TLS require to clients and \
         to the server, SCRAM; the backend's pool {SERVER_CONNECTIONS} connections either way; \
         anchor: the same backend connected directly (named statements, cached)",
        m.pooled.load.tool, m.pooled.load.errors, m.direct.load.errors, m.version
    )
}

fn rows(m: &Compared, clients: usize) -> Vec<Row> {
    let note = settings(clients, m);
    let (pooled, direct) = (&m.pooled.load, &m.direct.load);
    let mut rows = vec![Row {
        name: format!("{LABEL} throughput"),
        ours: load_text(pooled),
        anchor: format!("{} (direct)", load_text(direct)),
        ratio: Some(pooled.rps / direct.rps),
        target: "reported".into(),
        verdict: TargetVerdict::Info,
        note: note.clone(),
    }];
    let (Some(p), Some(d)) = (&m.pooled.cpu, &m.direct.cpu) else {
        rows.push(skip(
            "CPU per request through PgBouncer",
            "no /proc/<pid>/stat to read (Linux only)",
        ));
        return rows;
    };
    let cpu = |name: &str, ours: f64, anchor: f64| Row {
        name: name.to_owned(),
        ours: format!("{ours:.1} µs"),
        anchor: format!("{anchor:.1} µs (direct)"),
        ratio: Some(ours / anchor),
        target: "reported".into(),
        verdict: TargetVerdict::Info,
        note: "per request, same load".into(),
    };
    rows.push(cpu(
        "PostgreSQL CPU per `GET /api/jobs` through PgBouncer",
        p.postgres_us,
        d.postgres_us,
    ));
    rows.push(cpu(
        "backend CPU per `GET /api/jobs` through PgBouncer",
        p.backend_us,
        d.backend_us,
    ));
    rows.push(Row {
        name: "PgBouncer CPU per `GET /api/jobs`".into(),
        ours: m
            .bouncer_us
            .map_or_else(|| "unknown".into(), |us| format!("{us:.1} µs")),
        anchor: "none (direct)".into(),
        ratio: None,
        target: "reported".into(),
        verdict: TargetVerdict::Info,
        note: "PgBouncer's own process, over the pooled run".into(),
    });
    rows
}
