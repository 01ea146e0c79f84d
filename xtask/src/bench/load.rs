//! A small keep-alive HTTP/1.1 load generator, for machines without `wrk`: N connections,
//! each sending GETs back to back for a fixed time, latencies recorded per request.

use std::fmt;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What generated the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoadTool {
    Wrk,
    /// This file, for machines without `wrk`.
    BuiltIn,
}

impl fmt::Display for LoadTool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LoadTool::Wrk => "wrk",
            LoadTool::BuiltIn => "built-in",
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct LoadResult {
    /// Requests answered 2xx/3xx.
    pub(crate) requests: u64,
    pub(crate) errors: u64,
    pub(crate) rps: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) tool: LoadTool,
}

/// `header`: one extra request header line (`Name: value`), e.g. a session.
pub(crate) fn run(
    port: u16,
    path: &str,
    header: Option<&str>,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<LoadResult> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let extra = header.map(|h| format!("{h}\r\n")).unwrap_or_default();
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{extra}\r\n");
    rt.block_on(async move {
        let start = Instant::now();
        let deadline = start + duration;
        let tasks: Vec<_> = (0..connections)
            .map(|_| tokio::spawn(connection(port, request.clone(), deadline)))
            .collect();
        let mut latencies = Vec::new();
        let mut errors = 0;
        for t in tasks {
            let (lat, err) = t.await?;
            latencies.extend(lat);
            errors += err;
        }
        let elapsed = start.elapsed().as_secs_f64();
        latencies.sort_unstable();
        let pct = |p: f64| {
            latencies
                .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
                .map(|us| *us as f64 / 1000.0)
                .unwrap_or(f64::NAN)
        };
        Ok(LoadResult {
            requests: latencies.len() as u64,
            errors,
            rps: latencies.len() as f64 / elapsed,
            p50_ms: pct(0.50),
            p99_ms: pct(0.99),
            tool: LoadTool::BuiltIn,
        })
    })
}

/// One keep-alive connection: request, read the whole response, repeat until the deadline.
async fn connection(port: u16, request: String, deadline: Instant) -> (Vec<u32>, u64) {
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut buf = vec![0u8; 64 * 1024];
    'reconnect: while Instant::now() < deadline {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)).await else {
            errors += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        while Instant::now() < deadline {
            let t = Instant::now();
            if stream.write_all(request.as_bytes()).await.is_err() {
                errors += 1;
                continue 'reconnect;
            }
            match read_response(&mut stream, &mut buf).await {
                Some(200) => latencies.push(t.elapsed().as_micros() as u32),
                Some(_) => errors += 1,
                None => {
                    errors += 1;
                    continue 'reconnect;
                }
            }
        }
    }
    (latencies, errors)
}

/// Reads one response (headers, then `content-length` bytes); its status, or `None` when
/// the connection broke.
async fn read_response(stream: &mut TcpStream, buf: &mut [u8]) -> Option<u16> {
    let mut filled = 0;
    loop {
        let n = stream.read(&mut buf[filled..]).await.ok()?;
        if n == 0 {
            return None;
        }
        filled += n;
        let Some(end) = buf[..filled].windows(4).position(|w| w == b"\r\n\r\n") else {
            if filled == buf.len() {
                return None;
            }
            continue;
        };
        let head = std::str::from_utf8(&buf[..end]).ok()?;
        let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
        let length: usize = head
            .lines()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .map(|(_, v)| v.trim().parse().ok())
            })
            .flatten()?;
        let mut have = filled - (end + 4);
        while have < length {
            let n = stream.read(buf).await.ok()?;
            if n == 0 {
                return None;
            }
            have += n;
        }
        return Some(status);
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    /// Against a tiny keep-alive server: every request counted, latencies measured.
    #[test]
    fn the_built_in_generator_counts_keep_alive_requests() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(4) {
                let mut s = stream.unwrap();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 1024];
                    while let Ok(n) = s.read(&mut buf) {
                        if n == 0
                            || s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                                .is_err()
                        {
                            break;
                        }
                    }
                });
            }
        });
        let r = super::run(port, "/", None, 4, std::time::Duration::from_millis(300)).unwrap();
        assert!(r.rps > 10.0, "{r:?}");
        assert!(r.requests > 10, "{r:?}");
        assert_eq!(r.errors, 0, "{r:?}");
        assert!(r.p99_ms >= r.p50_ms, "{r:?}");
    }
}
