//! Email that is never lost and never doubled: messages are written to the `email_outbox`
//! table in the transaction that causes them ([`outbox::enqueue`]); [`worker`] sends them
//! through Resend with the row's id as `Idempotency-Key`.

pub mod compose;
pub mod outbox;
pub mod resend;
pub mod worker;

/// One message, before it is a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub kind: Kind,
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// What caused a message (kept on the row, for the logs and support).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// To the candidate: their application was received.
    ApplicationSubmitted,
    /// To the company's owner: someone applied.
    ApplicationReceived,
    /// To the candidate: the application moved.
    StatusChanged,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ApplicationSubmitted => "application_submitted",
            Kind::ApplicationReceived => "application_received",
            Kind::StatusChanged => "application_status_changed",
        }
    }
}

/// `ann.lee@example.com` → `a***@example.com`: enough to tell mails apart in a log, not
/// enough to harvest addresses from it.
pub fn mask_address(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn masking_keeps_the_domain_only() {
        assert_eq!(
            super::mask_address("ann.lee@example.com"),
            "a***@example.com"
        );
        assert_eq!(super::mask_address("x@y.io"), "x***@y.io");
        assert_eq!(super::mask_address("garbage"), "***");
    }
}
