//! `wrk`, the HTTP load generator users would reach for: run it, read its report.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use xshell::{Shell, cmd};

use super::load::{LoadResult, LoadTool};

/// `wrk -t2 -cN -dDs --latency -s SCRIPT URL`, read. `header` (`Name: value`, e.g. a session)
/// reaches wrk through a Lua script in `dir`, never its command line.
pub(crate) fn run(
    sh: &Shell,
    dir: &Path,
    url: &str,
    header: Option<&str>,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<LoadResult> {
    let d = format!("{}s", duration.as_secs());
    let c = clients.to_string();
    let script = dir.join("headers.lua");
    let lua = header
        .and_then(|h| h.split_once(": "))
        .map(|(k, v)| format!("wrk.headers[\"{k}\"] = \"{v}\"\n"))
        .unwrap_or_default();
    std::fs::write(&script, lua)?;
    let out = cmd!(sh, "wrk -t2 -c{c} -d{d} --latency -s {script} {url}")
        .quiet()
        .read();
    let _ = std::fs::remove_file(&script);
    parse(&out?).context("cannot read wrk's output")
}

fn parse(out: &str) -> Option<LoadResult> {
    let rps: f64 = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())?;
    let pct = |p: &str| {
        out.lines()
            .find_map(|l| l.trim().strip_prefix(p))
            .map(|v| v.trim())
            .and_then(parse_time)
    };
    // `  123456 requests in 10.00s, 20.00MB read`: every response, failed ones included.
    let answered: u64 = out
        .lines()
        .find_map(|l| l.trim().split_once(" requests in "))
        .and_then(|(n, _)| n.trim().parse().ok())?;
    let errors = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    Some(LoadResult {
        requests: answered.saturating_sub(errors),
        errors,
        rps,
        p50_ms: pct("50%").unwrap_or(f64::NAN),
        p99_ms: pct("99%").unwrap_or(f64::NAN),
        tool: LoadTool::Wrk,
    })
}

fn parse_time(v: &str) -> Option<f64> {
    let (num, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic())?);
    let n: f64 = num.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_output_is_read() {
        let out = "Running 10s test @ http://127.0.0.1:8000/health\n  2 threads and 200 connections\n  Latency Distribution\n     50%    2.10ms\n     75%    3.00ms\n     90%    4.00ms\n     99%  850.00us\n  123456 requests in 10.00s, 20.00MB read\nRequests/sec:  12345.67\nTransfer/sec:      2.00MB\n";
        let r = parse(out).unwrap();
        assert!((r.rps - 12345.67).abs() < 1e-6);
        assert!((r.p50_ms - 2.1).abs() < 1e-9 && (r.p99_ms - 0.85).abs() < 1e-9);
        assert_eq!(r.tool, LoadTool::Wrk);
        assert_eq!(r.requests, 123456);
        let failing = out.replace(
            "Requests/sec",
            "  Non-2xx or 3xx responses: 6\nRequests/sec",
        );
        let r = parse(&failing).unwrap();
        assert_eq!((r.requests, r.errors), (123450, 6));
        assert_eq!(parse_time("1.5s"), Some(1500.0));
        assert!(parse("garbage").is_none());
    }
}
