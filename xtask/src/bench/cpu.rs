//! Where the CPU of a load run goes: the backend process, the load generator (wrk, a child
//! we wait for, or the built-in one in this process) and PostgreSQL, each in µs per request,
//! from `/proc/<pid>/stat` (Linux). Two shared cores run all three: the split says what the
//! machine allows.

use std::path::Path;

/// Clock ticks per second of `/proc/<pid>/stat`'s times: `USER_HZ`, 100 on every Linux
/// architecture this runs on (the kernel's ABI, whatever its internal `HZ`).
const TICKS_PER_SEC: f64 = 100.0;

/// CPU seconds per party at one instant.
#[derive(Debug, Clone, Copy)]
struct Sample {
    backend: f64,
    generator: f64,
    postgres: f64,
}

/// Started before a load run, finished after it.
#[derive(Debug)]
pub(crate) struct Meter {
    backend: Option<u32>,
    postmaster: Option<u32>,
    start: Option<Sample>,
}

/// µs of CPU per request, per party.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PerRequest {
    pub(crate) backend_us: f64,
    pub(crate) generator_us: f64,
    pub(crate) postgres_us: f64,
}

impl PerRequest {
    /// Each party's share of the CPU the run used, in %.
    pub(crate) fn shares(&self) -> (f64, f64, f64) {
        let total = self.backend_us + self.generator_us + self.postgres_us;
        let pct = |x: f64| 100.0 * x / total;
        (
            pct(self.backend_us),
            pct(self.generator_us),
            pct(self.postgres_us),
        )
    }
}

impl Meter {
    /// `backend`: the service under load (none for pgbench); `postmaster`: the server's pid
    /// (its sessions are its children).
    pub(crate) fn start(backend: Option<u32>, postmaster: Option<u32>) -> Meter {
        let mut meter = Meter {
            backend,
            postmaster,
            start: None,
        };
        meter.start = meter.sample();
        meter
    }

    /// CPU per request since [`Meter::start`]; `None` when /proc could not be read.
    pub(crate) fn finish(&self, requests: u64) -> Option<PerRequest> {
        let (start, end) = (self.start?, self.sample()?);
        let us = |a: f64, b: f64| (b - a) * 1e6 / requests.max(1) as f64;
        Some(PerRequest {
            backend_us: us(start.backend, end.backend),
            generator_us: us(start.generator, end.generator),
            postgres_us: us(start.postgres, end.postgres),
        })
    }

    fn sample(&self) -> Option<Sample> {
        let own = Times::read(Path::new("/proc/self/stat"))?;
        Some(Sample {
            backend: match self.backend {
                Some(pid) => Times::of(pid)?.own(),
                None => 0.0,
            },
            // The built-in generator runs in this process; wrk is a child, waited for.
            generator: own.own() + own.children(),
            postgres: self.postmaster.map_or(Some(0.0), postgres_total)?,
        })
    }
}

/// The CPU seconds `pid` used so far (a third party under load: PgBouncer).
pub(crate) fn process_seconds(pid: u32) -> Option<f64> {
    Some(Times::of(pid)?.own())
}

/// The postmaster's own CPU, its reaped children's (sessions that ended) and its live
/// children's (the sessions, autovacuum, the writers). A session reaped between reading the
/// postmaster and finding the session in /proc would be counted nowhere (pgbench's sessions
/// end just as a run is sampled): the sum is taken again until the postmaster's reaped total
/// did not move meanwhile.
fn postgres_total(postmaster: u32) -> Option<f64> {
    for _ in 0..10 {
        let before = Times::of(postmaster)?;
        let live: f64 = live_children(postmaster)?.iter().map(Times::own).sum();
        let after = Times::of(postmaster)?;
        if after.children() == before.children() {
            return Some(before.own() + before.children() + live);
        }
    }
    None
}

/// The times of `parent`'s live children.
fn live_children(parent: u32) -> Option<Vec<Times>> {
    let mut children = Vec::new();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        children.extend(Times::of(pid).filter(|t| t.ppid == parent));
    }
    Some(children)
}

/// The fields of `/proc/<pid>/stat` this needs, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Times {
    ppid: u32,
    utime: f64,
    stime: f64,
    cutime: f64,
    cstime: f64,
}

impl Times {
    fn of(pid: u32) -> Option<Times> {
        Times::read(Path::new(&format!("/proc/{pid}/stat")))
    }

    fn read(path: &Path) -> Option<Times> {
        Times::parse(&std::fs::read_to_string(path).ok()?)
    }

    /// The command name (field 2) is in parentheses and may hold spaces and `)`: fields are
    /// counted after its last `)`.
    fn parse(stat: &str) -> Option<Times> {
        let rest = &stat[stat.rfind(')')? + 1..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // `rest` starts at field 3 (state): field n is at index n - 3.
        let field = |n: usize| fields.get(n - 3)?.parse::<f64>().ok();
        Some(Times {
            ppid: fields.get(1)?.parse().ok()?,
            utime: field(14)? / TICKS_PER_SEC,
            stime: field(15)? / TICKS_PER_SEC,
            cutime: field(16)? / TICKS_PER_SEC,
            cstime: field(17)? / TICKS_PER_SEC,
        })
    }

    fn own(&self) -> f64 {
        self.utime + self.stime
    }

    fn children(&self) -> f64 {
        self.cutime + self.cstime
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_are_read_past_odd_command_names() {
        let line = "4242 (we ird) name) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 75 30 12 20 0 3 0 1000 0 0";
        let t = Times::parse(line).unwrap();
        assert_eq!(t.ppid, 17);
        assert_eq!(
            (t.utime, t.stime, t.cutime, t.cstime),
            (2.5, 0.75, 0.3, 0.12)
        );
        assert_eq!(Times::parse("garbage"), None);
    }

    #[test]
    fn this_process_is_measured() {
        let meter = Meter::start(Some(std::process::id()), None);
        let own = || Times::of(std::process::id()).unwrap().own();
        let (t0, wall) = (own(), std::time::Instant::now());
        // Spin until 0.2 s of CPU were used, however loaded the machine is.
        let mut x = 0u64;
        while own() - t0 < 0.2 && wall.elapsed() < std::time::Duration::from_secs(60) {
            for _ in 0..100_000 {
                x = x.wrapping_add(std::hint::black_box(1));
            }
        }
        let per = meter.finish(1000).unwrap();
        // ≥ 0.2 s over 1000 requests: ≥ 200 µs each, counted for the backend (this pid) and
        // the in-process generator alike; no PostgreSQL given, none counted.
        assert!(per.backend_us >= 200.0, "{per:?} {x}");
        // Read a moment apart: a clock tick (10 ms ÷ 1000 requests) may fall in between.
        assert!((per.backend_us - per.generator_us).abs() <= 20.0, "{per:?}");
        assert_eq!(per.postgres_us, 0.0);
    }
}
