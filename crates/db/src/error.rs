//! Why a connection failed, one variant per cause, each naming the endpoint (never the
//! password) and the fix. `classify` turns sqlx's errors into these.

use std::io;
use std::time::Duration;

use intowork_config::TlsMode;

/// A connection failure, diagnosed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(
        "{endpoint}: the server does not offer TLS (it answered the SSLRequest with `N`); nothing was sent in plaintext. Fix: enable `ssl = on` on the server, or check that the URL points at the right server (Railway's PostgreSQL always offers TLS)"
    )]
    TlsNotOffered { endpoint: String },

    #[error("{endpoint}: connection reset by peer during start-up ({source}). {hint}")]
    ResetDuringStartup {
        endpoint: String,
        hint: &'static str,
        #[source]
        source: io::Error,
    },

    #[error(
        "{endpoint}: `{host}` is a Railway private-network host and resolves only inside Railway ({source}). Fix: set DATABASE_PUBLIC_URL (the database's TCP proxy URL) for checks from here, or open a tunnel with `railway connect --tunnel-only`"
    )]
    PrivateHostUnresolvable {
        endpoint: String,
        host: String,
        #[source]
        source: io::Error,
    },

    #[error("{endpoint}: cannot resolve `{host}` ({source}). Fix: check the host name in the URL{}", if *temporary { "; the DNS failure looks temporary, retry shortly" } else { "" })]
    Dns {
        endpoint: String,
        host: String,
        temporary: bool,
        #[source]
        source: io::Error,
    },

    #[error(
        "{endpoint}: `{host}` looks local but resolves to {addresses}, not only to loopback: the remote rules apply, and `{mode}` would send the password unencrypted to another machine. Nothing was sent. Fix: use `sslmode=require`, or point the URL at 127.0.0.1 or ::1 (or correct what the resolver answers for `{host}`)"
    )]
    NotLoopback {
        endpoint: String,
        host: String,
        /// What the name resolved to, comma-separated (or "no address").
        addresses: String,
        mode: TlsMode,
    },

    #[error(
        "{endpoint}: connection refused ({source}). Fix: check the port, and that the server is running and listening on that address"
    )]
    Refused {
        endpoint: String,
        #[source]
        source: io::Error,
    },

    #[error("{endpoint}: no answer within {}s. Fix: check the host and port, firewalls, and that the server is up; raise DATABASE_CONNECT_TIMEOUT_SECS if it is just slow", after.as_secs_f32())]
    Timeout { endpoint: String, after: Duration },

    #[error(
        "{endpoint}: password authentication failed for user `{user}` (28P01). Fix: copy the current credentials from the database service's variables (they change when the password is rotated)"
    )]
    BadCredentials { endpoint: String, user: String },

    #[error(
        "{endpoint}: the database does not exist (3D000). Fix: check the database name at the end of the URL (Railway's is `railway`)"
    )]
    DatabaseMissing { endpoint: String },

    #[error("{endpoint}: rejected by the server's pg_hba.conf (28000): {message}. Fix: {}", if message.contains("no encryption") { "the server only accepts TLS: use `sslmode=require`" } else { "allow this client's address and user in pg_hba.conf, or connect as an allowed user" })]
    HbaRejected { endpoint: String, message: String },

    #[error(
        "{endpoint}: the server's certificate failed verification under `{mode}` ({source}). {hint}"
    )]
    Certificate {
        endpoint: String,
        mode: TlsMode,
        hint: &'static str,
        #[source]
        source: io::Error,
    },

    #[error(
        "{endpoint}: too many connections (53300). Fix: lower DATABASE_MAX_CONNECTIONS (pool size × replicas must fit the server's max_connections) or put a pooler in front"
    )]
    TooManyConnections { endpoint: String },

    #[error(
        "{endpoint}: the server is still starting up (57P03) and did not become ready within the connect budget. Fix: wait and retry, or raise DATABASE_CONNECT_TIMEOUT_SECS"
    )]
    StartingUp { endpoint: String },

    #[error(
        "{endpoint}: the session is NOT encrypted (pg_stat_ssl.ssl = false) although the policy requires TLS; the connection was closed"
    )]
    NotEncrypted { endpoint: String },

    #[error(
        "{endpoint}: the server's certificate fingerprint is {actual}, but DATABASE_TLS_FINGERPRINT pins {expected}: refusing to connect (a man in the middle, or a regenerated certificate). Fix: if the certificate was legitimately renewed, update DATABASE_TLS_FINGERPRINT with `cargo xtask verify`"
    )]
    FingerprintMismatch {
        endpoint: String,
        expected: String,
        actual: String,
    },

    #[error("{endpoint}: {source}")]
    Other {
        endpoint: String,
        #[source]
        source: sqlx::Error,
    },
}

