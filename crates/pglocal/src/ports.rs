//! Free ports, found by asking the kernel: fixed ports collide between parallel runs. The
//! one port picker of the workspace; a port counts as free only when it is free on
//! 127.0.0.1 and, where the machine has IPv6 loopback, on ::1 — the servers listen on both,
//! and `localhost` may resolve to either.

use std::net::{Ipv4Addr, Ipv6Addr, TcpListener};
use std::sync::OnceLock;

use crate::error::Error;

const TRIES: u32 = 100;

/// A TCP port free on the loopback addresses.
///
/// The port is released before returning, so another process could take it in between:
/// servers started on it detect that and retry with a new port.
pub fn free_port() -> Result<u16, Error> {
    for _ in 0..TRIES {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(Error::io("bind", "127.0.0.1:0"))?;
        let port = listener
            .local_addr()
            .map_err(Error::io("read the address of", "127.0.0.1:0"))?
            .port();
        if !ipv6_loopback() || TcpListener::bind((Ipv6Addr::LOCALHOST, port)).is_ok() {
            return Ok(port);
        }
    }
    Err(Error::NoFreePort(TRIES))
}

/// Whether `port` can be bound on the loopback addresses right now.
pub fn is_free(port: u16) -> bool {
    let v4 = TcpListener::bind((Ipv4Addr::LOCALHOST, port));
    v4.is_ok() && (!ipv6_loopback() || TcpListener::bind((Ipv6Addr::LOCALHOST, port)).is_ok())
}

/// Whether ::1 can be bound here (containers often run without IPv6).
pub fn ipv6_loopback() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_ok())
}

/// `listen_addresses` for these loopback addresses.
pub(crate) fn listen_addresses() -> &'static str {
    if ipv6_loopback() {
        "127.0.0.1,::1"
    } else {
        "127.0.0.1"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_free_port_is_free_until_taken_on_either_address() {
        let port = free_port().unwrap();
        assert!(is_free(port));
        let v4 = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).unwrap();
        assert!(!is_free(port), "taken on 127.0.0.1");
        drop(v4);
        if ipv6_loopback() {
            let _v6 = TcpListener::bind((Ipv6Addr::LOCALHOST, port)).unwrap();
            assert!(!is_free(port), "taken on ::1");
        }
    }
}
