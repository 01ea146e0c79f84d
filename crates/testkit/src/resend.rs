//! A stand-in for Resend's HTTP API (`POST /emails`), a real HTTP/1.1 server on
//! 127.0.0.1:0 with a thread per connection. It records every request, answers like Resend —
//! including its idempotency: a repeated `Idempotency-Key` gets the first answer back and
//! sends nothing — and can be scripted to fail: N × 5xx, 429 with `Retry-After`, a 422
//! rejection, a hang, or "deliver, then never answer" (the response lost in transit).
//!
//! ```no_run
//! use intowork_testkit::resend::{Reply, ResendStandIn};
//!
//! let resend = ResendStandIn::start();
//! resend.script([Reply::Status(503), Reply::RateLimited { retry_after_secs: 2 }]);
//! // RESEND_API_URL = resend.url(); then, after the backend sent its mail:
//! assert!(resend.deliveries().values().all(|&n| n == 1));
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How the stand-in answers one `POST /emails` (scripted replies are used in order, then
/// every request is accepted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// 200 `{"id": …}`, the email counts as delivered.
    Accept,
    /// This status with a Resend-shaped error body; nothing is delivered.
    Status(u16),
    /// 429 `rate_limit_exceeded` with `Retry-After: <secs>`.
    RateLimited { retry_after_secs: u64 },
    /// 422 `validation_error`: the request itself is refused.
    Reject,
    /// Reads the request and never answers (until the client gives up or the stand-in stops).
    Hang,
    /// Delivers the email, then never answers: the client cannot know it was sent.
    DeliverThenHang,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub at: Instant,
    pub method: String,
    pub path: String,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// What was answered (0: nothing yet, or the request hung).
    pub status: u16,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn idempotency_key(&self) -> Option<&str> {
        self.header("idempotency-key")
    }
}

#[derive(Debug, Default)]
struct State {
    script: VecDeque<Reply>,
    delay: Duration,
    requests: Vec<Recorded>,
    /// Idempotency key (or a generated one) → times an email was really sent for it.
    deliveries: BTreeMap<String, usize>,
    next_id: u64,
}

/// The running stand-in; dropping it stops it (hanging requests are closed).
#[derive(Debug)]
pub struct ResendStandIn {
    port: u16,
    state: Arc<Mutex<State>>,
    stopping: Arc<AtomicBool>,
    accept_thread: Option<JoinHandle<()>>,
}

