//! URL-valued variables read the two ways the platform gives them: rendered (what the
//! service sees), and as written, where a `${{…}}` reference in the host's place says *why*
//! the host is what it is (`https://${{backend.RAILWAY_PUBLIC_DOMAIN}}` follows that
//! service's domain wherever it moves). Decisions are taken on the rendered value; the
//! written one names the reference in the message and keeps it in the fix.

use intowork_config::{carries_credentials, shown_url};
use url::Url;

use crate::verify::remote::references::{self, Reference};

/// A rendered URL's parts that the checks compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Address {
    pub(crate) scheme: String,
    /// Lowercase, without a trailing dot.
    pub(crate) host: String,
    /// Path and query as written after the host (`""` for none, `/` dropped), for a fix:
    /// each query value a placeholder (`?sig=<sig>`), the fragment and the user-info left
    /// out — a value of the platform never reaches a command line printed for people.
    pub(crate) rest: String,
    /// A user-info or a secret-named query parameter (the configuration's `credentials` rule).
    pub(crate) credentials: bool,
}

/// `value` as an absolute http(s) URL, or why it is not one (quoting it as it may be shown:
/// [`shown_url`], no user-info, query values masked).
pub(crate) fn address(value: &str) -> Result<Address, String> {
    let value = value.trim();
    let shown = shown_url(value);
    let url = Url::parse(value).map_err(|e| format!("`{shown}` is not an absolute URL ({e})"))?;
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("`{shown}` names no host"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("`{shown}` is not an http(s) URL"));
    }
    let mut rest = url.path().trim_end_matches('/').to_owned();
    if url.query().is_some() {
        let pairs: Vec<String> = url
            .query_pairs()
            .map(|(k, _)| format!("{k}=<{k}>"))
            .collect();
        rest.push('?');
        rest.push_str(&pairs.join("&"));
    }
    Ok(Address {
        scheme: url.scheme().to_owned(),
        host: host.trim_end_matches('.').to_ascii_lowercase(),
        rest,
        credentials: carries_credentials(&url),
    })
}

/// How a URL variable is quoted in a message: as it renders, after what is written when that
/// holds a reference; both through [`shown_url`].
pub(crate) fn said(rendered: &str, written: Option<&str>) -> String {
    let rendered = shown_url(rendered.trim());
    match written {
        Some(w) => format!("`{}` (renders `{rendered}`)", shown_url(w.trim())),
        None => format!("`{rendered}`"),
    }
}

/// `scheme://host[:port]` as browsers send it in `Origin` (`None`: not an origin at all).
pub(crate) fn origin(entry: &str) -> Option<String> {
    let url = Url::parse(entry.trim()).ok()?;
    url.host_str()?;
    Some(url.origin().ascii_serialization())
}

/// Whether a host is a private-network name: resolvable only inside Railway.
pub(crate) fn is_private(host: &str) -> bool {
    host == "railway.internal" || host.ends_with(".railway.internal")
}

/// What a written value puts in the host's place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostRef {
    /// `${{S.RAILWAY_PUBLIC_DOMAIN}}`: service S's public domain.
    Public(String),
    /// `${{S.RAILWAY_PRIVATE_DOMAIN}}`: service S's private-network name.
    Private(String),
    /// Another reference (a shared variable, …): only its rendering tells.
    Other(Reference),
}

impl HostRef {
    /// The reference in the host's place of `written` (`scheme://${{…}}…`), if any; `owner`
    /// is the service whose variable it is (`${{RAILWAY_PUBLIC_DOMAIN}}` names its own).
    pub(crate) fn of(written: &str, owner: &str) -> Option<(HostRef, String)> {
        let after = written
            .trim()
            .split_once("://")
            .map_or(written.trim(), |(_, a)| a);
        if !after.starts_with("${{") {
            return None;
        }
        let end = after.find("}}")? + 2;
        let reference = references::parse(&after[..end]).into_iter().next()?;
        let (service, name) = match &reference {
            Reference::Service { service, name } => (service.clone(), name.as_str()),
            Reference::Own(name) => (owner.to_owned(), name.as_str()),
            Reference::Shared(_) => {
                return Some((HostRef::Other(reference.clone()), reference.to_string()));
            }
        };
        let text = reference.to_string();
        Some(match name {
            "RAILWAY_PUBLIC_DOMAIN" => (HostRef::Public(service), text),
            "RAILWAY_PRIVATE_DOMAIN" => (HostRef::Private(service), text),
            _ => (HostRef::Other(reference), text),
        })
    }

    /// Whether this reference names service `name` (as the project spells it; Railway's
    /// references are matched the same way the CLI matches service names: ignoring case).
    pub(crate) fn names(service: &str, name: &str) -> bool {
        service.eq_ignore_ascii_case(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_keep_what_a_fix_must_keep() {
        let a = address(" HTTPS://API.Example.com./v1/?x=1 ").unwrap();
        assert_eq!(
            (a.scheme.as_str(), a.host.as_str(), a.rest.as_str()),
            ("https", "api.example.com", "/v1?x=<x>")
        );
        assert!(!a.credentials);
        let a = address("https://u:p@app.example.com/w?sig=abc#frag").unwrap();
        assert_eq!((a.rest.as_str(), a.credentials), ("/w?sig=<sig>", true));
        assert_eq!(address("https://api.example.com/").unwrap().rest, "");
        assert!(address("api.example.com").is_err());
        assert!(address("https://").is_err());
        assert!(address("ftp://api.example.com").is_err());
        assert_eq!(
            origin("https://App.Example.com:443").as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(origin("*"), None);
        assert!(is_private("backend.railway.internal") && !is_private("railway.internal.example"));
    }

    #[test]
    fn the_reference_in_the_hosts_place_is_understood() {
        let of = |w: &str| HostRef::of(w, "frontend").map(|(r, _)| r);
        assert_eq!(
            of("https://${{backend.RAILWAY_PUBLIC_DOMAIN}}/api"),
            Some(HostRef::Public("backend".into()))
        );
        assert_eq!(
            of("http://${{ Backend.RAILWAY_PRIVATE_DOMAIN }}:${{Backend.PORT}}"),
            Some(HostRef::Private("Backend".into()))
        );
        assert_eq!(
            of("https://${{RAILWAY_PUBLIC_DOMAIN}}"),
            Some(HostRef::Public("frontend".into()))
        );
        assert!(matches!(
            of("https://${{shared.API_HOST}}"),
            Some(HostRef::Other(_))
        ));
        assert_eq!(of("https://api.example.com/${{shared.X}}"), None);
        let (_, text) = HostRef::of("https://${{backend.RAILWAY_PUBLIC_DOMAIN}}", "f").unwrap();
        assert_eq!(text, "${{backend.RAILWAY_PUBLIC_DOMAIN}}");
    }
}
