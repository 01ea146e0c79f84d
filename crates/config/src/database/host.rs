//! Which kind of host a database URL points at: it decides the TLS policy and what can be
//! reached from where.
//!
//! A name is never local by its spelling alone: `localhost` and `*.localhost` are
//! [`HostClass::LocalName`], which the connection path accepts as local only after resolving
//! it and finding nothing but loopback addresses (see `intowork_db::locality`).

use std::fmt;
use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HostClass {
    /// A loopback address: 127.0.0.0/8, `::1`.
    Loopback,
    /// `localhost` or `*.localhost`: local only if every address it resolves to is loopback,
    /// which the connection path checks before sending anything in plaintext.
    LocalName,
    /// A unix socket directory (`host=/var/run/postgresql`).
    UnixSocket,
    /// `*.railway.internal`: Railway's private network, resolvable only inside Railway.
    RailwayPrivate,
    /// `*.proxy.rlwy.net`: Railway's public TCP proxy.
    RailwayProxy,
    /// Other `*.railway.app` / `*.rlwy.net` hosts.
    RailwayOther,
    /// Any other host.
    Remote,
}

impl HostClass {
    pub fn classify(host: &str) -> HostClass {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let unbracketed = host.trim_start_matches('[').trim_end_matches(']');
        if host.starts_with('/') {
            HostClass::UnixSocket
        } else if host == "localhost" || host.ends_with(".localhost") {
            HostClass::LocalName
        } else if let Ok(ip) = unbracketed.parse::<IpAddr>() {
            if ip.is_loopback() {
                HostClass::Loopback
            } else {
                HostClass::Remote
            }
        } else if host.ends_with(".railway.internal") {
            HostClass::RailwayPrivate
        } else if host.ends_with(".proxy.rlwy.net") {
            HostClass::RailwayProxy
        } else if host.ends_with(".railway.app") || host.ends_with(".rlwy.net") {
            HostClass::RailwayOther
        } else {
            HostClass::Remote
        }
    }

    /// Traffic leaves the machine: TLS is mandatory. A [`HostClass::LocalName`] is not
    /// remote here; whether it really is local is settled by resolving it.
    pub fn is_remote(self) -> bool {
        !matches!(
            self,
            HostClass::Loopback | HostClass::LocalName | HostClass::UnixSocket
        )
    }

    pub fn is_railway(self) -> bool {
        matches!(
            self,
            HostClass::RailwayPrivate | HostClass::RailwayProxy | HostClass::RailwayOther
        )
    }
}

impl fmt::Display for HostClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HostClass::Loopback => "loopback",
            HostClass::LocalName => "local name",
            HostClass::UnixSocket => "unix socket",
            HostClass::RailwayPrivate => "Railway private network",
            HostClass::RailwayProxy => "Railway TCP proxy",
            HostClass::RailwayOther => "Railway",
            HostClass::Remote => "remote host",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_table() {
        let table = [
            ("localhost", HostClass::LocalName),
            ("LOCALHOST", HostClass::LocalName),
            ("pg.localhost", HostClass::LocalName),
            ("Pg.LocalHost.", HostClass::LocalName),
            ("127.0.0.1", HostClass::Loopback),
            ("127.3.2.1", HostClass::Loopback),
            ("::1", HostClass::Loopback),
            ("[::1]", HostClass::Loopback),
            ("/var/run/postgresql", HostClass::UnixSocket),
            ("postgres.railway.internal", HostClass::RailwayPrivate),
            ("interchange.proxy.rlwy.net", HostClass::RailwayProxy),
            ("Interchange.Proxy.Rlwy.Net.", HostClass::RailwayProxy),
            ("containers-us-west-1.railway.app", HostClass::RailwayOther),
            ("roundhouse.rlwy.net", HostClass::RailwayOther),
            ("db.example.com", HostClass::Remote),
            ("10.0.0.5", HostClass::Remote),
            ("notlocalhost", HostClass::Remote),
            ("railway.internal.example.com", HostClass::Remote),
        ];
        for (host, class) in table {
            assert_eq!(HostClass::classify(host), class, "{host}");
        }
        assert!(!HostClass::Loopback.is_remote());
        assert!(!HostClass::LocalName.is_remote());
        assert!(!HostClass::UnixSocket.is_remote());
        assert!(HostClass::RailwayPrivate.is_remote() && HostClass::RailwayPrivate.is_railway());
        assert!(HostClass::Remote.is_remote() && !HostClass::Remote.is_railway());
    }
}
