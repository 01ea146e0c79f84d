//! What the HTTP side needs: the port, the CORS origins and the frontend's URL.

use std::fmt;

use url::Url;

use crate::database::is_secret_param;
use crate::echo::shown_url;
use crate::environment::Environment;
use crate::problem::{Problem, Problems};
use crate::variables::is_secret_name;

/// `scheme://host[:port]`, normalised the way browsers send the `Origin` header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin(String);

impl Origin {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn of(url: &Url) -> Origin {
        Origin(url.origin().ascii_serialization())
    }

    fn is_local(url: &Url) -> bool {
        match url.host_str() {
            Some(h) => {
                let h = h
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_ascii_lowercase();
                h == "localhost"
                    || h.ends_with(".localhost")
                    || h.parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
            None => false,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `ALLOWED_ORIGINS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigins {
    /// `*`: any origin (never in production).
    Any,
    List(Vec<Origin>),
}

impl AllowedOrigins {
    pub fn allows(&self, origin: &Origin) -> bool {
        match self {
            AllowedOrigins::Any => true,
            AllowedOrigins::List(list) => list.contains(origin),
        }
    }
}

impl fmt::Display for AllowedOrigins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllowedOrigins::Any => f.write_str("*"),
            AllowedOrigins::List(list) => {
                let list: Vec<&str> = list.iter().map(Origin::as_str).collect();
                f.write_str(&list.join(","))
            }
        }
    }
}

/// The default outside production: the Next.js frontend's development server.
pub const DEV_ORIGIN: &str = "http://localhost:3000";

pub fn parse_allowed_origins(
    text: &str,
    env: Environment,
    problems: &mut Problems,
) -> Option<AllowedOrigins> {
    let start = problems.len();
    let mut list = Vec::new();
    let mut any = false;
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        if entry == "*" {
            if env.is_production() {
                problems.push(
                    Problem::error("wildcard", "`*` allows every site to call the API with credentials; it is refused in production")
                        .hint("list the frontend's origins, e.g. `https://app.example.com`"),
                );
            }
            any = true;
            continue;
        }
        let Some(origin) = parse_origin(entry, problems) else {
            continue;
        };
        if env.is_production() {
            let url = Url::parse(origin.as_str()).ok();
            if origin.as_str().starts_with("http://") {
                problems.push(
                    Problem::error(
                        "insecure",
                        format!("`{origin}` is plain http in production"),
                    )
                    .hint(format!(
                        "use `{}`",
                        origin.as_str().replacen("http://", "https://", 1)
                    )),
                );
            } else if url.as_ref().is_some_and(Origin::is_local) {
                problems.push(
                    Problem::error(
                        "localhost",
                        format!("`{origin}` is a local origin in production"),
                    )
                    .hint("list the production frontend's origin instead"),
                );
            }
        }
        if !list.contains(&origin) {
            list.push(origin);
        }
    }
    if problems[start..].iter().any(Problem::is_error) {
        return None;
    }
    if any {
        return Some(AllowedOrigins::Any);
    }
    if list.is_empty() {
        problems.push(
            Problem::error("empty", "lists no origin")
                .hint("set a comma-separated list such as `https://app.example.com`"),
        );
        return None;
    }
    Some(AllowedOrigins::List(list))
}

fn parse_origin(entry: &str, problems: &mut Problems) -> Option<Origin> {
    let url = match Url::parse(entry) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => url,
        _ => {
            problems.push(
                Problem::error("origin", format!("`{}` is not an origin", shown_url(entry))).hint(
                    "write each origin as scheme://host[:port], e.g. `https://app.example.com`",
                ),
            );
            return None;
        }
    };
    let origin = Origin::of(&url);
    let exact = url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
        && !entry.ends_with('/');
    if !exact {
        problems.push(
            Problem::error("path", format!("`{}` is not a bare origin: browsers send no path, query or trailing slash in `Origin`", shown_url(entry)))
                .hint(format!("use `{origin}`")),
        );
        return None;
    }
    Some(origin)
}

/// `FRONTEND_URL`: absolute http(s) URL without credentials; https in production.
pub fn parse_frontend_url(text: &str, env: Environment, problems: &mut Problems) -> Option<Url> {
    let url = match Url::parse(text.trim()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => url,
        _ => {
            problems.push(
                Problem::error(
                    "url",
                    format!(
                        "`{}` is not an absolute http(s) URL",
                        shown_url(text.trim())
                    ),
                )
                .hint("use the frontend's address, e.g. `https://app.example.com`"),
            );
            return None;
        }
    };
    if let Some(p) = credentials(&url, "the frontend's address needs none") {
        problems.push(p);
        return None;
    }
    if env.is_production() && url.scheme() != "https" {
        let shown = shown_url(url.as_str());
        problems.push(
            Problem::error("insecure", format!("`{shown}` is not https in production")).hint(
                format!("use `{}`", shown.replacen("http://", "https://", 1)),
            ),
        );
        return None;
    }
    Some(url)
}

/// Whether a URL carries credentials — a user-info, or a query parameter whose name marks a
/// secret — by the rule `FRONTEND_URL` and `RESEND_API_URL` are held to (their `credentials`
/// check), for callers that judge the same URLs elsewhere (the platform's frontend checks).
pub fn carries_credentials(url: &Url) -> bool {
    credentials(url, "").is_some()
}

