//! After cutover, the deployed service is asked what a browser on the frontend asks before
//! its first API call: a CORS preflight (`OPTIONS /api/me`, `Origin: <FRONTEND_URL's
//! origin>`, `Access-Control-Request-Method: GET`, `Access-Control-Request-Headers:
//! authorization`). `curl` never sends one, so a service can answer every probe and still
//! refuse every browser — the failure users report first after a domain change.
//!
//! The answer is judged by the Fetch standard's rules for a request without credentials (the
//! frontend sends its session as `Authorization: Bearer`): an ok status (2xx, no redirect);
//! `Access-Control-Allow-Origin` equal to the origin, or `*`; and `authorization` listed in
//! `Access-Control-Allow-Headers` by name — a `*` there does not cover it. (GET is a
//! safelisted method: `Access-Control-Allow-Methods` does not matter for it.)

use std::time::Duration;

use serde::Serialize;

use crate::railway::Variables;

/// The route the frontend calls first (any API route takes the same preflight).
pub(crate) const PATH: &str = "/api/me";
const METHOD: &str = "GET";
const HEADERS: &str = "authorization";
const TIMEOUT: Duration = Duration::from_secs(10);

/// Where the preflight comes from: FRONTEND_URL's origin, as far as the platform tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FrontendOrigin {
    Origin(String),
    /// FRONTEND_URL is not set: there is no frontend origin to ask for.
    Unset,
    /// Sealed: its value (and so the origin) cannot be read back.
    Sealed,
    /// Not an absolute http(s) URL (the pre-flight's configuration rules say so too).
    Invalid,
}

impl FrontendOrigin {
    pub(crate) fn of(variables: &Variables) -> FrontendOrigin {
        if !variables.contains("FRONTEND_URL") {
            return FrontendOrigin::Unset;
        }
        let Some(value) = variables.value("FRONTEND_URL") else {
            return FrontendOrigin::Sealed;
        };
        match url::Url::parse(value.trim()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => {
                FrontendOrigin::Origin(url.origin().ascii_serialization())
            }
            _ => FrontendOrigin::Invalid,
        }
    }
}

/// The preflight sent, and what the answer lacked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Preflight {
    pub(crate) url: String,
    pub(crate) origin: String,
    pub(crate) status: Option<u16>,
    /// What a browser needs and did not get, each as the header and value it wanted.
    pub(crate) missing: Vec<String>,
    /// When no answer came: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

impl Preflight {
    pub(crate) fn ok(&self) -> bool {
        self.error.is_none() && self.missing.is_empty()
    }

    /// One sentence: refused how, from which origin, and what decides it.
    pub(crate) fn explain(&self) -> String {
        let what = match (&self.error, self.status) {
            (Some(e), _) => format!("got no answer ({e})"),
            (None, Some(s)) if self.missing.is_empty() => format!("answered {s}"),
            (None, s) => format!(
                "answered {} without {}",
                s.map_or("?".to_owned(), |s| s.to_string()),
                self.missing.join(", ")
            ),
        };
        format!(
            "the CORS preflight a browser on {} sends (OPTIONS {} with Access-Control-Request-Headers: {HEADERS}) {what}: browsers there refuse every API call, while curl and health checks work",
            self.origin, self.url
        )
    }
}

/// `OPTIONS {service origin}/api/me` from `origin`, judged as a browser judges it.
/// `service` is any URL of the deployed service (the readiness URL): its origin is used.
pub(crate) fn preflight(service: &str, origin: &str) -> Preflight {
    let url = format!("{}{PATH}", crate::release::health::origin_of(service));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        // A browser fails a preflight that redirects.
        .max_redirects(0)
        .build()
        .into();
    let mut preflight = Preflight {
        url: url.clone(),
        origin: origin.to_owned(),
        status: None,
        missing: Vec::new(),
        error: None,
    };
    let answer = agent
        .options(&url)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", METHOD)
        .header("Access-Control-Request-Headers", HEADERS)
        .call();
    match answer {
        Ok(res) => {
            let header = |name: &str| {
                res.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            preflight.status = Some(res.status().as_u16());
            preflight.missing = judge(
                res.status().as_u16(),
                origin,
                header("access-control-allow-origin").as_deref(),
                header("access-control-allow-headers").as_deref(),
            );
        }
        Err(e) => preflight.error = Some(e.to_string()),
    }
    preflight
}

/// What the answer lacks for a browser (empty: the preflight passes).
pub(crate) fn judge(
    status: u16,
    origin: &str,
    allow_origin: Option<&str>,
    allow_headers: Option<&str>,
) -> Vec<String> {
    let mut missing = Vec::new();
    if !(200..300).contains(&status) {
        missing.push(format!("an ok status (2xx; got {status})"));
    }
    match allow_origin.map(str::trim) {
        Some(o) if o == origin || o == "*" => {}
        Some(other) => missing.push(format!(
            "Access-Control-Allow-Origin: {origin} (it says `{}`)",
            intowork_config::escape_control(other)
        )),
        None => missing.push(format!("Access-Control-Allow-Origin: {origin}")),
    }
    let listed = allow_headers
        .unwrap_or_default()
        .split(',')
        .any(|h| h.trim().eq_ignore_ascii_case(HEADERS));
    // `*` covers other names for requests without credentials, never `authorization`.
    if !listed {
        missing.push(format!("{HEADERS} in Access-Control-Allow-Headers"));
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    const O: &str = "https://app.example.com";

    #[test]
    fn a_browsers_rules_for_a_bearer_call() {
        assert!(judge(200, O, Some(O), Some("content-type, authorization")).is_empty());
        assert!(judge(204, O, Some("*"), Some("Authorization")).is_empty());
        // tower-http's answer to an origin it does not allow: 200, no allow-origin.
        assert_eq!(
            judge(200, O, None, Some("authorization")),
            [format!("Access-Control-Allow-Origin: {O}")]
        );
        assert_eq!(
            judge(
                200,
                O,
                Some("https://other.example.com"),
                Some("authorization")
            )[0],
            format!("Access-Control-Allow-Origin: {O} (it says `https://other.example.com`)")
        );
        assert_eq!(
            judge(200, O, Some(O), Some("*")),
            ["authorization in Access-Control-Allow-Headers"],
            "`*` does not cover Authorization"
        );
        assert_eq!(judge(302, O, Some(O), Some("authorization")).len(), 1);
    }

    #[test]
    fn the_origin_comes_from_frontend_url() {
        let of =
            |v: Option<&str>| FrontendOrigin::of(&Variables::from_pairs(&[("FRONTEND_URL", v)]));
        assert_eq!(
            of(Some("https://App.Example.com/welcome")),
            FrontendOrigin::Origin(O.to_owned())
        );
        assert_eq!(of(None), FrontendOrigin::Sealed);
        assert_eq!(of(Some("app.example.com")), FrontendOrigin::Invalid);
        assert_eq!(
            FrontendOrigin::of(&Variables::default()),
            FrontendOrigin::Unset
        );
    }
}
