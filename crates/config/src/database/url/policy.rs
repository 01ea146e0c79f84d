//! The one place a URL's TLS request meets the policy: hosts that are not local get
//! `require` at least.

use super::DbHost;
use super::query::Query;
use super::shown::ShownUrl;
use crate::database::host::HostClass;
use crate::database::tls::{ALL_MODES, TlsMode, TlsSource};
use crate::problem::{Problem, Problems};

/// The mode in force and where it came from; `None` when a problem was pushed.
pub(super) fn tls_policy(
    q: &Query,
    host: &DbHost,
    class: HostClass,
    url: &ShownUrl,
    pgsslmode: Option<TlsMode>,
    problems: &mut Problems,
) -> Option<(TlsMode, TlsSource)> {
    let requested = requested(q, url, problems)?;
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

/// What the URL itself asks for, from `sslmode=` or asyncpg's `ssl=`: `Some(None)` when it
/// names no mode, `None` when a problem was pushed.
fn requested(
    q: &Query,
    url: &ShownUrl,
    problems: &mut Problems,
) -> Option<Option<(TlsMode, TlsSource)>> {
    let sslmode = mode_of(
        q.sslmode.as_deref(),
        "sslmode",
        TlsMode::parse_sslmode,
        TlsSource::SslMode,
        problems,
    )?;
    let ssl = mode_of(
        q.ssl.as_deref(),
        "ssl",
        TlsMode::parse_asyncpg,
        TlsSource::Ssl,
        problems,
    )?;
    match (sslmode, ssl) {
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
            None
        }
        (a, b) => Some(a.or(b)),
    }
}

/// One TLS parameter's value read by `parse`: `Some(None)` when absent, `None` when a
/// problem was pushed.
fn mode_of(
    value: Option<&str>,
    key: &str,
    parse: fn(&str) -> Option<TlsMode>,
    source: fn(String) -> TlsSource,
    problems: &mut Problems,
) -> Option<Option<(TlsMode, TlsSource)>> {
    let Some(v) = value else {
        return Some(None);
    };
    match parse(v) {
        Some(mode) => Some(Some((mode, source(v.to_owned())))),
        None => {
            let hint = match key {
                "sslmode" => format!("use {ALL_MODES}"),
                _ => format!("use `sslmode=` with {ALL_MODES}"),
            };
            problems.push(
                Problem::error("tls_value", format!("`{key}={v}` is not a TLS mode")).hint(hint),
            );
            None
        }
    }
}

/// The URL with its TLS parameters replaced by `sslmode=<mode>`, shown masked.
fn corrected_url(url: &ShownUrl, mode: TlsMode) -> String {
    let raw = url.parts();
    let mut fixed = raw.clone();
    let kept: Vec<(String, String)> = raw
        .query_pairs()
        .filter(|(k, _)| k != "ssl" && k != "sslmode")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    fixed.set_query(None);
    fixed
        .query_pairs_mut()
        .extend_pairs(&kept)
        .append_pair("sslmode", mode.as_str());
    ShownUrl::new(fixed).to_string()
}
