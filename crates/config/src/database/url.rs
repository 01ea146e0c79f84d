//! `DATABASE_URL` (and `DATABASE_PUBLIC_URL`): parsed once into typed parts, with the TLS mode
//! decided by policy. The password lives in a `SecretString` from the moment it is read and the
//! URL is only ever shown masked.

use std::fmt;
use std::path::PathBuf;

use percent_encoding::percent_decode_str;
use secrecy::SecretString;
use url::Url;

use super::host::HostClass;
use super::tls::{ALL_MODES, TlsMode, TlsSource};
use crate::problem::{Problem, Problems, has_errors};

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
    masked: String,
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

const URL_SHAPE: &str = "postgresql://USER:PASSWORD@HOST:PORT/DATABASE";

impl DatabaseUrl {
    /// Parses and applies the TLS policy. Problems (errors and warnings) are pushed to
    /// `problems`; `None` when any of them is an error.
    pub fn parse(text: &str, ctx: &UrlContext, problems: &mut Problems) -> Option<DatabaseUrl> {
        let start = problems.len();
        let parsed = parse_inner(text.trim(), ctx, problems);
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

    /// The URL with its password replaced by `****`: the only form that is ever shown.
    pub fn masked(&self) -> &str {
        &self.masked
    }

    /// `host:port/database`, for diagnostics.
    pub fn endpoint(&self) -> String {
        format!("{}:{}/{}", self.host, self.port, self.database)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseUrl")
            .field("url", &self.masked)
            .field("class", &self.class)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked)
    }
}

#[derive(Default)]
struct Query {
    sslmode: Option<String>,
    ssl: Option<String>,
    sslrootcert: Option<String>,
    host: Option<String>,
    port: Option<String>,
    user: Option<String>,
    password: Option<String>,
    dbname: Option<String>,
    application_name: Option<String>,
    options: Option<String>,
}

fn parse_inner(text: &str, ctx: &UrlContext, problems: &mut Problems) -> Option<DatabaseUrl> {
    // Never echo the text itself in these first checks: it may carry the password.
    if text.contains("${{") {
        problems.push(
            Problem::error("unresolved_reference", "contains an unresolved Railway reference `${{…}}`")
                .hint("in Railway, set it to the database service's variable, e.g. `${{Postgres.DATABASE_URL}}`, and check that the service name matches"),
        );
        return None;
    }
    let url = match Url::parse(text) {
        Ok(url) => url,
        Err(e) => {
            problems.push(
                Problem::error("syntax", format!("is not a valid URL ({e})"))
                    .hint(format!("use the form {URL_SHAPE}")),
            );
            return None;
        }
    };
    let masked = mask(&url);
    if !matches!(url.scheme(), "postgres" | "postgresql") {
        problems.push(
            Problem::error(
                "scheme",
                format!("scheme `{}` is not PostgreSQL", url.scheme()),
            )
            .hint(format!("use the form {URL_SHAPE}")),
        );
        return None;
    }

    let mut q = Query::default();
    for (key, value) in url.query_pairs() {
        let value = value.into_owned();
        let slot = match &*key {
            "sslmode" => &mut q.sslmode,
            "ssl" => &mut q.ssl,
            "sslrootcert" | "ssl-ca" => &mut q.sslrootcert,
            "host" => &mut q.host,
            "port" => &mut q.port,
            "user" => &mut q.user,
            "password" => &mut q.password,
            "dbname" => &mut q.dbname,
            "application_name" => &mut q.application_name,
            "options" => &mut q.options,
            other => {
                problems.push(
                    Problem::warning(
                        "parameter",
                        format!("parameter `{other}` is not used and will be ignored"),
                    )
                    .hint("remove it from the URL"),
                );
                continue;
            }
        };
        *slot = Some(value);
    }

    let host = match q.host.clone().or_else(|| url.host_str().map(decode)) {
        Some(h) if h.starts_with('/') => Some(DbHost::Socket(PathBuf::from(h))),
        Some(h) if !h.is_empty() => Some(DbHost::Tcp(
            h.trim_start_matches('[').trim_end_matches(']').to_owned(),
        )),
        _ => None,
    };
    let Some(host) = host else {
        problems
            .push(Problem::error("host", "has no host").hint(format!("use the form {URL_SHAPE}")));
        return None;
    };
    let port = match &q.port {
        Some(p) => p.parse::<u16>().ok().filter(|p| *p != 0),
        None => Some(url.port().unwrap_or(5432)).filter(|p| *p != 0),
    };
    let user = q.user.clone().unwrap_or_else(|| decode(url.username()));
    let database = q
        .dbname
        .clone()
        .unwrap_or_else(|| decode(url.path().trim_start_matches('/')));
    let password = q.password.clone().or_else(|| url.password().map(decode));

    let mut missing = Vec::new();
    if port.is_none() {
        missing.push(
            Problem::error("port", "has an invalid port")
                .hint("use a port from 1 to 65535 (PostgreSQL's default is 5432)"),
        );
    }
    if user.is_empty() {
        missing.push(
            Problem::error("user", "has no user name").hint(format!("use the form {URL_SHAPE}")),
        );
    }
    if database.is_empty() {
        missing.push(
            Problem::error("database", "names no database")
                .hint(format!("use the form {URL_SHAPE}")),
        );
    }
    if !missing.is_empty() {
        problems.extend(missing);
        return None;
    }

    let class = HostClass::classify(&host.to_string());
    let (tls, tls_source) = tls_policy(&q, &host, class, &url, ctx.pgsslmode, problems)?;

    let root_cert = q
        .sslrootcert
        .map(PathBuf::from)
        .or_else(|| ctx.pgsslrootcert.clone());
    if tls.verifies_certificate() {
        if let Some(path) = root_cert.as_ref().filter(|p| !p.exists()) {
            problems.push(
                Problem::error(
                    "sslrootcert",
                    format!("root certificate `{}` (sslrootcert / PGSSLROOTCERT) does not exist", path.display()),
                )
                .hint("point sslrootcert at the PEM file of the CA that signed the server's certificate"),
            );
        }
        if class.is_railway() {
            problems.push(
                Problem::warning("railway_verify", format!("`{tls}` cannot succeed against Railway: its PostgreSQL certificate is self-signed and flagged CA:TRUE, which rustls rejects (UnknownIssuer / CaUsedAsEndEntity)"))
                    .hint("use `sslmode=require` and pin the certificate with DATABASE_TLS_FINGERPRINT"),
            );
        }
    }

    if matches!(host, DbHost::Socket(_)) && tls.guarantees_encryption() {
        problems.push(
            Problem::error(
                "tls_socket",
                format!("`{tls}` over a unix socket always fails: the driver cannot negotiate TLS on a socket"),
            )
            .hint("connect over TCP (host=localhost) or use `sslmode=disable` for a local socket"),
        );
    }

    Some(DatabaseUrl {
        host,
        port: port?,
        user,
        password: password.map(SecretString::from),
        database,
        class,
        tls,
        tls_source,
        root_cert,
        application_name: q.application_name,
        options: q.options,
        masked,
    })
}

