//! The backend under load: its memory, and per route its throughput and the CPU each request
//! costs it and PostgreSQL, next to the floor (bench/floor) under the same load in the same
//! run; `GET /api/jobs` also next to pgbench running the same statement — the database's
//! ceiling on this machine.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context as _;

use super::cpu::{Meter, PerRequest};
use super::floor;
use super::load::LoadResult;
use super::measure::rss_mib;
use super::pgbench::{self, Run};
use super::report::Row;
use super::rows::{anchor_row, cpu_row, report_load, skip, target_row};
use super::scenario::{Context, Running};

/// One route under load: how fast, and at what CPU cost.
#[derive(Debug)]
pub(crate) struct Measured {
    pub(crate) load: LoadResult,
    pub(crate) cpu: Option<PerRequest>,
}

/// A route of the bench, measured on the backend and on the floor.
struct Route {
    label: &'static str,
    path: String,
    note: &'static str,
    /// It queries PostgreSQL (its CPU per request is compared too).
    database: bool,
}

const JOBS_LABEL: &str = "`GET /api/jobs?limit=20`";

/// The routes measured, `GET /api/jobs/{id}` on `offer`.
fn routes(offer: i64) -> [Route; 3] {
    [
        Route {
            label: "`GET /health`",
            path: "/health".into(),
            note: "no database: the HTTP stack's cost",
            database: false,
        },
        Route {
            label: JOBS_LABEL,
            path: "/api/jobs?limit=20".into(),
            note: "one query, 20 offers with their company, JSON",
            database: true,
        },
        Route {
            label: "`GET /api/jobs/{id}`",
            path: format!("/api/jobs/{offer}"),
            note: "one query by primary key",
            database: true,
        },
    ]
}

