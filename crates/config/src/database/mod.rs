//! The database part of the settings: which URL to connect to, with which TLS mode, pool
//! size and time budget.

mod fingerprint;
mod host;
mod tls;
mod url;

use std::time::Duration;

pub use fingerprint::Fingerprint;
pub use host::HostClass;
pub use tls::{TlsMode, TlsSource};
pub use url::{DatabaseUrl, DbHost, UrlContext};

/// Which URL the connection goes to, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetChoice {
    /// `DATABASE_URL` itself.
    DatabaseUrl,
    /// `DATABASE_PUBLIC_URL`, because `DATABASE_URL`'s host is private to Railway and this
    /// process runs outside Railway.
    PublicUrl,
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub(crate) url: DatabaseUrl,
    pub(crate) public_url: Option<DatabaseUrl>,
    pub(crate) target: TargetChoice,
    pub(crate) max_connections: u32,
    pub(crate) connect_timeout: Duration,
    pub(crate) tls_fingerprint: Option<Fingerprint>,
}

impl DatabaseSettings {
    /// `DATABASE_URL` as configured.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    pub fn public_url(&self) -> Option<&DatabaseUrl> {
        self.public_url.as_ref()
    }

    /// The URL this process should connect to.
    pub fn target(&self) -> &DatabaseUrl {
        match (self.target, &self.public_url) {
            (TargetChoice::PublicUrl, Some(public)) => public,
            _ => &self.url,
        }
    }

    pub fn target_choice(&self) -> TargetChoice {
        self.target
    }

    pub fn max_connections(&self) -> u32 {
        self.max_connections
    }

    /// Total budget for establishing the first connection, retries included.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// `DATABASE_TLS_FINGERPRINT`: the SHA-256 of the server certificate to pin.
    pub fn tls_fingerprint(&self) -> Option<&Fingerprint> {
        self.tls_fingerprint.as_ref()
    }

    /// Statement cache must be off behind a transaction pooler.
    pub fn statement_cache_disabled(&self) -> bool {
        self.target().is_pooler()
    }
}
