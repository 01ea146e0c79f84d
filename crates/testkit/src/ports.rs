//! Free ports, found by asking the kernel: fixed ports collide between parallel runs.

use std::net::{Ipv4Addr, Ipv6Addr, TcpListener};
use std::sync::OnceLock;

/// A TCP port free on 127.0.0.1 (and on ::1 when the machine has IPv6 loopback, because the
/// servers listen there too and `localhost` may resolve to it).
///
/// The port is released before returning, so another process could take it in between:
/// [`crate::PgServer::start`] retries with a new port when that happens.
pub fn free_port() -> u16 {
    for _ in 0..100 {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .expect("bind 127.0.0.1:0 to find a free port");
        let port = listener
            .local_addr()
            .expect("local address of a bound listener")
            .port();
        if !ipv6_loopback() || TcpListener::bind((Ipv6Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
    panic!("intowork-testkit: no port free on both 127.0.0.1 and ::1 after 100 tries");
}

/// Whether ::1 can be bound here (containers often run without IPv6).
pub(crate) fn ipv6_loopback() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_ok())
}
