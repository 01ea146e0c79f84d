//! The kinds of rows the bench reports, with their verdicts decided on the numbers.

use std::time::Duration;

use super::cpu::PerRequest;
use super::load::{LoadResult, LoadTool};
use super::measure::ms;
use super::pgbench::Run;
use super::report::{Row, TargetVerdict};

const WRK_INSTALL: &str = "apt-get install -y wrk";

/// A measure that could not run, and why.
pub(crate) fn skip(name: &str, why: &str) -> Row {
    Row {
        name: name.to_owned(),
        ours: "—".into(),
        anchor: "—".into(),
        ratio: None,
        target: "—".into(),
        verdict: TargetVerdict::Skip,
        note: why.to_owned(),
    }
}

/// A measure reported without a target.
pub(crate) fn info(name: &str, ours: String, note: &str) -> Row {
    Row {
        name: name.to_owned(),
        ours,
        anchor: "—".into(),
        ratio: None,
        target: "reported".into(),
        verdict: TargetVerdict::Info,
        note: note.to_owned(),
    }
}

/// Ours against an anchor's time: passes when ours ÷ anchor ≤ `limit`.
pub(crate) fn ratio_row(
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
        verdict: TargetVerdict::within(ratio <= limit),
        note: note.to_owned(),
    }
}

/// Ours against a fixed limit: passes when `value` ≤ `limit`.
pub(crate) fn target_row(name: &str, value: f64, unit: &str, limit: f64, target: &str) -> Row {
    Row {
        name: name.to_owned(),
        ours: format!("{value:.1} {unit}"),
        anchor: "—".into(),
        ratio: None,
        target: target.to_owned(),
        verdict: TargetVerdict::within(value <= limit),
        note: String::new(),
    }
}

/// Throughput, reported; the note names `wrk`'s install command when the built-in
/// generator was used.
pub(crate) fn report_load(name: &str, r: &LoadResult, note: &str) -> Row {
    let tool = match r.tool {
        LoadTool::BuiltIn => format!("built-in load generator (wrk not installed: {WRK_INSTALL})"),
        LoadTool::Wrk => "wrk".to_owned(),
    };
    info(
        name,
        format!(
            "{:.0} req/s (p50 {:.1} ms, p99 {:.1} ms)",
            r.rps, r.p50_ms, r.p99_ms
        ),
        &format!("{note}; load by {tool}; {} errors", r.errors),
    )
}

/// The backend's CPU per request, reported (routes the floor also serves are compared with it
/// in `floor`), with the generator's and PostgreSQL's share beside it: two shared cores run
/// all three.
pub(crate) fn cpu_row(name: &str, cpu: Option<&PerRequest>, tool: LoadTool) -> Row {
    let Some(cpu) = cpu else {
        return skip(name, "no /proc/<pid>/stat to read (Linux only)");
    };
    let (backend, generator, postgres) = cpu.shares();
    let note = format!(
        "per request: {tool} {:.1} µs, PostgreSQL {:.1} µs; of the CPU the run used: backend {backend:.0} %, {tool} {generator:.0} %, PostgreSQL {postgres:.0} %",
        cpu.generator_us, cpu.postgres_us
    );
    Row {
        name: name.to_owned(),
        ours: format!("{:.1} µs", cpu.backend_us),
        anchor: "—".into(),
        ratio: None,
        target: "reported".into(),
        verdict: TargetVerdict::Info,
        note,
    }
}

/// Throughput against a pgbench run of the same statement, reported with its settings: the
/// ratio is what is left of the database's ceiling once HTTP, JSON and the load generator
/// share the cores.
pub(crate) fn anchor_row(name: &str, ours: &LoadResult, run: &Run, note: String) -> Row {
    let postgres = run
        .cpu
        .map(|c| format!("; PostgreSQL {:.1} µs CPU per transaction", c.postgres_us))
        .unwrap_or_default();
    Row {
        name: name.to_owned(),
        ours: format!("{:.0} req/s", ours.rps),
        anchor: format!("{:.0} tps ({})", run.tps, run.label()),
        ratio: Some(ours.rps / run.tps),
        target: "reported".into(),
        verdict: TargetVerdict::Info,
        note: format!("{note}{postgres}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_follow_the_targets() {
        let ms = Duration::from_millis;
        assert_eq!(
            ratio_row("x", ms(30), ms(20), 1.5, "≤ 1.5×", "").verdict,
            TargetVerdict::Pass
        );
        assert_eq!(
            ratio_row("x", ms(31), ms(20), 1.5, "≤ 1.5×", "").verdict,
            TargetVerdict::Miss
        );
        assert_eq!(
            target_row("x", 151.0, "ms", 150.0, "< 150 ms").verdict,
            TargetVerdict::Miss
        );
        assert_eq!(
            target_row("x", 150.0, "ms", 150.0, "< 150 ms").verdict,
            TargetVerdict::Pass
        );
    }
}
