//! Resend's `POST /emails` (https://resend.com/docs/api-reference/emails/send-email), and what
//! each answer means for the row: sent, try again later, or give up now.

use std::time::Duration;

use intowork_config::EmailSettings;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::outbox::Claimed;

/// One request may take this long, connection included; then it counts as a failed attempt.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// A `Retry-After` beyond this is clamped: the row is retried within the hour anyway.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// What one attempt achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    Sent {
        provider_id: Option<String>,
    },
    /// 429, 5xx, 408, a timeout or a network error: worth another attempt.
    Retry {
        error: String,
        retry_after: Option<Duration>,
    },
    /// Any other 4xx: the request itself is wrong; repeating it cannot help.
    Rejected {
        error: String,
    },
}

/// A blocking client for Resend; the worker calls it from a blocking thread.
#[derive(Clone)]
pub struct Resend {
    agent: ureq::Agent,
    endpoint: String,
    key: SecretString,
    from: String,
}

impl std::fmt::Debug for Resend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resend")
            .field("endpoint", &self.endpoint)
            .field("key", &"re_****")
            .finish()
    }
}

impl Resend {
    pub fn new(settings: &EmailSettings) -> Resend {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(SEND_TIMEOUT))
            .http_status_as_error(false)
            // The API key is in a header: never carry it to wherever a redirect points.
            .max_redirects(0)
            .user_agent("intowork-backend")
            .build()
            .into();
        Resend {
            agent,
            endpoint: format!(
                "{}/emails",
                settings.api_url().as_str().trim_end_matches('/')
            ),
            key: settings.resend_api_key().clone(),
            from: settings.from().to_string(),
        }
    }

    pub fn send(&self, email: &Claimed) -> SendOutcome {
        let body = serde_json::json!({
            "from": self.from,
            "to": [email.to],
            "subject": email.subject,
            "text": email.text,
        });
        let response = self
            .agent
            .post(&self.endpoint)
            .header(
                "Authorization",
                format!("Bearer {}", self.key.expose_secret()),
            )
            .header("Idempotency-Key", idempotency_key(email.id))
            .content_type("application/json")
            .send(body.to_string());
        let mut response = match response {
            Ok(r) => r,
            Err(e) => {
                return SendOutcome::Retry {
                    error: format!("request to Resend failed: {e}"),
                    retry_after: None,
                };
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .unwrap_or_default();
        classify(status, &text, retry_after)
    }
}

/// The row's id: Resend answers a repeated key with the first request's result instead of
/// sending again (for 24 hours), which makes a re-send after a crash harmless.
pub fn idempotency_key(id: Uuid) -> String {
    id.to_string()
}

fn classify(status: u16, body: &str, retry_after: Option<Duration>) -> SendOutcome {
    let doc: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let name = doc["name"].as_str().unwrap_or_default();
    let detail = || {
        let message = doc["message"].as_str().unwrap_or_default();
        let short: String = message.chars().take(300).collect();
        format!("Resend answered {status} {name}: {short}")
    };
    match status {
        200..=299 => SendOutcome::Sent {
            provider_id: doc["id"].as_str().map(str::to_owned),
        },
        // The same key is still being processed (a re-send after a crash raced the first).
        409 if name == "concurrent_idempotent_requests" => SendOutcome::Retry {
            error: detail(),
            retry_after,
        },
        408 | 429 | 500..=599 => SendOutcome::Retry {
            error: detail(),
            retry_after,
        },
        _ => SendOutcome::Rejected { error: detail() },
    }
}

/// `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3), clamped to an hour.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    let delay = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
            (at.with_timezone(&chrono::Utc) - now)
                .to_std()
                .unwrap_or(Duration::ZERO)
        }
    };
    Some(delay.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_classified() {
        let sent = classify(200, r#"{"id":"49a3999c"}"#, None);
        assert_eq!(
            sent,
            SendOutcome::Sent {
                provider_id: Some("49a3999c".into())
            }
        );
        for status in [408, 429, 500, 502, 503] {
            assert!(
                matches!(classify(status, "", None), SendOutcome::Retry { .. }),
                "{status}"
            );
        }
        for status in [400, 401, 403, 404, 422] {
            assert!(
                matches!(classify(status, "{}", None), SendOutcome::Rejected { .. }),
                "{status}"
            );
        }
        let busy = classify(409, r#"{"name":"concurrent_idempotent_requests"}"#, None);
        assert!(matches!(busy, SendOutcome::Retry { .. }));
        let reused = classify(
            409,
            r#"{"name":"invalid_idempotent_request","message":"x"}"#,
            None,
        );
        assert!(
            matches!(reused, SendOutcome::Rejected { error } if error.contains("invalid_idempotent_request"))
        );
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Tue, 01 Dec 2026 10:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Tue, 01 Dec 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("999999", now), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