impl ConnectError {
    /// Worth another attempt within the time budget.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ConnectError::Refused { .. }
                | ConnectError::Dns {
                    temporary: true,
                    ..
                }
                | ConnectError::Timeout { .. }
                | ConnectError::TooManyConnections { .. }
                | ConnectError::StartingUp { .. }
        )
    }

    /// A short stable name for reports and JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            ConnectError::TlsNotOffered { .. } => "tls_not_offered",
            ConnectError::ResetDuringStartup { .. } => "reset_during_startup",
            ConnectError::PrivateHostUnresolvable { .. } => "private_host_unresolvable",
            ConnectError::Dns { .. } => "dns",
            ConnectError::NotLoopback { .. } => "not_loopback",
            ConnectError::Refused { .. } => "refused",
            ConnectError::Timeout { .. } => "timeout",
            ConnectError::BadCredentials { .. } => "bad_credentials",
            ConnectError::DatabaseMissing { .. } => "database_missing",
            ConnectError::HbaRejected { .. } => "hba_rejected",
            ConnectError::Certificate { .. } => "certificate",
            ConnectError::TooManyConnections { .. } => "too_many_connections",
            ConnectError::StartingUp { .. } => "starting_up",
            ConnectError::NotEncrypted { .. } => "not_encrypted",
            ConnectError::FingerprintMismatch { .. } => "fingerprint_mismatch",
            ConnectError::Other { .. } => "other",
        }
    }
}

/// What `classify` needs to know besides the error.
#[derive(Debug, Clone)]
pub struct Attempt<'a> {
    pub endpoint: &'a str,
    pub host: &'a str,
    pub user: &'a str,
    pub mode: TlsMode,
}

const RESET_PLAINTEXT: &str = "Fix: this is what a TLS-only server or Railway's TCP proxy does to a plaintext start-up: use `sslmode=require` (the URL asked for no TLS)";
const RESET_TLS: &str = "Fix: something between here and PostgreSQL closed the connection: check that host and port point at PostgreSQL (not an HTTP endpoint), that Railway's TCP proxy is enabled for this database, and that no firewall or VPN resets it";
const CERT_RAILWAY: &str = "Fix: Railway's PostgreSQL certificate is self-signed and flagged CA:TRUE (UnknownIssuer / CaUsedAsEndEntity under rustls): use `sslmode=require` and pin it with DATABASE_TLS_FINGERPRINT";
const CERT_OTHER: &str = "Fix: point sslrootcert at the CA that signed the server's certificate, and use the host name the certificate names";

pub fn classify(err: sqlx::Error, at: &Attempt<'_>) -> ConnectError {
    let endpoint = at.endpoint.to_owned();
    match err {
        sqlx::Error::Tls(e) if e.to_string().contains("does not support TLS") => {
            ConnectError::TlsNotOffered { endpoint }
        }
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("28P01") => ConnectError::BadCredentials {
                endpoint,
                user: at.user.to_owned(),
            },
            Some("3D000") => ConnectError::DatabaseMissing { endpoint },
            Some("28000") => ConnectError::HbaRejected {
                endpoint,
                message: db.message().to_owned(),
            },
            Some("53300") => ConnectError::TooManyConnections { endpoint },
            Some("57P03") => ConnectError::StartingUp { endpoint },
            _ => ConnectError::Other {
                endpoint,
                source: sqlx::Error::Database(db),
            },
        },
        sqlx::Error::Io(io) => classify_io(io, at),
        other => ConnectError::Other {
            endpoint,
            source: other,
        },
    }
}

