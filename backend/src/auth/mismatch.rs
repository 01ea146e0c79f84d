//! The log line that says the frontend and this service disagree on `NEXTAUTH_SECRET` — the
//! incident's sibling: every signed-in request fails while both sides look healthy. Logged at
//! most once a minute, with the secret's short fingerprint (the one `verify --remote` prints)
//! and the fix; `cargo xtask logs` recognises it.

use crate::throttle::Throttle;

/// At most one line per this many seconds.
pub const EVERY_SECS: i64 = 60;

/// The phrase `cargo xtask logs` diagnoses (xtask/src/logs/diagnose.rs, `nextauth_secret_mismatch`).
pub const MESSAGE: &str = "session token does not decrypt with this service's NEXTAUTH_SECRET";

#[derive(Debug)]
pub struct MismatchLog {
    fingerprint: String,
    throttle: Throttle,
}

impl MismatchLog {
    pub fn new(fingerprint: String) -> MismatchLog {
        MismatchLog {
            fingerprint,
            throttle: Throttle::new(EVERY_SECS),
        }
    }

    /// Logs unless a line went out less than a minute ago; returns whether it logged.
    pub fn record(&self, now_secs: i64) -> bool {
        let Some(since_last) = self.throttle.admit(now_secs) else {
            return false;
        };
        tracing::warn!(
            secret_fingerprint = %self.fingerprint,
            similar_rejections_since_last_line = since_last,
            "{MESSAGE} (sha256 {}…): the frontend encrypts sessions with a different secret, so every signed-in request gets 401. Fix: set the same NEXTAUTH_SECRET on the frontend and the backend (a shared variable referenced by both keeps them in step) and compare them with `cargo xtask verify --remote --frontend-service <frontend>`",
            self.fingerprint
        );
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn once_a_minute_at_most() {
        let log = MismatchLog::new("abc".into());
        assert!(log.record(1000));
        assert!(!log.record(1000));
        assert!(!log.record(1059));
        assert!(log.record(1060));
        assert!(!log.record(1061));
    }
}
