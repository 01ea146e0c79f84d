//! The backend against the floor (bench/floor) on one route, same load, same run: what the
//! backend's layers (axum, middleware, sqlx, its pool) cost per request over the fewest
//! layers Rust offers, and whether they cost PostgreSQL anything more.

use super::cpu::PerRequest;
use super::load::LoadResult;
use super::report::{Row, TargetVerdict};
use super::rows::skip;
use super::scenario::FLOOR_CONNECTIONS;
use super::throughput::Measured;

/// Backend CPU per request, at most this many times the floor's.
pub(crate) const CPU_LIMIT: f64 = 1.5;
/// PostgreSQL CPU per request, at most this many times the floor's (no extra round trip).
pub(crate) const POSTGRES_LIMIT: f64 = 1.1;

/// The floor's settings, as the report names them.
pub(crate) fn settings() -> String {
    format!(
        "floor = bench/floor: hyper 1 without router or middleware, tokio-postgres 0.7 with the \
         same SQL prepared, {FLOOR_CONNECTIONS} connections shared by all requests (pipelined), \
         rustls sslmode=require; same load generator and settings, same run, routes alternated"
    )
}

/// One route measured on both.
#[derive(Debug)]
pub(crate) struct Pair<'a> {
    pub(crate) ours: &'a Measured,
    pub(crate) floor: &'a Measured,
}

/// Throughput, backend CPU per request and (for `database` routes) PostgreSQL's, each
/// against the floor's.
pub(crate) fn rows(
    label: &str,
    note: &str,
    database: bool,
    m: &Pair<'_>,
    clients: usize,
) -> Vec<Row> {
    let mut rows = vec![
        throughput(label, note, m, clients),
        cpu(
            &format!("backend CPU per {label}"),
            m,
            |c| c.backend_us,
            CPU_LIMIT,
        ),
    ];
    if database {
        rows.push(cpu(
            &format!("PostgreSQL CPU per {label}"),
            m,
            |c| c.postgres_us,
            POSTGRES_LIMIT,
        ));
    }
    rows
}

pub(crate) fn load_text(r: &LoadResult) -> String {
    format!(
        "{:.0} req/s (p50 {:.1} ms, p99 {:.1} ms)",
        r.rps, r.p50_ms, r.p99_ms
    )
}

fn throughput(label: &str, note: &str, m: &Pair<'_>, clients: usize) -> Row {
    let (ours, floor) = (&m.ours.load, &m.floor.load);
    Row {
        name: format!("{label} throughput"),
        ours: load_text(ours),
        anchor: format!("{} (floor)", load_text(floor)),
        ratio: Some(ours.rps / floor.rps),
        target: "reported".into(),
        verdict: TargetVerdict::Info,
        note: format!(
            "{note}; {clients} keep-alive clients by {}; errors: ours {}, floor {}; {}",
            ours.tool,
            ours.errors,
            floor.errors,
            settings()
        ),
    }
}

/// Ours ÷ floor for one party's CPU per request; passes at most `limit`.
fn cpu(name: &str, m: &Pair<'_>, party: impl Fn(&PerRequest) -> f64, limit: f64) -> Row {
    let (Some(ours), Some(floor)) = (&m.ours.cpu, &m.floor.cpu) else {
        return skip(name, "no /proc/<pid>/stat to read (Linux only)");
    };
    let ratio = party(ours) / party(floor);
    let (b, g, p) = ours.shares();
    Row {
        name: name.to_owned(),
        ours: format!("{:.1} µs", party(ours)),
        anchor: format!("{:.1} µs (floor)", party(floor)),
        ratio: Some(ratio),
        target: format!("≤ {limit}× floor"),
        verdict: TargetVerdict::within(ratio <= limit),
        note: format!(
            "per request, ours / floor: server {:.1} / {:.1} µs, load generator {:.1} / {:.1} µs, PostgreSQL {:.1} / {:.1} µs; of the CPU our run used: backend {b:.0} %, load generator {g:.0} %, PostgreSQL {p:.0} %",
            ours.backend_us,
            floor.backend_us,
            ours.generator_us,
            floor.generator_us,
            ours.postgres_us,
            floor.postgres_us,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::load::LoadTool;

    fn measured(rps: f64, backend_us: f64, postgres_us: f64) -> Measured {
        Measured {
            load: LoadResult {
                requests: 1000,
                errors: 0,
                rps,
                p50_ms: 1.0,
                p99_ms: 2.0,
                tool: LoadTool::Wrk,
            },
            cpu: Some(PerRequest {
                backend_us,
                generator_us: 5.0,
                postgres_us,
            }),
        }
    }

    #[test]
    fn ratios_are_ours_over_the_floor_and_verdicts_follow_the_limits() {
        let (ours, floor) = (measured(900.0, 45.0, 110.0), measured(1000.0, 30.0, 100.0));
        let pair = Pair {
            ours: &ours,
            floor: &floor,
        };
        let within = rows("`GET /x`", "n", true, &pair, 50);
        assert_eq!(within.len(), 3);
        assert!((within[0].ratio.unwrap() - 0.9).abs() < 1e-9);
        assert!((within[1].ratio.unwrap() - 1.5).abs() < 1e-9);
        assert_eq!(
            within[1].verdict,
            TargetVerdict::Pass,
            "1.5× is within ≤ 1.5×"
        );
        assert!((within[2].ratio.unwrap() - 1.1).abs() < 1e-9);
        assert_eq!(within[2].verdict, TargetVerdict::Pass);
        let heavier = measured(900.0, 46.0, 111.0);
        let pair = Pair {
            ours: &heavier,
            floor: &floor,
        };
        let over = rows("`GET /x`", "n", true, &pair, 50);
        assert_eq!(
            (over[1].verdict, over[2].verdict),
            (TargetVerdict::Miss, TargetVerdict::Miss)
        );
        let pair = Pair {
            ours: &ours,
            floor: &floor,
        };
        let health = rows("`GET /health`", "n", false, &pair, 50);
        assert_eq!(
            health.len(),
            2,
            "no PostgreSQL row for a route without a query"
        );
    }
}
