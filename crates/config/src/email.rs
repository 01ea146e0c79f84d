//! Outbound email through Resend's HTTPS API (SMTP is blocked on Railway's small plans).

use std::fmt;

use secrecy::SecretString;
use url::Url;

use crate::checker::Checker;
use crate::echo::shown_url;
use crate::environment::Environment;
use crate::http::credentials;
use crate::problem::Problem;

/// Resend's API, when `RESEND_API_URL` is not set.
pub(crate) const DEFAULT_RESEND_API_URL: &str = "https://api.resend.com";

/// `FROM_EMAIL`: `Name <local@domain>` or `local@domain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    name: Option<String>,
    address: String,
}

impl Mailbox {
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    pub fn address(&self) -> &str {
        &self.address
    }
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name} <{}>", self.address),
            None => f.write_str(&self.address),
        }
    }
}

impl std::str::FromStr for Mailbox {
    type Err = Problem;

    fn from_str(s: &str) -> Result<Mailbox, Problem> {
        let s = s.trim();
        let bad = || {
            Problem::error("format", format!("`{s}` is not an email address"))
                .hint("use `INTOWORK <noreply@your-domain.com>` or `noreply@your-domain.com`")
        };
        let (name, address) = match (s.find('<'), s.strip_suffix('>')) {
            (Some(open), Some(inner)) => {
                let name = s[..open].trim().trim_matches('"').trim();
                (Some(name).filter(|n| !n.is_empty()), &inner[open + 1..])
            }
            (None, None) => (None, s),
            _ => return Err(bad()),
        };
        if name.is_some_and(|n| n.contains(['<', '>'])) || !valid_address(address) {
            return Err(bad());
        }
        Ok(Mailbox {
            name: name.map(str::to_owned),
            address: address.to_owned(),
        })
    }
}

fn valid_address(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

/// `RESEND_API_KEY` must look like one of Resend's keys.
pub fn parse_resend_key(text: &str) -> Result<SecretString, Problem> {
    let key = text.trim();
    if key.len() > 3 && key.starts_with("re_") {
        Ok(SecretString::from(key.to_owned()))
    } else {
        Err(Problem::error(
            "format",
            "is not a Resend API key: it must start with `re_`",
        )
        .hint("copy the API key from Resend's dashboard (API Keys)"))
    }
}

/// `RESEND_API_URL`: the base URL `POST /emails` is sent to. The API key travels in a header,
/// so production requires https; plain http is for a local stand-in (tests, development).
/// Returned without a trailing slash, so `{url}/emails` is the endpoint.
pub fn parse_resend_api_url(text: &str, env: Environment) -> Result<Url, Problem> {
    let text = text.trim();
    let hint = format!("leave it unset for Resend's API ({DEFAULT_RESEND_API_URL})");
    let mut url = match Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => url,
        _ => {
            return Err(Problem::error(
                "url",
                format!("`{}` is not an absolute http(s) URL", shown_url(text)),
            )
            .hint(hint));
        }
    };
    if let Some(p) = credentials(&url, "the API key goes in RESEND_API_KEY") {
        return Err(p);
    }
    let shown = shown_url(url.as_str()).into_owned();
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Problem::error(
            "url",
            format!("`{shown}` has a query or fragment; only a base URL is expected"),
        )
        .hint(hint));
    }
    if env.is_production() && url.scheme() != "https" {
        return Err(
            Problem::error("insecure", format!("`{shown}` is not https in production")).hint(
                format!("use `{}`", shown.replacen("http://", "https://", 1)),
            ),
        );
    }
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&path);
    Ok(url)
}

/// `Some(url)` (the default when unset), `None` when a problem was recorded.
pub(crate) fn check_resend_api_url(ck: &mut Checker<'_>, env: Environment) -> Option<Url> {
    const VAR: &str = "RESEND_API_URL";
    let Some(text) = ck.text(VAR) else {
        return (!ck.failed(VAR))
            .then(|| Url::parse(DEFAULT_RESEND_API_URL).expect("the default Resend URL parses"));
    };
    match parse_resend_api_url(text, env) {
        Ok(url) => {
            ck.pass(VAR, format!("email is sent to `{url}/emails`"));
            Some(url)
        }
        Err(p) => {
            ck.record_all(VAR, vec![p]);
            None
        }
    }
}

/// Email is on when `RESEND_API_KEY` is set.
#[derive(Clone)]
pub struct EmailSettings {
    pub(crate) resend_api_key: SecretString,
    pub(crate) from: Mailbox,
    pub(crate) api_url: Url,
}

impl EmailSettings {
    pub fn resend_api_key(&self) -> &SecretString {
        &self.resend_api_key
    }

    /// `RESEND_API_URL` without a trailing slash (Resend's API by default).
    pub fn api_url(&self) -> &Url {
        &self.api_url
    }

    pub fn from(&self) -> &Mailbox {
        &self.from
    }
}

impl fmt::Debug for EmailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailSettings")
            .field("resend_api_key", &"re_****")
            .field("from", &self.from)
            .field("api_url", &self.api_url.as_str())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_table() {
        let ok = [
            ("noreply@intowork.app", None, "noreply@intowork.app"),
            (
                "INTOWORK <noreply@intowork.app>",
                Some("INTOWORK"),
                "noreply@intowork.app",
            ),
            (
                "\"Into Work\" <a.b+c@mail.intowork.app>",
                Some("Into Work"),
                "a.b+c@mail.intowork.app",
            ),
            ("<x@y.io>", None, "x@y.io"),
        ];
        for (input, name, address) in ok {
            let m: Mailbox = input.parse().unwrap_or_else(|e| panic!("{input}: {e:?}"));
            assert_eq!((m.name(), m.address()), (name, address), "{input}");
        }
        for bad in [
            "",
            "noreply",
            "a@b",
            "a@@b.com",
            "@b.com",
            "a..b@c.com",
            "Name <a@b.com",
            "Name a@b.com>",
            "a@-b.com",
            "a b@c.com",
            "N<x> <a@b.com>",
        ] {
            assert!(bad.parse::<Mailbox>().is_err(), "{bad}");
        }
    }

    #[test]
    fn resend_api_url_rules() {
        let dev = Environment::Development;
        let prod = Environment::Production;
        let ok = |text, env| parse_resend_api_url(text, env).map(|u| u.to_string());
        assert_eq!(
            ok("https://api.resend.com", prod).unwrap(),
            "https://api.resend.com/"
        );
        assert_eq!(
            ok("http://127.0.0.1:4010/v1/", dev).unwrap(),
            "http://127.0.0.1:4010/v1"
        );
        let check = |text, env| parse_resend_api_url(text, env).unwrap_err().check;
        assert_eq!(check("http://127.0.0.1:4010", prod), "insecure");
        assert_eq!(check("api.resend.com", dev), "url");
        assert_eq!(check("ftp://api.resend.com", dev), "url");
        assert_eq!(check("https://api.resend.com/?x=1", dev), "url");
        let creds = parse_resend_api_url("https://u:re_pw@api.resend.com", dev).unwrap_err();
        assert_eq!(creds.check, "credentials");
        assert!(!creds.message.contains("re_pw"), "{creds:?}");
    }

    #[test]
    fn resend_key_prefix() {
        assert!(parse_resend_key("re_123abc").is_ok());
        assert!(parse_resend_key("re_").is_err());
        assert!(parse_resend_key("sk_live_123").is_err());
    }
}
