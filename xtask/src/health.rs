//! The deployed service's readiness, probed over HTTPS (rustls) until 200 or a deadline.

use std::time::{Duration, Instant};

/// One probe may take this long.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Probe {
    pub(crate) url: String,
    pub(crate) ok: bool,
    /// The last HTTP status, if any answer came.
    pub(crate) status: Option<u16>,
    pub(crate) attempts: u32,
    pub(crate) detail: String,
}

pub(crate) fn probe(url: &str, budget: Duration, every: Duration) -> Probe {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(ATTEMPT_TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into();
    let deadline = Instant::now() + budget;
    let mut attempts = 0;
    // An HTTP answer says more than a later connection error.
    let mut last_status: Option<u16> = None;
    loop {
        attempts += 1;
        let (status, detail) = match agent.get(url).call() {
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
        };
        last_status = status.or(last_status);
        if status == Some(200) {
            return Probe {
                url: url.to_owned(),
                ok: true,
                status,
                attempts,
                detail,
            };
        }
        if Instant::now() + every >= deadline {
            return Probe {
                url: url.to_owned(),
                ok: false,
                status: last_status,
                attempts,
                detail,
            };
        }
        std::thread::sleep(every);
    }
}