/// The one place the URL's TLS request meets the policy: remote hosts get `require` at least.
fn tls_policy(
    q: &Query,
    host: &DbHost,
    class: HostClass,
    url: &Url,
    pgsslmode: Option<TlsMode>,
    problems: &mut Problems,
) -> Option<(TlsMode, TlsSource)> {
    let sslmode = match &q.sslmode {
        None => None,
        Some(v) => match TlsMode::parse_sslmode(v) {
            Some(mode) => Some((mode, TlsSource::SslMode(v.clone()))),
            None => {
                problems.push(
                    Problem::error("tls_value", format!("`sslmode={v}` is not a TLS mode"))
                        .hint(format!("use {ALL_MODES}")),
                );
                return None;
            }
        },
    };
    let ssl = match &q.ssl {
        None => None,
        Some(v) => match TlsMode::parse_asyncpg(v) {
            Some(mode) => Some((mode, TlsSource::Ssl(v.clone()))),
            None => {
                problems.push(
                    Problem::error("tls_value", format!("`ssl={v}` is not a TLS mode"))
                        .hint(format!("use `sslmode=` with {ALL_MODES}")),
                );
                return None;
            }
        },
    };
    let requested = match (sslmode, ssl) {
        (Some(a), Some(b)) if a.0 != b.0 => {
            problems.push(
                Problem::error(
                    "tls_conflict",
                    format!("{} and {} ask for different TLS modes", a.1, b.1),
                )
                .hint(format!(
                    "keep one parameter: {}",
                    corrected_url(url, a.0.max(b.0).max(TlsMode::Require))
                )),
            );
            return None;
        }
        (a, b) => a.or(b),
    };
    let floor = if class.is_remote() {
        TlsMode::Require
    } else {
        TlsMode::Disable
    };
    let from_env = pgsslmode
        .filter(|m| *m >= floor)
        .map(|m| (m, TlsSource::Environment));
    let default = if class.is_remote() {
        TlsMode::Require
    } else {
        TlsMode::Prefer
    };
    let (mode, source) = requested
        .or(from_env)
        .unwrap_or((default, TlsSource::Default));
    if class.is_remote() && !mode.guarantees_encryption() {
        let what = match mode {
            TlsMode::Prefer => "lets the connection fall back to plaintext silently",
            _ => "turns TLS off",
        };
        problems.push(
            Problem::error(
                "tls",
                format!(
                    "{source} {what} for remote host `{host}` ({class}). Railway's PostgreSQL must be reached over TLS: its proxy resets plaintext connections, which is the `Connection reset by peer` that stopped the deploy"
                ),
            )
            .hint(format!("use {}", corrected_url(url, TlsMode::Require))),
        );
        return None;
    }
    Some((mode, source))
}

/// The URL with its TLS parameters replaced by `sslmode=<mode>`, password masked.
fn corrected_url(url: &Url, mode: TlsMode) -> String {
    let mut fixed = url.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "ssl" && k != "sslmode")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    fixed.set_query(None);
    {
        let mut pairs = fixed.query_pairs_mut();
        for (k, v) in &kept {
            pairs.append_pair(k, v);
        }
        pairs.append_pair("sslmode", mode.as_str());
    }
    mask(&fixed)
}

/// Replaces the password (in the user-info or a `password=` parameter) by `****`.
fn mask(url: &Url) -> String {
    let mut masked = url.clone();
    if masked.password().is_some() {
        // Cannot fail: the URL already has a host to carry a password.
        let _ = masked.set_password(Some("****"));
    }
    if url.query_pairs().any(|(k, _)| k == "password") {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "password" {
                    "****".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        masked.set_query(None);
        let mut q = masked.query_pairs_mut();
        for (k, v) in &pairs {
            q.append_pair(k, v);
        }
    }
    masked.to_string()
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}