/// A failed `credentials` check when the URL carries any: a user-info, or a query parameter
/// whose name marks a secret (`key`, `token`, `password`, …). Never quotes them.
pub(crate) fn credentials(url: &Url, fix: &str) -> Option<Problem> {
    let secret_param = url
        .query_pairs()
        .map(|(k, _)| k)
        .find(|k| is_secret_name(k) || is_secret_param(k));
    let what = if !url.username().is_empty() || url.password().is_some() {
        "carries credentials in the URL (user-info before `@`)".to_owned()
    } else {
        format!("carries a credential in its query (`{}=`)", secret_param?)
    };
    Some(Problem::error("credentials", what).hint(format!("remove them: {fix}")))
}

/// The frontend must be allowed by CORS, or its calls fail in the browser.
pub fn frontend_origin_problem(
    frontend: &Url,
    allowed: &AllowedOrigins,
    env: Environment,
) -> Option<Problem> {
    let origin = Origin::of(frontend);
    if allowed.allows(&origin) {
        return None;
    }
    let message = format!(
        "the frontend's origin `{origin}` is not in ALLOWED_ORIGINS: the browser will block its calls"
    );
    let hint = format!("add `{origin}` to ALLOWED_ORIGINS");
    Some(if env.is_production() {
        Problem::error("origin_not_allowed", message).hint(hint)
    } else {
        Problem::warning("origin_not_allowed", message).hint(hint)
    })
}

/// A number within bounds (`PORT`, pool size, timeouts).
pub fn parse_bounded(text: &str, min: u64, max: u64, what: &str) -> Result<u64, Problem> {
    match text.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        Ok(n) => Err(Problem::error("range", format!("{n} is out of range"))
            .hint(format!("use {what} from {min} to {max}"))),
        Err(_) => Err(
            Problem::error("number", format!("`{}` is not a whole number", text.trim()))
                .hint(format!("use {what} from {min} to {max}")),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins(
        text: &str,
        env: Environment,
    ) -> Result<String, Vec<(&'static str, Option<String>)>> {
        let mut p = Vec::new();
        match parse_allowed_origins(text, env, &mut p) {
            Some(o) => Ok(o.to_string()),
            None => Err(p.into_iter().map(|p| (p.check, p.hint)).collect()),
        }
    }

    #[test]
    fn allowed_origins_table() {
        use Environment::*;
        let ok = [
            (
                "https://app.example.com",
                Production,
                "https://app.example.com",
            ),
            (
                " https://a.example.com , https://b.example.com:8443 ",
                Production,
                "https://a.example.com,https://b.example.com:8443",
            ),
            (
                "HTTPS://App.Example.com:443",
                Production,
                "https://app.example.com",
            ),
            (
                "http://localhost:3000",
                Development,
                "http://localhost:3000",
            ),
            ("*", Development, "*"),
            (
                "https://a.example.com,https://a.example.com",
                Staging,
                "https://a.example.com",
            ),
        ];
        for (input, env, want) in ok {
            assert_eq!(origins(input, env).as_deref(), Ok(want), "{input}");
        }
        let bad = [
            (
                "https://app.example.com/",
                Production,
                "path",
                Some("use `https://app.example.com`"),
            ),
            (
                "https://app.example.com/login",
                Development,
                "path",
                Some("use `https://app.example.com`"),
            ),
            ("*", Production, "wildcard", None),
            (
                "http://app.example.com",
                Production,
                "insecure",
                Some("use `https://app.example.com`"),
            ),
            ("https://localhost:3000", Production, "localhost", None),
            ("app.example.com", Development, "origin", None),
            ("ftp://x.example.com", Development, "origin", None),
            (" , ", Development, "empty", None),
        ];
        for (input, env, check, hint) in bad {
            let problems = origins(input, env).unwrap_err();
            assert_eq!(problems[0].0, check, "{input}");
            if let Some(hint) = hint {
                assert_eq!(problems[0].1.as_deref(), Some(hint), "{input}");
            }
        }
    }

    #[test]
    fn frontend_url_rules() {
        let mut p = Vec::new();
        assert!(
            parse_frontend_url("https://app.example.com/x", Environment::Production, &mut p)
                .is_some()
        );
        assert!(
            parse_frontend_url("http://app.example.com", Environment::Production, &mut p).is_none()
        );
        assert_eq!(p.pop().unwrap().check, "insecure");
        assert!(
            parse_frontend_url("http://localhost:3000", Environment::Development, &mut p).is_some()
        );
        assert!(parse_frontend_url("/relative", Environment::Development, &mut p).is_none());
        assert_eq!(p.pop().unwrap().check, "url");

        let allowed = AllowedOrigins::List(vec![Origin("https://app.example.com".into())]);
        let inside = Url::parse("https://app.example.com/dashboard").unwrap();
        let outside = Url::parse("https://other.example.com").unwrap();
        assert!(frontend_origin_problem(&inside, &allowed, Environment::Production).is_none());
        assert!(
            frontend_origin_problem(&outside, &allowed, Environment::Production)
                .unwrap()
                .is_error()
        );
        assert!(
            !frontend_origin_problem(&outside, &allowed, Environment::Staging)
                .unwrap()
                .is_error()
        );
        assert!(
            frontend_origin_problem(&outside, &AllowedOrigins::Any, Environment::Staging).is_none()
        );
    }

    #[test]
    fn bounded_numbers() {
        assert_eq!(parse_bounded("8000", 1, 65535, "a port"), Ok(8000));
        assert_eq!(
            parse_bounded("0", 1, 65535, "a port").unwrap_err().check,
            "range"
        );
        assert_eq!(
            parse_bounded("65536", 1, 65535, "a port")
                .unwrap_err()
                .check,
            "range"
        );
        assert_eq!(
            parse_bounded("80a", 1, 65535, "a port").unwrap_err().check,
            "number"
        );
        assert_eq!(
            parse_bounded("-1", 1, 65535, "a port").unwrap_err().check,
            "number"
        );
    }
}
