//! Establishing a connection: locality, certificate pin, bounded classified retries, TLS proof.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use intowork_config::{DatabaseSettings, DbHost};
use rand::Rng;
use sqlx::{ConnectOptions, Connection, PgConnection};

use crate::error::{Attempt, ConnectError, classify};
use crate::locality::{Resolver, Route, SystemResolver, route};
use crate::options::{connect_options, connect_options_via};
use crate::probe::{TlsFacts, probe};
use crate::proof::{SessionTls, session_tls};

/// Capped exponential backoff with jitter: 100 ms, 200 ms, … up to 2 s, each ±50 %.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    cap: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            next: Duration::from_millis(100),
            cap: Duration::from_secs(2),
        }
    }
}

impl Backoff {
    /// The next pause, jittered so replicas restarting together do not retry in lockstep.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(self.cap);
        base.mul_f64(rand::rng().random_range(0.5..1.5))
    }
}

/// Where a connection goes, for diagnostics: `host:port/database`, never the password.
pub fn describe(db: &DatabaseSettings) -> (String, String) {
    let url = db.target();
    (url.endpoint(), url.host().to_string())
}

/// Each attempt gets at most this share of the budget, so a black-holed first try leaves
/// room for more (but never less than 2 s: a TLS handshake over a slow link needs it).
fn attempt_timeout(budget: Duration, remaining: Duration) -> Duration {
    (budget / 3).max(Duration::from_secs(2)).min(remaining)
}

/// A connection whose TLS has been proven, after the locality rule and the pin (if any).
#[derive(Debug)]
pub struct Connected {
    pub conn: PgConnection,
    pub session: SessionTls,
    pub attempts: u32,
    pub elapsed: Duration,
    /// The route it took: a pool opened on it reaches the same, proven, address.
    pub route: Route,
}

/// Connects within `DATABASE_CONNECT_TIMEOUT_SECS`, retrying only transient failures.
pub async fn connect(db: &DatabaseSettings) -> Result<Connected, ConnectError> {
    connect_with(db, &SystemResolver).await
}

