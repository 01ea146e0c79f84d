//! How a database URL is shown: the only rendering there is, with every secret replaced by
//! `****`. The list of secrets comes from libpq's own table of connection parameters
//! (`PQconninfoOptions` in `src/interfaces/libpq/fe-connect.c`, PostgreSQL 18; "Parameter Key
//! Words" in the libpq documentation), where libpq marks each value that a connection dialog
//! must hide.

use std::fmt;

use percent_encoding::percent_decode_str;
use url::Url;

/// libpq parameters whose value is a secret. libpq marks the first three `"*"` ("password
/// field — hide value"); the two SCRAM keys are marked `"D"` (debug) but are key material that
/// authenticates exactly like the password they were derived from.
pub const SECRET_PARAMS: &[&str] = &[
    "password",
    "sslpassword",
    "oauth_client_secret",
    "scram_client_key",
    "scram_server_key",
];

/// Parameters whose value is shown. Every other libpq parameter, each safe for the reason
/// given, plus the spellings sqlx and asyncpg add. A key in neither list is not a libpq
/// parameter: nothing says what it holds, so its value is masked too.
const SHOWN_PARAMS: &[&str] = &[
    // Where and as whom: the URL's authority and every diagnostic show them anyway.
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    // Names of files, services and libraries, never their contents: `passfile` names the
    // password file, `sslkey` the key file or an OpenSSL engine's key *identifier*,
    // `sslkeylogfile` where TLS key logs would be written.
    "passfile",
    "service",
    "sslcert",
    "sslkey",
    "sslrootcert",
    "ssl-ca",
    "sslcrl",
    "sslcrldir",
    "sslkeylogfile",
    "gsslib",
    "krbsrvname",
    // Modes, switches and numbers: values from a fixed list, or counts and durations.
    "sslmode",
    "ssl",
    "sslnegotiation",
    "sslcompression",
    "sslcertmode",
    "sslsni",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "gssencmode",
    "gssdelegation",
    "channel_binding",
    "require_auth",
    "requirepeer",
    "connect_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "target_session_attrs",
    "load_balance_hosts",
    "replication",
    "client_encoding",
    "statement-cache-capacity",
    // Labels and server settings, which the server shows to every session
    // (`pg_stat_activity.application_name`, `SHOW`).
    "application_name",
    "fallback_application_name",
    "options",
    // OAuth (PostgreSQL 18): the issuer's address, the public client id and the scopes are
    // identifiers, not credentials (the secret is `oauth_client_secret`).
    "oauth_issuer",
    "oauth_client_id",
    "oauth_scope",
];

const MASK: &str = "****";

/// Whether a query parameter's value may be shown.
fn shown_param(key: &str) -> bool {
    SHOWN_PARAMS.contains(&key)
}

/// Whether a key names a secret libpq parameter, in any case (maskers are generous).
pub(crate) fn is_secret_param(key: &str) -> bool {
    SECRET_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(key))
}

/// A parsed URL whose only rendering is masked: the user-info password, the value of every
/// parameter not known to be safe, and any fragment become `****`.
#[derive(Clone)]
pub(super) struct ShownUrl(Url);

impl ShownUrl {
    pub(super) fn new(url: Url) -> ShownUrl {
        ShownUrl(url)
    }

    /// The parsed URL, for reading its parts; never for printing.
    pub(super) fn parts(&self) -> &Url {
        &self.0
    }
}

impl fmt::Display for ShownUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(masked(&self.0).as_str())
    }
}