impl Context<'_> {
    /// `path` under `clients` keep-alive clients for `duration`, metered.
    pub(crate) fn measure(
        &self,
        backend: &Running,
        path: &str,
        header: Option<&str>,
        clients: usize,
        duration: Duration,
    ) -> anyhow::Result<Measured> {
        let meter = Meter::start(Some(backend.child.id()), self.postmaster);
        let load = self.generate(backend.port, path, header, clients, duration)?;
        let cpu = meter.finish(load.requests);
        Ok(Measured { load, cpu })
    }

    /// RSS idle and at peak; each route's throughput and CPU; the pgbench anchors.
    pub(crate) fn load(&self, clients: usize, duration: Duration) -> anyhow::Result<Vec<Row>> {
        let routes = routes(self.an_offer_id()?);
        let backend = self.start_backend()?;
        let floor = self.start_floor()?;
        std::thread::sleep(Duration::from_secs(1));
        let idle = rss_mib(backend.child.id()).context("cannot read the backend's memory");
        // Unmeasured: the backend opens its pool's connections as load comes (TLS + SCRAM
        // each), the floor all of its at start; neither pays that inside a measured run.
        let warm_up = Duration::from_secs(1);
        let jobs = routes.iter().find(|r| r.label == JOBS_LABEL);
        let jobs = &jobs.context("the bench measures `GET /api/jobs`")?.path;
        for server in [&backend, &floor] {
            self.generate(server.port, jobs, None, clients, warm_up)?;
        }
        let peak = Peak::watch(backend.child.id());
        // Each route on both, back to back, the order alternated so neither always runs first.
        let measured: anyhow::Result<Vec<(Measured, Measured)>> = routes
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let run = |server: &Running| self.measure(server, &r.path, None, clients, duration);
                Ok(if i % 2 == 0 {
                    let ours = run(&backend)?;
                    (ours, run(&floor)?)
                } else {
                    let anchor = run(&floor)?;
                    (run(&backend)?, anchor)
                })
            })
            .collect();
        let loaded = peak.stop();
        let stopped = (self.stop_backend(backend), self.stop_backend(floor));
        let (idle, measured) = (idle?, measured?);
        stopped.0?;
        stopped.1?;

        let mut rows = vec![
            target_row("backend RSS, idle", idle, "MiB", 20.0, "≤ 20 MiB"),
            target_row(
                &format!("backend RSS, peak under {clients} keep-alive clients"),
                loaded,
                "MiB",
                60.0,
                "≤ 60 MiB",
            ),
        ];
        for (route, (ours, anchor)) in routes.iter().zip(&measured) {
            let m = floor::Pair {
                ours,
                floor: anchor,
            };
            rows.extend(floor::rows(
                route.label,
                route.note,
                route.database,
                &m,
                clients,
            ));
        }
        let jobs = routes
            .iter()
            .zip(&measured)
            .find_map(|(r, (m, _))| (r.label == JOBS_LABEL).then_some(&m.load))
            .context("the bench measures `GET /api/jobs`")?;
        rows.extend(self.anchors(jobs, clients, duration)?);
        Ok(rows)
    }

    /// `GET /api/jobs` against pgbench at the same concurrency and at pgbench's best.
    fn anchors(
        &self,
        jobs: &LoadResult,
        clients: usize,
        duration: Duration,
    ) -> anyhow::Result<Vec<Row>> {
        let same = format!("{JOBS_LABEL} vs pgbench at the same {clients} clients");
        let best = format!("{JOBS_LABEL} vs pgbench at its best concurrency");
        let Some(bin) = &self.pgbench else {
            let why = "pgbench not found: apt-get install -y postgresql-contrib";
            return Ok(vec![skip(&same, why), skip(&best, why)]);
        };
        let runs = self.pgbench_sweep(bin, clients, duration)?;
        let at_clients = runs.iter().find(|r| r.clients == clients);
        let top = runs.iter().max_by(|a, b| a.tps.total_cmp(&b.tps));
        let tried: Vec<String> = runs
            .iter()
            .map(|r| format!("{}: {:.0} tps", r.clients, r.tps))
            .collect();
        let empty = format!(
            "pgbench ran no transaction in {} s: connecting its clients (TLS, SCRAM) took the whole run; use a longer --load-secs",
            duration.as_secs()
        );
        let row = |name: &str, run: Option<&Run>, note: String| match run {
            Some(run) => anchor_row(name, jobs, run, note),
            None => skip(name, &empty),
        };
        Ok(vec![
            row(
                &same,
                at_clients,
                "the backend serves them through its pool of 10 connections; pgbench holds one per client".into(),
            ),
            row(
                &best,
                top,
                format!(
                    "the ceiling: pgbench tried {} clients ({}); both share the machine's cores with their load generator",
                    pgbench::CONCURRENCY.map(|c| c.to_string()).join(", "),
                    tried.join(", ")
                ),
            ),
        ])
    }
}

/// The names of a route's two rows: throughput, then the backend's CPU per request.
pub(crate) fn route_names(label: &str) -> [String; 2] {
    [
        format!("{label} throughput"),
        format!("backend CPU per {label}"),
    ]
}

/// A route's throughput row and its CPU row.
pub(crate) fn route_rows(label: &str, m: &Measured, note: &str) -> [Row; 2] {
    let [throughput, cpu] = route_names(label);
    [
        report_load(&throughput, &m.load, note),
        cpu_row(&cpu, m.cpu.as_ref(), m.load.tool),
    ]
}

/// The backend's peak resident memory, sampled every 50 ms while the load runs.
struct Peak {
    kib: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    sampler: std::thread::JoinHandle<()>,
}

impl Peak {
    fn watch(pid: u32) -> Peak {
        let kib = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (kib, stop) = (kib.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(m) = rss_mib(pid) {
                        kib.fetch_max((m * 1024.0) as u64, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
        };
        Peak { kib, stop, sampler }
    }

    /// The peak, in MiB.
    fn stop(self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.sampler.join();
        self.kib.load(Ordering::Relaxed) as f64 / 1024.0
    }
}