impl ResendStandIn {
    pub fn start() -> ResendStandIn {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("a bound listener").port();
        let state = Arc::new(Mutex::new(State::default()));
        let stopping = Arc::new(AtomicBool::new(false));
        let (s, stop) = (Arc::clone(&state), Arc::clone(&stopping));
        let accept_thread = thread::Builder::new()
            .name("testkit-resend-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(stream) = stream else { continue };
                    let (s, stop) = (Arc::clone(&s), Arc::clone(&stop));
                    thread::spawn(move || serve(stream, &s, &stop));
                }
            })
            .expect("spawn the accept thread");
        ResendStandIn {
            port,
            state,
            stopping,
            accept_thread: Some(accept_thread),
        }
    }

    /// For `RESEND_API_URL`: `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Replies for the next requests, in order; after them, every request is accepted.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.lock().script.extend(replies);
    }

    /// Every answer waits this long first (a slow API; requests stay in flight).
    pub fn set_delay(&self, delay: Duration) {
        self.lock().delay = delay;
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    /// Emails really sent, by idempotency key: a correct client makes every count 1.
    pub fn deliveries(&self) -> BTreeMap<String, usize> {
        self.lock().deliveries.clone()
    }

    /// Waits until `n` emails were delivered; panics with what was received after `timeout`.
    pub fn wait_for_deliveries(&self, n: usize, timeout: Duration) -> BTreeMap<String, usize> {
        self.wait(timeout, &format!("{n} emails delivered"), |s| {
            (s.deliveries.len() >= n).then(|| s.deliveries.clone())
        })
    }

    /// Waits until `n` requests arrived (answered or not).
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        self.wait(timeout, &format!("{n} requests"), |s| {
            (s.requests.len() >= n).then(|| s.requests.clone())
        })
    }

    fn wait<T>(&self, timeout: Duration, what: &str, done: impl Fn(&State) -> Option<T>) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(t) = done(&self.lock()) {
                return t;
            }
            assert!(
                Instant::now() < deadline,
                "intowork-testkit: not {what} within {timeout:?}; requests: {:#?}",
                self.requests()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for ResendStandIn {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port));
        if let Some(t) = self.accept_thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>, stopping: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Some((method, path, headers, body)) = read_request(&stream) else {
        return;
    };
    let key = headers
        .iter()
        .find(|(k, _)| k == "idempotency-key")
        .map(|(_, v)| v.clone());
    // Recorded on arrival: a test can see a request in flight.
    let (index, reply, delay) = {
        let mut s = state.lock().unwrap_or_else(PoisonError::into_inner);
        let reply = s.script.pop_front().unwrap_or(Reply::Accept);
        s.requests.push(Recorded {
            at: Instant::now(),
            method: method.clone(),
            path: path.clone(),
            headers,
            body,
            status: 0,
        });
        (s.requests.len() - 1, reply, s.delay)
    };
    thread::sleep(delay);
    let response = {
        let mut s = state.lock().unwrap_or_else(PoisonError::into_inner);
        let answer = answer(&mut s, &method, &path, key.as_deref(), &reply);
        s.requests[index].status = answer.as_ref().map_or(0, |(status, _)| *status);
        answer.map(|(_, text)| text)
    };
    match response {
        Some(text) => {
            let _ = (&stream).write_all(text.as_bytes());
            let _ = stream.shutdown(Shutdown::Both);
        }
        None => hang(&stream, stopping),
    }
}

/// The status and the whole HTTP response, or `None` to hang.
fn answer(
    s: &mut State,
    method: &str,
    path: &str,
    key: Option<&str>,
    reply: &Reply,
) -> Option<(u16, String)> {
    if method != "POST" || path != "/emails" {
        return Some(http(
            404,
            "",
            r#"{"name":"not_found","message":"no such route"}"#,
        ));
    }
    let deliver = |s: &mut State| {
        // Resend answers a repeated key with the first result and sends nothing.
        s.next_id += 1;
        let id = match key {
            Some(k) => format!("re-{k}"),
            None => format!("re-anon-{}", s.next_id),
        };
        let entry = s.deliveries.entry(id.clone()).or_insert(0);
        if key.is_none() || *entry == 0 {
            *entry += 1;
        }
        format!(r#"{{"id":"{id}"}}"#)
    };
    match reply {
        Reply::Accept => Some(http(200, "", &deliver(s))),
        Reply::Status(code) => Some(http(
            *code,
            "",
            &format!(r#"{{"name":"application_error","message":"stand-in answered {code}"}}"#),
        )),
        Reply::RateLimited { retry_after_secs } => Some(http(
            429,
            &format!("Retry-After: {retry_after_secs}\r\n"),
            r#"{"name":"rate_limit_exceeded","message":"Too many requests"}"#,
        )),
        Reply::Reject => Some(http(
            422,
            "",
            r#"{"name":"validation_error","message":"The `to` field is invalid."}"#,
        )),
        Reply::Hang => None,
        Reply::DeliverThenHang => {
            deliver(s);
            None
        }
    }
}

fn http(status: u16, extra_headers: &str, body: &str) -> (u16, String) {
    let text = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra_headers}\r\n{body}",
        body.len()
    );
    (status, text)
}

type Request = (String, String, Vec<(String, String)>, String);

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some((
        method,
        path,
        headers,
        String::from_utf8_lossy(&body).into_owned(),
    ))
}

/// Holds the connection open without answering, until the client closes it or the
/// stand-in stops.
fn hang(stream: &TcpStream, stopping: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let mut buf = [0; 64];
    while !stopping.load(Ordering::SeqCst) {
        match (&*stream).read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}