/// [`connect`], with the names resolved by `resolver`.
pub async fn connect_with(
    db: &DatabaseSettings,
    resolver: &impl Resolver,
) -> Result<Connected, ConnectError> {
    let start = Instant::now();
    let budget = db.connect_timeout();
    let (endpoint, host) = describe(db);
    let url = db.target();
    let at = Attempt {
        endpoint: &endpoint,
        host: &host,
        user: url.user(),
        mode: url.tls_mode(),
    };
    let mut backoff = Backoff::default();
    let mut attempts = 0;
    // The newest failure the server itself answered with (53300, 57P03, …): when the budget
    // runs out during a later attempt, that answer is the diagnosis, not the cut-short wait.
    let mut last_answer: Option<ConnectError> = None;
    loop {
        attempts += 1;
        let remaining = budget.saturating_sub(start.elapsed());
        let per_attempt = attempt_timeout(budget, remaining);
        let result = match tokio::time::timeout(
            per_attempt,
            attempt(db, resolver, &at, per_attempt),
        )
        .await
        {
            Ok(result) => result,
            Err(_) => Err(ConnectError::Timeout {
                endpoint: endpoint.clone(),
                after: per_attempt,
            }),
        };
        match result {
            Ok((conn, session, route)) => {
                return Ok(Connected {
                    conn,
                    session,
                    attempts,
                    elapsed: start.elapsed(),
                    route,
                });
            }
            Err(e) if e.is_transient() => {
                let pause = backoff.next_delay();
                if start.elapsed() + pause >= budget {
                    tracing::warn!(endpoint = %endpoint, attempts, error = %e, "giving up: connect budget spent");
                    return Err(match (e, last_answer) {
                        (ConnectError::Timeout { .. }, Some(answer)) => answer,
                        (ConnectError::Timeout { endpoint, .. }, None) => ConnectError::Timeout {
                            endpoint,
                            after: start.elapsed(),
                        },
                        (other, _) => other,
                    });
                }
                tracing::info!(endpoint = %endpoint, attempt = attempts, error = %e, retry_in_ms = pause.as_millis() as u64, "database not reachable yet");
                if !matches!(e, ConnectError::Timeout { .. }) {
                    last_answer = Some(e);
                }
                tokio::time::sleep(pause).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// One attempt: the locality rule first (nothing is sent to a name that fails it), then the
/// pin, then the driver's connection and the server's word on TLS.
async fn attempt(
    db: &DatabaseSettings,
    resolver: &impl Resolver,
    at: &Attempt<'_>,
    timeout: Duration,
) -> Result<(PgConnection, SessionTls, Route), ConnectError> {
    let route = route(db, resolver).await?;
    if let Some(expected) = db.tls_fingerprint() {
        let facts = probe_target(db, &route, at, timeout).await?;
        check_pin(at, expected, &facts)?;
    }
    let (mut conn, route) = match route.loopback() {
        None => (open(db, None, at).await?, route),
        Some(addrs) => first_answering(db, addrs, at)
            .await
            .map(|(c, a)| (c, route.only(a)))?,
    };
    let session = prove(&mut conn, at).await?;
    Ok((conn, session, route))
}

/// The first proven loopback address that does not refuse (a name may resolve to `::1` and
/// `127.0.0.1` while the server listens on one of them only).
async fn first_answering(
    db: &DatabaseSettings,
    addrs: &[IpAddr],
    at: &Attempt<'_>,
) -> Result<(PgConnection, IpAddr), ConnectError> {
    let (last, others) = addrs.split_last().expect("a proven route has an address");
    for addr in others {
        match open(db, Some(*addr), at).await {
            Err(ConnectError::Refused { .. }) => continue,
            other => return other.map(|c| (c, *addr)),
        }
    }
    open(db, Some(*last), at).await.map(|c| (c, *last))
}

async fn open(
    db: &DatabaseSettings,
    addr: Option<IpAddr>,
    at: &Attempt<'_>,
) -> Result<PgConnection, ConnectError> {
    let opts = match addr {
        Some(addr) => connect_options_via(db, addr),
        None => connect_options(db),
    };
    opts.connect().await.map_err(|e| classify(e, at))
}

/// The TLS probe against the connection target (TCP hosts only), through the route's first
/// address when the name had to be proven local.
pub async fn probe_target(
    db: &DatabaseSettings,
    route: &Route,
    at: &Attempt<'_>,
    timeout: Duration,
) -> Result<TlsFacts, ConnectError> {
    let url = db.target();
    match (url.host(), route.loopback().and_then(|a| a.first())) {
        (DbHost::Tcp(_), Some(addr)) => probe(&addr.to_string(), url.port(), at, timeout).await,
        (DbHost::Tcp(host), None) => probe(host, url.port(), at, timeout).await,
        (DbHost::Socket(_), _) => Err(ConnectError::Other {
            endpoint: at.endpoint.to_owned(),
            source: sqlx::Error::Configuration(
                "a certificate pin needs a TCP connection, not a unix socket".into(),
            ),
        }),
    }
}

pub fn check_pin(
    at: &Attempt<'_>,
    expected: &intowork_config::Fingerprint,
    facts: &TlsFacts,
) -> Result<(), ConnectError> {
    if facts.certificate.sha256 == *expected {
        return Ok(());
    }
    Err(ConnectError::FingerprintMismatch {
        endpoint: at.endpoint.to_owned(),
        expected: expected.to_string(),
        actual: facts.certificate.sha256.to_string(),
    })
}

/// Reads `pg_stat_ssl`; an unencrypted session under a TLS-requiring policy is closed and refused.
pub async fn prove(conn: &mut PgConnection, at: &Attempt<'_>) -> Result<SessionTls, ConnectError> {
    let session = session_tls(conn).await.map_err(|e| classify(e, at))?;
    if at.mode.guarantees_encryption() && !session.ssl {
        return Err(ConnectError::NotEncrypted {
            endpoint: at.endpoint.to_owned(),
        });
    }
    Ok(session)
}

/// Closes a connection politely, ignoring errors (it is being discarded).
pub async fn close(conn: PgConnection) {
    let _ = conn.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_cap_with_bounded_jitter() {
        let mut b = Backoff::default();
        let bases = [100u64, 200, 400, 800, 1600, 2000, 2000];
        for base in bases {
            let d = b.next_delay().as_millis() as u64;
            assert!(
                d >= base / 2 && d <= base * 3 / 2,
                "{d} not within ±50% of {base}"
            );
        }
    }

    #[test]
    fn attempts_share_the_budget() {
        let s = Duration::from_secs;
        assert_eq!(attempt_timeout(s(30), s(30)), s(10));
        assert_eq!(attempt_timeout(s(3), s(3)), s(2));
        assert_eq!(attempt_timeout(s(30), s(1)), s(1));
    }
}
