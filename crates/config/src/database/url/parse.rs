//! Reading a database URL, step by step: syntax, query, parts, TLS policy, certificate files.
//! No step ever quotes the URL itself: only its masked rendering or non-secret parts.

use std::path::{Path, PathBuf};

use percent_encoding::percent_decode_str;
use secrecy::SecretString;
use url::Url;

use super::policy::tls_policy;
use super::query::Query;
use super::shown::ShownUrl;
use super::{DatabaseUrl, DbHost, UrlContext};
use crate::database::host::HostClass;
use crate::database::tls::TlsMode;
use crate::problem::{Problem, Problems};

const URL_SHAPE: &str = "postgresql://USER:PASSWORD@HOST:PORT/DATABASE";

pub(super) fn parse_inner(
    text: &str,
    ctx: &UrlContext,
    problems: &mut Problems,
) -> Option<DatabaseUrl> {
    let url = syntax(text, problems)?;
    let q = Query::collect(url.parts(), problems);
    // Whatever else is wrong with the parts, a host is enough to apply the TLS policy.
    let parts = Parts::read(url.parts(), &q, problems)?;
    let class = HostClass::classify(&parts.host.to_string());
    let (tls, tls_source) = tls_policy(&q, &parts.host, class, &url, ctx.pgsslmode, problems)?;
    let (port, user, database) = (parts.port?, parts.user?, parts.database?);
    let root_cert = q
        .sslrootcert
        .map(PathBuf::from)
        .or_else(|| ctx.pgsslrootcert.clone());
    verification_checks(tls, class, root_cert.as_deref(), problems);
    socket_check(&parts.host, tls, problems);
    Some(DatabaseUrl {
        host: parts.host,
        port,
        user,
        password: parts.password.map(SecretString::from),
        database,
        class,
        tls,
        tls_source,
        root_cert,
        application_name: q.application_name,
        options: q.options,
        shown: url.to_string(),
    })
}

/// A PostgreSQL URL with every reference resolved; never echoes the text (it may carry the
/// password).
fn syntax(text: &str, problems: &mut Problems) -> Option<ShownUrl> {
    if text.contains("${{") {
        problems.push(
            Problem::error("unresolved_reference", "contains an unresolved Railway reference `${{…}}`")
                .hint("in Railway, set it to the database service's variable, e.g. `${{Postgres.DATABASE_URL}}`, and check that the service name matches"),
        );
        return None;
    }
    let url = match Url::parse(text) {
        Ok(url) => ShownUrl::new(url),
        Err(e) => {
            problems.push(
                Problem::error("syntax", format!("is not a valid URL ({e})"))
                    .hint(format!("use the form {URL_SHAPE}")),
            );
            return None;
        }
    };
    let scheme = url.parts().scheme();
    if !matches!(scheme, "postgres" | "postgresql") {
        problems.push(
            Problem::error("scheme", format!("scheme `{scheme}` is not PostgreSQL"))
                .hint(format!("use the form {URL_SHAPE}")),
        );
        return None;
    }
    Some(url)
}

/// Where to connect and as whom, query parameters winning over the URL's own parts. A part
/// with a problem is `None` (the problem is recorded); the host is always there.
struct Parts {
    host: DbHost,
    port: Option<u16>,
    user: Option<String>,
    password: Option<String>,
    database: Option<String>,
}

impl Parts {
    fn read(url: &Url, q: &Query, problems: &mut Problems) -> Option<Parts> {
        let host = match q.host.clone().or_else(|| url.host_str().map(decode)) {
            Some(h) if h.starts_with('/') => Some(DbHost::Socket(PathBuf::from(h))),
            Some(h) if !h.is_empty() => Some(DbHost::Tcp(
                h.trim_start_matches('[').trim_end_matches(']').to_owned(),
            )),
            _ => None,
        };
        let Some(host) = host else {
            problems.push(
                Problem::error("host", "has no host").hint(format!("use the form {URL_SHAPE}")),
            );
            return None;
        };
        let port = match &q.port {
            Some(p) => p.parse::<u16>().ok(),
            None => Some(url.port().unwrap_or(5432)),
        }
        .filter(|p| *p != 0);
        let user = q.user.clone().unwrap_or_else(|| decode(url.username()));
        let database = q
            .dbname
            .clone()
            .unwrap_or_else(|| decode(url.path().trim_start_matches('/')));

        if port.is_none() {
            problems.push(
                Problem::error("port", "has an invalid port")
                    .hint("use a port from 1 to 65535 (PostgreSQL's default is 5432)"),
            );
        }
        if user.is_empty() {
            problems.push(
                Problem::error("user", "has no user name")
                    .hint(format!("use the form {URL_SHAPE}")),
            );
        }
        if database.is_empty() {
            problems.push(
                Problem::error("database", "names no database")
                    .hint(format!("use the form {URL_SHAPE}")),
            );
        }
        let host_text = host.to_string();
        let printable = [
            ("host", host_text.as_str()),
            ("user name", user.as_str()),
            ("database name", database.as_str()),
            (
                "application_name",
                q.application_name.as_deref().unwrap_or(""),
            ),
            ("options", q.options.as_deref().unwrap_or("")),
            ("sslrootcert", q.sslrootcert.as_deref().unwrap_or("")),
        ];
        let mut clean = true;
        for (part, value) in printable {
            clean &= reject_control(part, value, problems);
        }
        let usable = |text: String| Some(text).filter(|t| clean && !t.is_empty());
        Some(Parts {
            host,
            port,
            user: usable(user),
            password: q.password.clone().or_else(|| url.password().map(decode)),
            database: usable(database),
        })
    }
}

/// Parts that end up in messages and on terminals may not hide terminal controls; a real
/// host, user, database or file name never contains one.
fn reject_control(part: &str, value: &str, problems: &mut Problems) -> bool {
    let clean = !value.chars().any(char::is_control);
    if !clean {
        problems.push(
            Problem::error(
                "control",
                format!("the {part} contains a control character (escape sequence, CR, LF or NUL)"),
            )
            .hint(format!("remove it: a {part} never contains one")),
        );
    }
    clean
}

/// `verify-ca`/`verify-full` need a root that exists, and cannot pass against Railway.
fn verification_checks(
    tls: TlsMode,
    class: HostClass,
    root_cert: Option<&Path>,
    problems: &mut Problems,
) {
    if !tls.verifies_certificate() {
        return;
    }
    if let Some(path) = root_cert.filter(|p| !p.exists()) {
        problems.push(
            Problem::error(
                "sslrootcert",
                format!(
                    "root certificate `{}` (sslrootcert / PGSSLROOTCERT) does not exist",
                    path.display()
                ),
            )
            .hint(
                "point sslrootcert at the PEM file of the CA that signed the server's certificate",
            ),
        );
    }
    if class.is_railway() {
        problems.push(
            Problem::warning("railway_verify", format!("`{tls}` cannot succeed against Railway: its PostgreSQL certificate is self-signed and flagged CA:TRUE, which rustls rejects (UnknownIssuer / CaUsedAsEndEntity)"))
                .hint("use `sslmode=require` and pin the certificate with DATABASE_TLS_FINGERPRINT"),
        );
    }
}

fn socket_check(host: &DbHost, tls: TlsMode, problems: &mut Problems) {
    if matches!(host, DbHost::Socket(_)) && tls.guarantees_encryption() {
        problems.push(
            Problem::error(
                "tls_socket",
                format!("`{tls}` over a unix socket always fails: the driver cannot negotiate TLS on a socket"),
            )
            .hint("connect over TCP (host=localhost) or use `sslmode=disable` for a local socket"),
        );
    }
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}