fn classify_io(io: io::Error, at: &Attempt<'_>) -> ConnectError {
    let endpoint = at.endpoint.to_owned();
    let tls = io.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>());
    if let Some(rustls::Error::InvalidCertificate(cert)) = tls {
        let railway_like = matches!(cert, rustls::CertificateError::UnknownIssuer)
            || format!("{cert:?}").contains("CaUsedAsEndEntity");
        let hint = if railway_like {
            CERT_RAILWAY
        } else {
            CERT_OTHER
        };
        return ConnectError::Certificate {
            endpoint,
            mode: at.mode,
            hint,
            source: io,
        };
    }
    let text = io.to_string();
    match io.kind() {
        io::ErrorKind::ConnectionRefused => ConnectError::Refused {
            endpoint,
            source: io,
        },
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof => {
            let hint = if at.mode.guarantees_encryption() {
                RESET_TLS
            } else {
                RESET_PLAINTEXT
            };
            ConnectError::ResetDuringStartup {
                endpoint,
                hint,
                source: io,
            }
        }
        io::ErrorKind::TimedOut => ConnectError::Timeout {
            endpoint,
            after: Duration::ZERO,
        },
        _ if is_dns_failure(&text) => {
            let host = at.host.to_owned();
            if host.to_ascii_lowercase().ends_with(".railway.internal") {
                ConnectError::PrivateHostUnresolvable {
                    endpoint,
                    host,
                    source: io,
                }
            } else {
                // getaddrinfo's EAI_AGAIN: the resolver may answer next time.
                let temporary = text.contains("Temporary failure") || text.contains("try again");
                ConnectError::Dns {
                    endpoint,
                    host,
                    temporary,
                    source: io,
                }
            }
        }
        _ => ConnectError::Other {
            endpoint,
            source: sqlx::Error::Io(io),
        },
    }
}

fn is_dns_failure(text: &str) -> bool {
    [
        "failed to lookup address",
        "Name or service not known",
        "Temporary failure in name resolution",
        "No address associated",
        "nodename nor servname",
    ]
    .iter()
    .any(|m| text.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(mode: TlsMode, host: &str) -> Attempt<'_> {
        Attempt {
            endpoint: "h:5432/db",
            host,
            user: "u",
            mode,
        }
    }

    #[test]
    fn io_errors_are_classified_by_kind_and_resolver_text() {
        let cases: Vec<(io::Error, &str, &str, bool)> = vec![
            (
                io::Error::from(io::ErrorKind::ConnectionRefused),
                "db.example.com",
                "refused",
                true,
            ),
            (
                io::Error::from(io::ErrorKind::ConnectionReset),
                "db.example.com",
                "reset_during_startup",
                false,
            ),
            (
                io::Error::other("failed to lookup address information: Name or service not known"),
                "db.example.com",
                "dns",
                false,
            ),
            (
                io::Error::other(
                    "failed to lookup address information: Temporary failure in name resolution",
                ),
                "db.example.com",
                "dns",
                true,
            ),
            (
                io::Error::other("failed to lookup address information: Name or service not known"),
                "postgres.railway.internal",
                "private_host_unresolvable",
                false,
            ),
        ];
        for (err, host, kind, transient) in cases {
            let e = classify(sqlx::Error::Io(err), &at(TlsMode::Require, host));
            assert_eq!((e.kind(), e.is_transient()), (kind, transient), "{e}");
        }
    }

    #[test]
    fn a_reset_explains_tls_when_tls_was_off() {
        let plain = classify(
            sqlx::Error::Io(io::ErrorKind::ConnectionReset.into()),
            &at(TlsMode::Disable, "x"),
        );
        assert!(
            plain.to_string().contains("use `sslmode=require`"),
            "{plain}"
        );
        let tls = classify(
            sqlx::Error::Io(io::ErrorKind::ConnectionReset.into()),
            &at(TlsMode::Require, "x"),
        );
        assert!(tls.to_string().contains("TCP proxy is enabled"), "{tls}");
    }

    #[test]
    fn tls_refusal_is_its_own_diagnosis() {
        let e = classify(
            sqlx::Error::Tls("server does not support TLS".into()),
            &at(TlsMode::Require, "x"),
        );
        assert_eq!(e.kind(), "tls_not_offered");
        assert!(!e.is_transient());
    }
}