fn masked(url: &Url) -> Url {
    let mut shown = url.clone();
    if shown.password().is_some() {
        // Cannot fail: a URL with a password has a host to carry it.
        let _ = shown.set_password(Some(MASK));
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if v.is_empty() || shown_param(&k) {
                    v.into_owned()
                } else {
                    MASK.to_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        shown.set_query(None);
        if !pairs.is_empty() {
            shown.query_pairs_mut().extend_pairs(&pairs);
        }
    }
    if url.fragment().is_some_and(|f| !f.is_empty()) {
        shown.set_fragment(Some(MASK));
    }
    shown
}

/// Every secret a URL-shaped value carries, as written and percent-decoded: the user-info
/// password (the user info ends at the *last* `@` of the authority, as in the URL parser),
/// the values of [`SECRET_PARAMS`] and the fragment. A libpq `key=value` string is read too.
/// For maskers of text that may quote the value in any spelling.
pub fn url_secrets(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    // A URL starts with its scheme; anything else (a `://` inside a quoted password
    // included) is read as a connection string.
    let url = text
        .trim_start()
        .split_once("://")
        .filter(|(scheme, _)| is_scheme(scheme));
    match url {
        Some((scheme, rest)) => {
            let authority_end = rest
                .find(|c| authority_ends(scheme, c))
                .unwrap_or(rest.len());
            if let Some(span) = userinfo_password(&rest[..authority_end]) {
                found.push(rest[span].to_owned());
            }
            let tail = &rest[authority_end..];
            let (before_fragment, fragment) = tail.split_once('#').unwrap_or((tail, ""));
            if let Some((_, query)) = before_fragment.split_once('?') {
                for pair in query.split('&') {
                    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                    if is_secret_param(&form_decode(key)) {
                        found.push(value.to_owned());
                        found.push(form_decode(value));
                    }
                }
            }
            found.push(fragment.to_owned());
        }
        None => found.extend(conninfo_secrets(text)),
    }
    let decoded: Vec<String> = found.iter().map(|s| decode(s)).collect();
    found.extend(decoded);
    found.retain(|s| !s.is_empty());
    found.sort();
    found.dedup();
    found
}

/// A URL scheme: a letter, then letters, digits, `+`, `-` or `.`.
fn is_scheme(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Where the authority ends after `scheme://`: `/`, `?`, `#` (and `\` for the schemes the
/// URL standard calls special), as `url::Url` reads it.
pub fn authority_ends(scheme: &str, c: char) -> bool {
    const SPECIAL: &[&str] = &["http", "https", "ws", "wss", "ftp", "file"];
    matches!(c, '/' | '?' | '#')
        || (c == '\\' && SPECIAL.iter().any(|s| s.eq_ignore_ascii_case(scheme)))
}

/// The byte range of the password in an authority `user:password@host`: the user info is
/// everything before the authority's last `@`, the password what follows its first `:`.
pub fn userinfo_password(authority: &str) -> Option<std::ops::Range<usize>> {
    let at = authority.rfind('@')?;
    let colon = authority[..at].find(':')?;
    (colon + 1 < at).then_some(colon + 1..at)
}

/// `password=…` and the other secret keys of a libpq `key=value` connection string, read as
/// libpq reads it (`conninfo_parse` in `fe-connect.c`): white space around `=` is allowed, a
/// value may be single-quoted, and in a value, quoted or not, a backslash escapes the next
/// character (`'it\'s'` is `it's`). Both the value as written and as read are returned.
fn conninfo_secrets(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text.trim_start();
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq].trim();
        let after = rest[eq + 1..].trim_start();
        let (written, value, next) = conninfo_value(after);
        if is_secret_param(key) {
            found.push(written.to_owned());
            found.push(value);
        }
        rest = next.trim_start();
    }
    found
}

/// One value at the start of `text`: as written, as read (quotes and escapes removed), and
/// what follows it.
fn conninfo_value(text: &str) -> (&str, String, &str) {
    let quoted = text.starts_with('\'');
    let body = if quoted { &text[1..] } else { text };
    let mut value = String::new();
    let mut chars = body.char_indices();
    let mut end = body.len();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, next)) = chars.next() {
                    value.push(next);
                }
            }
            '\'' if quoted => {
                end = i;
                break;
            }
            c if !quoted && c.is_whitespace() => {
                end = i;
                break;
            }
            c => value.push(c),
        }
    }
    let next = body.get(end + usize::from(quoted)..).unwrap_or("");
    (&body[..end], value, next)
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// `application/x-www-form-urlencoded`, as query pairs are read: `+` is a space.
fn form_decode(s: &str) -> String {
    decode(&s.replace('+', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_libpq_parameter_is_classified_once() {
        for p in SECRET_PARAMS {
            assert!(!SHOWN_PARAMS.contains(p), "{p} is both secret and shown");
        }
        let mut all: Vec<_> = SHOWN_PARAMS.iter().chain(SECRET_PARAMS).collect();
        all.sort();
        let n = all.len();
        all.dedup();
        assert_eq!(all.len(), n, "a parameter is listed twice");
    }

    #[test]
    fn masked_rendering() {
        let url = Url::parse(
            "postgresql://u:pw@h:5/db?sslmode=require&sslpassword=k&x=y&application_name=a#frag",
        )
        .unwrap();
        assert_eq!(
            ShownUrl::new(url).to_string(),
            "postgresql://u:****@h:5/db?sslmode=require&sslpassword=****&x=****&application_name=a#****"
        );
    }

    #[test]
    fn secrets_of_urls_and_connection_strings() {
        assert_eq!(
            url_secrets("postgresql://u:p%40ss@w@h/db?sslpassword=a+b&host=x#f"),
            ["a b", "a+b", "f", "p%40ss@w", "p@ss@w"]
        );
        assert_eq!(
            url_secrets("host=h password='two words' sslpassword=k user=u"),
            ["k", "two words"]
        );
        assert!(url_secrets("https://example.com/path?q=1").is_empty());
        assert_eq!(url_secrets("host=h password='a://b'"), ["a://b"]);
        // libpq's quoting: spaces around `=`, escaped quotes and backslashes, quoted or not.
        assert_eq!(
            url_secrets(r"host=h password = 'it\'s a \\ pw' sslpassword=k\ ey user=u"),
            [r"it\'s a \\ pw", "it's a \\ pw", r"k\ ey", "k ey"]
                .iter()
                .map(|s| s.to_string())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
        );
    }
}
