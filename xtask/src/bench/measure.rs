//! Timing whole commands, process start included, and reading a process's memory.

use std::time::{Duration, Instant};

use xshell::Cmd;

/// Runs the command `n` times and returns the median wall time; fails if any run fails.
pub(crate) fn median_of<'a>(
    n: usize,
    mut make: impl FnMut() -> Cmd<'a>,
) -> anyhow::Result<Duration> {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let cmd = make();
        let t = Instant::now();
        let out = cmd.quiet().ignore_status().output()?;
        let took = t.elapsed();
        anyhow::ensure!(
            out.status.success(),
            "a measured command failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        times.push(took);
    }
    Ok(median(&mut times))
}

pub(crate) fn median(times: &mut [Duration]) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

/// Resident memory of a process, from /proc (Linux).
pub(crate) fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
