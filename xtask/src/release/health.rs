//! The deployed service, probed from outside over HTTPS (rustls): readiness until 200, then
//! the build it serves (`GET /health` → `{"version","commit"}`) against the commit that was
//! deployed. A stale build — the old deployment still answering, or a build of another
//! commit — is never taken for the new one. (What a browser asks next, the CORS preflight,
//! is `release::cors`.)

use std::time::{Duration, Instant};

use serde::Deserialize;

/// One probe may take this long.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// What the backend says about itself on `/health`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct Build {
    #[serde(default)]
    pub(crate) version: Option<String>,
    #[serde(default)]
    pub(crate) commit: Option<String>,
}

/// How a probe ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProbeVerdict {
    /// Ready, and serving the expected commit (or none was expected).
    Healthy,
    /// Never answered 200 on the readiness route.
    Unready,
    /// Ready, but serving another commit until the deadline.
    Stale,
    /// Ready and serving the expected build, but refusing the frontend's CORS preflight.
    CorsRefused,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Probe {
    pub(crate) url: String,
    /// Ready, and serving the expected build.
    pub(crate) ok: bool,
    pub(crate) verdict: ProbeVerdict,
    /// The last HTTP status of the readiness route, if any answer came.
    pub(crate) status: Option<u16>,
    pub(crate) attempts: u32,
    pub(crate) detail: String,
    /// The build the service said it runs (the last one read).
    pub(crate) serving: Option<Build>,
    pub(crate) expected_commit: Option<String>,
    /// The CORS preflight from the frontend's origin, when one was sent (after a healthy probe).
    pub(crate) cors: Option<crate::release::Preflight>,
}

/// `/health` on the readiness URL's origin: where the backend names its build.
pub(crate) fn build_url(ready_url: &str) -> String {
    format!("{}/health", origin_of(ready_url))
}

/// `scheme://host[:port]` of a URL, as written (everything before the path).
pub(crate) fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after_scheme + i);
    &url[..end]
}

/// Whether the serving commit is the expected one: equal, or one a prefix of the other (a
/// short SHA) of at least 7 hex digits; a `-dirty` build matches only a `-dirty` expectation.
pub(crate) fn same_commit(serving: &str, expected: &str) -> bool {
    let split = |c: &str| {
        let c = c.trim().to_ascii_lowercase();
        match c.strip_suffix("-dirty") {
            Some(sha) => (sha.to_owned(), true),
            None => (c, false),
        }
    };
    let ((a, a_dirty), (b, b_dirty)) = (split(serving), split(expected));
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    a_dirty == b_dirty && short.len() >= 7 && long.starts_with(short.as_str())
}

/// Probes `url` until it answers 200, or `budget`.
pub(crate) fn probe(url: &str, budget: Duration, every: Duration) -> Probe {
    probe_build(url, None, budget, every)
}

/// Probes `url` until 200 and (when `expected` is known) the expected build, or `budget`.
/// A sleeping service is woken by the first request (Railway's app sleeping).
pub(crate) fn probe_build(
    url: &str,
    expected: Option<&str>,
    budget: Duration,
    every: Duration,
) -> Probe {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(ATTEMPT_TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into();
    let deadline = Instant::now() + budget;
    let mut probe = Probe {
        url: url.to_owned(),
        ok: false,
        verdict: ProbeVerdict::Unready,
        status: None,
        attempts: 0,
        detail: String::new(),
        serving: None,
        expected_commit: expected.map(str::to_owned),
        cors: None,
    };
    loop {
        probe.attempts += 1;
        let (status, detail) = get(&agent, url);
        // An HTTP answer says more than a later connection error.
        probe.status = status.or(probe.status);
        probe.detail = detail;
        if status == Some(200) {
            probe.serving = get_build(&agent, &build_url(url)).or(probe.serving.take());
            probe.verdict = match (
                expected,
                probe.serving.as_ref().and_then(|b| b.commit.as_deref()),
            ) {
                (None, _) => ProbeVerdict::Healthy,
                (Some(want), Some(have)) if same_commit(have, want) => ProbeVerdict::Healthy,
                (Some(_), _) => ProbeVerdict::Stale,
            };
            if probe.verdict == ProbeVerdict::Healthy {
                probe.ok = true;
                return probe;
            }
        }
        if Instant::now() + every >= deadline {
            return probe;
        }
        std::thread::sleep(every);
    }
}

fn get(agent: &ureq::Agent, url: &str) -> (Option<u16>, String) {
    match agent.get(url).call() {
        Ok(mut res) => {
            let code = res.status().as_u16();
            let body: String = res
                .body_mut()
                .read_to_string()
                .unwrap_or_default()
                .chars()
                .take(300)
                .collect();
            (Some(code), body)
        }
        Err(e) => (None, e.to_string()),
    }
}

fn get_build(agent: &ureq::Agent, url: &str) -> Option<Build> {
    let mut res = agent.get(url).call().ok()?;
    if res.status().as_u16() != 200 {
        return None;
    }
    serde_json::from_str(&res.body_mut().read_to_string().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_is_read_on_the_same_origin() {
        assert_eq!(
            build_url("https://api.example.com/health/ready"),
            "https://api.example.com/health"
        );
        assert_eq!(
            build_url("http://127.0.0.1:8080/health/ready?x=1"),
            "http://127.0.0.1:8080/health"
        );
        assert_eq!(build_url("http://h:1"), "http://h:1/health");
        assert_eq!(
            origin_of("https://h.example.com?x#y"),
            "https://h.example.com"
        );
    }

    #[test]
    fn commits_match_by_prefix_and_dirtiness() {
        let full = "0123456789abcdef0123456789abcdef01234567";
        assert!(same_commit(full, "0123456"));
        assert!(same_commit("0123456789ab", full));
        assert!(same_commit(&full.to_uppercase(), full));
        assert!(!same_commit(full, "012345"), "too short to mean anything");
        assert!(!same_commit(full, "1123456789ab"));
        assert!(!same_commit(&format!("{full}-dirty"), full));
        assert!(same_commit(
            &format!("{full}-dirty"),
            &format!("{full}-dirty")
        ));
        assert!(!same_commit("unknown", full));
    }
}
