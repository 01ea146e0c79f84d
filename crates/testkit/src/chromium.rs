//! A real browser for tests: Debian's `chromium`, headless, loading a page that this module
//! serves from its own local origin ([`Page`]) and that reports what the browser decided by
//! POSTing JSON back to the same origin (`/report`). No DevTools client, no mock: the page's
//! script runs in the browser's own engine, with its own CORS enforcement, and the test reads
//! the outcome the page saw plus the browser's console (`--enable-logging=stderr`).
//!
//! Without `chromium` on `PATH` the caller panics with the install command: a browser test
//! never passes silently. Each [`Browser`] gets a fresh profile (`--user-data-dir`) and the
//! flags that work as root on these machines (`--no-sandbox`, no GPU, no QUIC, no background
//! networking); [`Browser::close`] kills it through the process handle and proves that no
//! process of that profile is left. It runs under `setpriv --pdeathsig=KILL` (util-linux, which
//! the harness needs anyway), so the kernel kills it should the test process die first.
//!
//! ```no_run
//! use intowork_testkit::chromium::{Browser, Page};
//!
//! let page = Page::serve("<script>fetch('/report', {method: 'POST', body: '{\"ok\":true}'})</script>");
//! let browser = Browser::open(&page.url());
//! let report = page.report(std::time::Duration::from_secs(60));
//! assert_eq!(report, "{\"ok\":true}");
//! browser.close();
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::once::on_path;

/// Headless, as root, quiet: what works on this machine kind; the profile is added per browser.
pub const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    // The page's console (and the browser's CORS refusals) on stderr.
    "--enable-logging=stderr",
    "--v=0",
];

/// How long a closed browser's processes may take to leave the process table.
const EXIT_GRACE: Duration = Duration::from_secs(10);

/// The `chromium` executable; panics with the one package list's install hint when there
/// is none (never a silent skip: CI installs it through `dev setup`).
pub fn executable() -> PathBuf {
    on_path("chromium").unwrap_or_else(|| {
        panic!(
            "intowork-testkit: this test runs a real browser: {}",
            intowork_prereqs::CHROMIUM.not_installed("chromium")
        )
    })
}

/// A running headless Chromium with its own profile.
#[derive(Debug)]
pub struct Browser {
    child: Option<Child>,
    profile: PathBuf,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Browser {
    /// Starts Chromium on `url`, with a fresh profile directory.
    // A long-running child that must be killed and reaped: xshell only runs to completion.
    #[allow(clippy::disallowed_methods)]
    pub fn open(url: &str) -> Browser {
        let chromium = executable();
        let profile = fresh_profile();
        let mut command = match on_path("setpriv") {
            Some(setpriv) => {
                let mut c = std::process::Command::new(setpriv);
                c.arg("--pdeathsig=KILL").arg(&chromium);
                c
            }
            None => std::process::Command::new(&chromium),
        };
        let mut child = command
            .args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "intowork-testkit: cannot start `{}`: {e}",
                    chromium.display()
                )
            });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = stderr.clone();
        let pipe = child.stderr.take().expect("stderr is piped");
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                sink.lock().unwrap_or_else(|e| e.into_inner()).push(line);
            }
        });
        Browser {
            child: Some(child),
            profile,
            stderr,
        }
    }

    /// What the browser printed so far: its console lines (`…:CONSOLE…`) among its own.
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .join("\n")
    }

    /// Kills the browser, reaps it, and panics if any process of its profile (renderers,
    /// zygotes, the network service) is still in the process table after a grace period.
    pub fn close(mut self) {
        self.kill();
        let deadline = Instant::now() + EXIT_GRACE;
        loop {
            let left = processes_of(&self.profile);
            if left.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "intowork-testkit: Chromium processes outlived the browser: {left:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Default for Page {
    fn default() -> Page {
        Page::new()
    }
}

impl Drop for Browser {
    /// A test that panicked before [`Browser::close`] still leaves no browser behind (its
    /// helpers exit when the browser process is gone) and, as far as it can, no profile.
    fn drop(&mut self) {
        if self.child.is_some() {
            self.kill();
            let _ = std::fs::remove_dir_all(&self.profile);
        }
    }
}

fn fresh_profile() -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("intowork-chromium-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("intowork-testkit: cannot create `{}`: {e}", dir.display()));
    dir
}

/// Pids whose command line names `profile` (read from /proc: no `ps` needed).
fn processes_of(profile: &Path) -> Vec<u32> {
    let needle = format!("--user-data-dir={}", profile.display());
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| c.split(|b| *b == 0).any(|arg| arg == needle.as_bytes()))
                .unwrap_or(false)
        })
        .collect()
}

/// One HTML page served on its own origin (`http://127.0.0.1:PORT`), and the reports its
/// script POSTs to `/report` on that origin. The origin exists before the page does
/// ([`Page::new`], then [`Page::set`]): a backend can be told to allow it first. Serves until
/// the test binary exits.
#[derive(Debug)]
pub struct Page {
    port: u16,
    html: Arc<Mutex<String>>,
    reports: Mutex<Receiver<String>>,
}

impl Page {
    /// An origin serving an empty page for now.
    pub fn new() -> Page {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port on 127.0.0.1");
        let port = listener.local_addr().expect("a bound address").port();
        let (tx, reports) = std::sync::mpsc::channel();
        let html = Arc::new(Mutex::new(String::new()));
        let served = html.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                let page = served.lock().unwrap_or_else(|e| e.into_inner()).clone();
                let _ = answer(stream, &page, &tx);
            }
        });
        Page {
            port,
            html,
            reports: Mutex::new(reports),
        }
    }

    /// An origin serving `html`.
    pub fn serve(html: &str) -> Page {
        let page = Page::new();
        page.set(html);
        page
    }

    /// What `GET /` answers from now on.
    pub fn set(&self, html: &str) {
        *self.html.lock().unwrap_or_else(|e| e.into_inner()) = html.to_owned();
    }

    /// `http://127.0.0.1:PORT`: what the browser sends as `Origin`.
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn url(&self) -> String {
        format!("{}/", self.origin())
    }

    /// The next report's body; panics after `timeout`.
    pub fn report(&self, timeout: Duration) -> String {
        self.reports
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .recv_timeout(timeout)
            .unwrap_or_else(|_| {
                panic!(
                    "intowork-testkit: the page on {} reported nothing within {timeout:?}",
                    self.origin()
                )
            })
    }
}

/// `GET /` → the page; `POST /report` → 204, the body to the test; anything else → 404.
fn answer(stream: TcpStream, html: &str, reports: &Sender<String>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut words = request_line.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let (status, content_type, body) = match (method, path) {
        ("GET", "/") => ("200 OK", "text/html; charset=utf-8", html.to_owned()),
        ("POST", "/report") => {
            let mut body = vec![0u8; length];
            reader.read_exact(&mut body)?;
            let _ = reports.send(String::from_utf8_lossy(&body).into_owned());
            ("204 No Content", "text/plain", String::new())
        }
        _ => ("404 Not Found", "text/plain", String::new()),
    };
    let mut stream = reader.into_inner();
    write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}
