//! #12.3 end to end, the way the hostile review reproduced it: in a private mount namespace
//! whose `/etc/hosts` answers `pg.localhost` with a non-loopback address of this machine,
//! where a forwarder leads to a real PostgreSQL server that accepts plaintext. `verify` and
//! `migrate` with `sslmode=disable` must refuse before any connection reaches the forwarder;
//! with `/etc/hosts` answering loopback, the same name is local and passes.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use intowork_testkit::{Flavor, PgServer};
use xshell::{Shell, cmd};

use crate::common::Run;

const SECRET: &str = "resolution-test-secret-4a3b2c1d0e9f8a7b6c5d4e3f";

/// PostgreSQL's SSLRequest: a plaintext-only server answers `N`.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// Counts the connections it accepts on a non-loopback address and pipes each to
/// 127.0.0.1:`upstream`.
struct Forwarder {
    addr: Ipv4Addr,
    port: u16,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Forwarder {
    fn start(addr: Ipv4Addr, upstream: u16) -> Forwarder {
        let listener = TcpListener::bind((addr, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, stopping) = (accepted.clone(), stop.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                if let Ok(server) = TcpStream::connect((Ipv4Addr::LOCALHOST, upstream)) {
                    pipe(client, server);
                }
            }
        });
        Forwarder {
            addr,
            port,
            accepted,
            stop,
        }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accepting thread so it sees the flag.
        let _ = TcpStream::connect((self.addr, self.port));
    }
}

fn pipe(a: TcpStream, b: TcpStream) {
    for (mut from, mut to) in [(a.try_clone().unwrap(), b.try_clone().unwrap()), (b, a)] {
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut from, &mut to);
            let _ = to.shutdown(Shutdown::Write);
        });
    }
}

/// This machine's first global IPv4 address, if it has one: a `/32 host LOCAL` entry of the
/// kernel's routing tables (`/proc/net/fib_trie`) outside 127.0.0.0/8. Read from `/proc`
/// rather than `ip`, which a minimal machine lacks (iproute2).
fn non_loopback_address() -> Option<Ipv4Addr> {
    let trie = std::fs::read_to_string("/proc/net/fib_trie").ok()?;
    let lines: Vec<&str> = trie.lines().collect();
    lines.windows(2).find_map(|pair| {
        let address: Ipv4Addr = pair[0].trim().strip_prefix("|-- ")?.parse().ok()?;
        (pair[1].trim() == "/32 host LOCAL" && !address.is_loopback()).then_some(address)
    })
}

/// Runs `bin args` in a new mount namespace whose /etc/hosts is `hosts`.
fn in_namespace(sh: &Shell, hosts: &str, bin: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let dir = sh.create_temp_dir().unwrap();
    let file = dir.path().join("hosts");
    std::fs::write(&file, hosts).unwrap();
    let script = r#"mount --bind "$1" /etc/hosts && shift && exec "$@""#;
    let out = cmd!(sh, "unshare -m sh -c {script} sh {file} {bin} {args...}")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NEXTAUTH_SECRET", SECRET)
        .envs(env.iter().copied())
        .ignore_status()
        .quiet()
        .output()
        .unwrap();
    Run::from(out)
}

#[test]
fn a_local_looking_name_resolving_elsewhere_is_refused_before_any_connection() {
    let sh = Shell::new().unwrap();
    let Some(addr) = non_loopback_address().filter(|_| intowork_testkit::mount_namespaces()) else {
        intowork_testkit::skip("needs a non-loopback IPv4 address and `unshare -m` (root)");
        return;
    };
    let server = PgServer::shared(Flavor::PlaintextOnly);
    let db = server.create_database();
    let forwarder = Forwarder::start(addr, server.port());

    // The forwarder really leads to a plaintext server: it answers the SSLRequest with `N`.
    let mut probe = TcpStream::connect((addr, forwarder.port)).unwrap();
    probe.write_all(&SSL_REQUEST).unwrap();
    let mut answer = [0u8; 1];
    probe.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"N");
    drop(probe);
    assert_eq!(forwarder.accepted(), 1);

    let xtask = env!("CARGO_BIN_EXE_xtask");
    let hosts = format!("{addr} pg.localhost\n127.0.0.1 localhost\n");
    let url = db.url_with_host_port("pg.localhost", forwarder.port, "sslmode=disable");
    let env = [("DATABASE_URL", url.as_str())];

    let verify = in_namespace(&sh, &hosts, xtask, &["verify", "--no-env-file"], &env);
    assert_eq!(verify.code, 1, "{}{}", verify.stdout, verify.stderr);
    let dns = verify
        .stdout
        .lines()
        .find(|l| l.starts_with("fail  database.dns"))
        .unwrap_or_else(|| panic!("{}", verify.stdout));
    assert_contains!(
        dns,
        &format!("`pg.localhost` looks local but resolves to {addr}")
    );
    for stage in ["database.tcp", "database.tls", "database.auth"] {
        assert_contains!(
            verify.stdout,
            &format!("skip  {stage}"),
            "{stage}: {}",
            verify.stdout
        );
    }

    let migrate = in_namespace(&sh, &hosts, xtask, &["migrate", "run", "--json"], &env);
    assert_eq!(migrate.code, 1, "{}{}", migrate.stdout, migrate.stderr);
    assert_contains!(migrate.stdout, "\"not_loopback\"");

    assert_eq!(
        forwarder.accepted(),
        1,
        "nothing may reach the non-loopback address"
    );
    for run in [&verify, &migrate] {
        assert_lacks!(run.stdout, &db.password);
        assert_lacks!(run.stderr, &db.password);
    }

    // The same name answered with loopback is local: verify passes, straight to the server.
    let hosts = "127.0.0.1 pg.localhost\n127.0.0.1 localhost\n";
    let url = db.url_with_host_port("pg.localhost", server.port(), "sslmode=disable");
    let env = [("DATABASE_URL", url.as_str())];
    let verify = in_namespace(&sh, hosts, xtask, &["verify", "--no-env-file"], &env);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    assert_contains!(
        verify.stdout,
        "`pg.localhost` → 127.0.0.1 (every address loopback: local)",
        "{}",
        verify.stdout
    );
    assert_eq!(forwarder.accepted(), 1);
}
