//! The database part of the settings: which URL to connect to, with which TLS mode, pool
//! size and time budget.

mod checks;
mod direct;
mod fingerprint;
mod host;
mod pool_mode;
mod tls;
mod url;

use std::time::Duration;

pub use direct::NoDirectRoute;
pub use fingerprint::Fingerprint;
pub use host::HostClass;
pub use pool_mode::PoolMode;
pub use tls::{TlsMode, TlsSource};
pub use url::{
    DatabaseUrl, DbHost, SECRET_PARAMS, UrlContext, authority_ends, url_secrets, userinfo_password,
};

pub(crate) use checks::check_database;
pub(crate) use direct::check_migration_route;
pub(crate) use url::is_secret_param;

use crate::report::{Check, Status};

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
    /// `DATABASE_DIRECT_URL`: the database itself, for migrations (see `direct`).
    pub(crate) direct_url: Option<DatabaseUrl>,
    /// `DATABASE_POOL_MODE`; `None` when unset (no pooler declared).
    pub(crate) pool_mode: Option<PoolMode>,
    /// Whether this process can reach the direct URL (not a Railway-private host from outside).
    pub(crate) direct_reachable: bool,
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

    /// Statement cache must be off behind a transaction pooler: declared
    /// (`DATABASE_POOL_MODE`), or, when nothing is declared, guessed from the URL.
    pub fn statement_cache_disabled(&self) -> bool {
        match self.pool_mode {
            Some(mode) => mode == PoolMode::Transaction,
            None => self.target().is_pooler(),
        }
    }

    /// The variable that holds the connection target.
    pub fn target_variable(&self) -> &'static str {
        match self.target_choice() {
            TargetChoice::PublicUrl if self.public_url.is_some() => "DATABASE_PUBLIC_URL",
            _ => "DATABASE_URL",
        }
    }

    /// For checks that do not resolve names (`verify --offline`): a warning when the target
    /// only *looks* local, so its plaintext permission could not be proven.
    pub fn unproven_locality(&self) -> Option<Check> {
        let url = self.target();
        if !url.needs_local_proof() {
            return None;
        }
        let var = self.target_variable();
        let message = format!(
            "`{}` looks local, but only resolving it can prove that every address it names is loopback; not checked offline, so `{}` is not yet known to be safe",
            url.host(),
            url.tls_mode()
        );
        Some(
            Check::new(format!("{}.locality", var.to_ascii_lowercase()), Status::Warn, message)
                .variable(var)
                .hint("run `cargo xtask verify` without --offline (a name that resolves to anything but loopback is refused), or use `sslmode=require`"),
        )
    }
}
