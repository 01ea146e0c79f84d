//! "Local" by resolution, not by spelling. A URL may ask for no TLS only when its host is
//! local; for a loopback address or a unix socket that is a fact of the URL, but for a name
//! that merely looks local (`localhost`, `*.localhost`) it is a fact of the resolver: the
//! name is local only when **every** address it resolves to is loopback. Otherwise the remote
//! rules apply and the connection is refused before a byte is sent.
//!
//! A proven name is then reached through the addresses that were checked, never through a
//! second lookup that could answer differently.

use std::future::Future;
use std::io;
use std::net::IpAddr;

use intowork_config::DatabaseSettings;

use crate::connect::describe;
use crate::error::{Attempt, ConnectError, classify};

/// Which addresses a name has: the system resolver in production, a table in tests.
pub trait Resolver: Sync {
    fn lookup(&self, host: &str, port: u16)
    -> impl Future<Output = io::Result<Vec<IpAddr>>> + Send;
}

/// `getaddrinfo`, through tokio: `/etc/hosts`, then DNS, as the driver itself would resolve.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    async fn lookup(&self, host: &str, port: u16) -> io::Result<Vec<IpAddr>> {
        Ok(tokio::net::lookup_host((host, port))
            .await?
            .map(|a| a.ip())
            .collect())
    }
}

/// Where connections to the target go. Only [`route`] makes one, so holding a `Route` means
/// the locality rule was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route(Via);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Via {
    /// The host as written: TLS is required anyway, or the host is a loopback address or a
    /// socket, so no lookup can change what is allowed.
    AsWritten,
    /// These loopback addresses, in the resolver's order: every address the local-looking
    /// name resolved to.
    Loopback(Vec<IpAddr>),
}

impl Route {
    /// The proven loopback addresses, when the host is a local-looking name under a mode
    /// that allows plaintext; `None` when the host is used as written.
    pub fn loopback(&self) -> Option<&[IpAddr]> {
        match &self.0 {
            Via::AsWritten => None,
            Via::Loopback(addrs) => Some(addrs),
        }
    }

    /// The same route narrowed to the one address that accepted a connection.
    pub(crate) fn only(&self, addr: IpAddr) -> Route {
        match &self.0 {
            Via::AsWritten => Route(Via::AsWritten),
            Via::Loopback(_) => Route(Via::Loopback(vec![addr])),
        }
    }
}

/// Applies the locality rule to the connection target: resolves a local-looking name under a
/// plaintext-permitting mode and refuses it unless every address is loopback.
pub async fn route(db: &DatabaseSettings, resolver: &impl Resolver) -> Result<Route, ConnectError> {
    let url = db.target();
    if !url.needs_local_proof() {
        return Ok(Route(Via::AsWritten));
    }
    let (endpoint, host) = describe(db);
    let at = Attempt {
        endpoint: &endpoint,
        host: &host,
        user: url.user(),
        mode: url.tls_mode(),
    };
    let answer = resolver.lookup(&host, url.port()).await;
    judge(&at, answer).map(|addrs| Route(Via::Loopback(addrs)))
}

/// The rule itself: a non-empty answer made only of loopback addresses, or a refusal that
/// names what the name resolved to.
pub fn judge(
    at: &Attempt<'_>,
    answer: io::Result<Vec<IpAddr>>,
) -> Result<Vec<IpAddr>, ConnectError> {
    let mut addrs = answer.map_err(|e| classify(sqlx::Error::Io(e), at))?;
    let mut seen = Vec::new();
    addrs.retain(|a| {
        !seen.contains(a) && {
            seen.push(*a);
            true
        }
    });
    if !addrs.is_empty() && addrs.iter().all(is_loopback) {
        return Ok(addrs);
    }
    let addresses = if addrs.is_empty() {
        "no address".to_owned()
    } else {
        addrs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(ConnectError::NotLoopback {
        endpoint: at.endpoint.to_owned(),
        host: at.host.to_owned(),
        addresses,
        mode: at.mode,
    })
}

/// 127.0.0.0/8, `::1`, and 127.0.0.0/8 written as an IPv4-mapped IPv6 address.
pub fn is_loopback(addr: &IpAddr) -> bool {
    match addr {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}
