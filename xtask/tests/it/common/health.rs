//! The one stand-in for a deployed service's public URL: an HTTP server on a free loopback
//! port that answers each request with `respond(method, path)` and allows any origin's CORS
//! preflight (`*`, `authorization`), which is what `deploy` and `rollback` probe.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::json;

/// A running stand-in; its thread ends with the test binary, or as [`HealthStandIn::answering`]
/// says.
pub(crate) struct HealthStandIn {
    port: u16,
    thread: std::thread::JoinHandle<()>,
}

type Respond = Box<dyn Fn(&str, &str) -> (u16, String) + Send>;

impl HealthStandIn {
    /// Answers `respond(path)` to every request until the test binary exits.
    pub(crate) fn start(respond: impl Fn(&str) -> (u16, String) + Send + 'static) -> HealthStandIn {
        HealthStandIn::run(Box::new(move |_, path| respond(path)), None, false)
    }

    /// Ready, serving `commit` on `/health`.
    pub(crate) fn serving(commit: &'static str) -> HealthStandIn {
        HealthStandIn::start(move |path| respond(path, 200, commit))
    }

    /// Answers `status` to everything. With 200 it ends after the CORS preflight, the last
    /// request of a healthy deploy; in any case after 30 s, so that no test can hang on it.
    pub(crate) fn answering(status: u16) -> HealthStandIn {
        let respond = move |_: &str, _: &str| {
            let body = if status == 200 {
                "{\"status\":\"ready\"}"
            } else {
                "{\"status\":\"unavailable\"}"
            };
            (status, body.to_owned())
        };
        HealthStandIn::run(
            Box::new(respond),
            Some(Duration::from_secs(30)),
            status == 200,
        )
    }

    fn run(respond: Respond, budget: Option<Duration>, end_after_preflight: bool) -> HealthStandIn {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let deadline = budget.map(|b| Instant::now() + b);
        let thread = std::thread::spawn(move || {
            loop {
                let mut s = match listener.accept() {
                    Ok((s, _)) => s,
                    Err(_) if deadline.is_none_or(|d| Instant::now() < d) => {
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    }
                    Err(_) => break,
                };
                s.set_nonblocking(false).unwrap();
                let mut line = String::new();
                let _ = BufReader::new(&s).read_line(&mut line);
                let mut words = line.split_whitespace();
                let method = words.next().unwrap_or("GET").to_owned();
                let path = words.next().unwrap_or("/").to_owned();
                let (status, body) = respond(&method, &path);
                let _ = write!(
                    s,
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\naccess-control-allow-origin: *\r\naccess-control-allow-headers: authorization\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                if end_after_preflight && method == "OPTIONS" {
                    break;
                }
            }
        });
        HealthStandIn { port, thread }
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Its readiness URL.
    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}/health/ready", self.port)
    }

    /// Waits for its thread to end (see [`HealthStandIn::answering`]).
    pub(crate) fn join(self) -> std::thread::Result<()> {
        self.thread.join()
    }
}

/// What a healthy service serving `commit` answers: `ready` (with `ready` as the status) on
/// `/health/ready`, its build on everything else.
pub(crate) fn respond(path: &str, ready: u16, commit: &str) -> (u16, String) {
    if path.starts_with("/health/ready") {
        (
            ready,
            json!({"status": if ready == 200 { "ready" } else { "unavailable" }}).to_string(),
        )
    } else {
        (
            200,
            json!({"status": "ok", "version": "0.1.0", "commit": commit}).to_string(),
        )
    }
}
