//! The backend under load: its memory, its throughput per route, the CPU each request costs
//! it (and the load generator, and PostgreSQL), and `GET /api/jobs` next to pgbench running
//! the same statement — the database's ceiling on this machine.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context as _;

use super::cpu::{Meter, PerRequest};
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

/// A route of the bench, with its CPU target (µs per request) when it has one.
struct Route {
    label: &'static str,
    path: String,
    note: &'static str,
    cpu_target: Option<f64>,
}

const JOBS_LABEL: &str = "`GET /api/jobs?limit=20`";

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
        let offer = self.an_offer_id()?;
        let routes = [
            Route {
                label: "`GET /health`",
                path: "/health".into(),
                note: "no database: the HTTP stack's ceiling",
                cpu_target: Some(10.0),
            },
            Route {
                label: JOBS_LABEL,
                path: "/api/jobs?limit=20".into(),
                note: "one query, 20 offers with their company, JSON",
                cpu_target: Some(60.0),
            },
            Route {
                label: "`GET /api/jobs/{id}`",
                path: format!("/api/jobs/{offer}"),
                note: "one query by primary key",
                cpu_target: None,
            },
        ];
        let backend = self.start_backend()?;
        std::thread::sleep(Duration::from_secs(1));
        let idle = rss_mib(backend.child.id()).context("cannot read the backend's memory");
        let peak = Peak::watch(backend.child.id());
        let measured: anyhow::Result<Vec<Measured>> = routes
            .iter()
            .map(|r| self.measure(&backend, &r.path, None, clients, duration))
            .collect();
        let loaded = peak.stop();
        let stopped = self.stop_backend(backend);
        let (idle, measured) = (idle?, measured?);
        stopped?;

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
        for (route, m) in routes.iter().zip(&measured) {
            rows.extend(route_rows(route.label, m, route.note, route.cpu_target));
        }
        let jobs = routes
            .iter()
            .zip(&measured)
            .find_map(|(r, m)| (r.label == JOBS_LABEL).then_some(&m.load))
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
pub(crate) fn route_rows(
    label: &str,
    m: &Measured,
    note: &str,
    cpu_target: Option<f64>,
) -> [Row; 2] {
    let [throughput, cpu] = route_names(label);
    [
        report_load(&throughput, &m.load, note),
        cpu_row(&cpu, m.cpu.as_ref(), m.load.tool, cpu_target),
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
