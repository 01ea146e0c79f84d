//! `DATABASE_URL` (and `DATABASE_PUBLIC_URL`): parsed once into typed parts, with the TLS mode
//! decided by policy. The password lives in a `SecretString` from the moment it is read; the
//! URL itself is never kept: only its masked rendering (see `shown`), so no caller can print
//! an unmasked one.

mod parse;
mod policy;
mod query;
mod shown;

use std::fmt;
use std::path::PathBuf;

use secrecy::SecretString;

pub(crate) use shown::is_secret_param;
pub use shown::{SECRET_PARAMS, authority_ends, url_secrets, userinfo_password};

use super::host::HostClass;
use super::tls::{TlsMode, TlsSource};
use crate::problem::{Problems, has_errors};

/// What the URL says about where to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbHost {
    Tcp(String),
    /// Directory holding the server's unix socket.
    Socket(PathBuf),
}

impl fmt::Display for DbHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbHost::Tcp(h) => f.write_str(h),
            DbHost::Socket(p) => write!(f, "{}", p.display()),
        }
    }
}

/// A valid PostgreSQL URL. Constructed only by [`DatabaseUrl::parse`].
#[derive(Clone)]
pub struct DatabaseUrl {
    host: DbHost,
    port: u16,
    user: String,
    password: Option<SecretString>,
    database: String,
    class: HostClass,
    tls: TlsMode,
    tls_source: TlsSource,
    root_cert: Option<PathBuf>,
    application_name: Option<String>,
    options: Option<String>,
    /// The masked rendering, computed once.
    shown: String,
}

/// Facts from outside the URL that change how it is read.
#[derive(Debug, Clone, Default)]
pub struct UrlContext {
    /// `PGSSLROOTCERT`, used when the URL has no `sslrootcert`.
    pub pgsslrootcert: Option<PathBuf>,
    /// A valid `PGSSLMODE`, used (as libpq does) when the URL names no mode, unless it is
    /// weaker than the policy (that is reported as a `PGSSLMODE` problem).
    pub pgsslmode: Option<TlsMode>,
}

impl DatabaseUrl {
    /// Parses and applies the TLS policy. Problems (errors and warnings) are pushed to
    /// `problems`; `None` when any of them is an error.
    pub fn parse(text: &str, ctx: &UrlContext, problems: &mut Problems) -> Option<DatabaseUrl> {
        let start = problems.len();
        let parsed = parse::parse_inner(text.trim(), ctx, problems);
        if has_errors(&problems[start..]) {
            None
        } else {
            parsed
        }
    }

    pub fn host(&self) -> &DbHost {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn password(&self) -> Option<&SecretString> {
        self.password.as_ref()
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    pub fn class(&self) -> HostClass {
        self.class
    }

    /// The TLS mode in force: the URL's, or the policy's default, never weaker than policy.
    pub fn tls_mode(&self) -> TlsMode {
        self.tls
    }

    pub fn tls_source(&self) -> &TlsSource {
        &self.tls_source
    }

    pub fn root_cert(&self) -> Option<&PathBuf> {
        self.root_cert.as_ref()
    }

    pub fn application_name(&self) -> Option<&str> {
        self.application_name.as_deref()
    }

    pub fn options(&self) -> Option<&str> {
        self.options.as_deref()
    }

    /// A transaction-mode pooler (PgBouncer, Supabase's pooler on 6543): prepared statements
    /// break behind it, so the statement cache must be off.
    pub fn is_pooler(&self) -> bool {
        let host = self.host.to_string().to_ascii_lowercase();
        self.port == 6543 || host.contains("pgbouncer") || host.contains("pooler")
    }

    /// The URL with every secret replaced by `****` (the password, the values of libpq's
    /// secret parameters and of parameters libpq does not know): the only form there is.
    pub fn masked(&self) -> &str {
        &self.shown
    }

    /// A name that only looks local (`localhost`, `*.localhost`) under a mode that allows
    /// plaintext: the connection may go ahead only once every address the name resolves to
    /// is proven to be loopback.
    pub fn needs_local_proof(&self) -> bool {
        self.class == HostClass::LocalName && !self.tls.guarantees_encryption()
    }

    /// `host:port/database`, for diagnostics.
    pub fn endpoint(&self) -> String {
        format!("{}:{}/{}", self.host, self.port, self.database)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseUrl")
            .field("url", &self.shown)
            .field("class", &self.class)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}
