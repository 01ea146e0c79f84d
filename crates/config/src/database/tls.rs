//! TLS modes, from both spellings a URL may carry: libpq/sqlx `sslmode=` and asyncpg `ssl=`.

use std::fmt;

/// Ordered from weakest to strongest, so policies compare modes with `<`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsMode {
    /// Never TLS.
    Disable,
    /// Plaintext first (sqlx never even tries TLS: same as `Disable`).
    Allow,
    /// TLS if offered, plaintext silently otherwise: sqlx's default.
    Prefer,
    /// Encrypted; the certificate is not verified.
    Require,
    /// Encrypted; the chain is verified against a root.
    VerifyCa,
    /// Encrypted; chain and host name verified.
    VerifyFull,
}

pub const ALL_MODES: &str = "disable, allow, prefer, require, verify-ca or verify-full";

impl TlsMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Disable => "disable",
            TlsMode::Allow => "allow",
            TlsMode::Prefer => "prefer",
            TlsMode::Require => "require",
            TlsMode::VerifyCa => "verify-ca",
            TlsMode::VerifyFull => "verify-full",
        }
    }

    /// libpq's names (`PGSSLMODE`, `sslmode=`); asyncpg's `verify_ca` spelling too.
    pub fn parse_sslmode(s: &str) -> Option<TlsMode> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "disable" => Some(TlsMode::Disable),
            "allow" => Some(TlsMode::Allow),
            "prefer" => Some(TlsMode::Prefer),
            "require" => Some(TlsMode::Require),
            "verify-ca" => Some(TlsMode::VerifyCa),
            "verify-full" => Some(TlsMode::VerifyFull),
            _ => None,
        }
    }

    /// asyncpg's `ssl=`: the libpq names plus booleans. `true` maps to `require`, not
    /// `verify-full`: what the Python backend meant by it, and the only mode that works with
    /// Railway's self-signed certificate.
    pub fn parse_asyncpg(s: &str) -> Option<TlsMode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "on" | "yes" => Some(TlsMode::Require),
            "false" | "0" | "off" | "no" => Some(TlsMode::Disable),
            other => TlsMode::parse_sslmode(other),
        }
    }

    /// Whether the mode guarantees an encrypted session (or fails).
    pub fn guarantees_encryption(self) -> bool {
        self >= TlsMode::Require
    }

    pub fn verifies_certificate(self) -> bool {
        self >= TlsMode::VerifyCa
    }
}

impl fmt::Display for TlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the mode in force came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// `sslmode=<value>` in the URL.
    SslMode(String),
    /// asyncpg's `ssl=<value>` in the URL.
    Ssl(String),
    /// Nothing in the URL: `PGSSLMODE`.
    Environment,
    /// Nothing in the URL nor in `PGSSLMODE`: the policy's default for this host.
    Default,
}

impl fmt::Display for TlsSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsSource::SslMode(v) => write!(f, "`sslmode={v}`"),
            TlsSource::Ssl(v) => write!(f, "`ssl={v}`"),
            TlsSource::Environment => f.write_str("PGSSLMODE"),
            TlsSource::Default => f.write_str("the default for this host"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_normalise_to_one_mode() {
        let table = [
            ("disable", Some(TlsMode::Disable), Some(TlsMode::Disable)),
            ("require", Some(TlsMode::Require), Some(TlsMode::Require)),
            (
                "Verify-Full",
                Some(TlsMode::VerifyFull),
                Some(TlsMode::VerifyFull),
            ),
            (
                "verify_ca",
                Some(TlsMode::VerifyCa),
                Some(TlsMode::VerifyCa),
            ),
            ("true", None, Some(TlsMode::Require)),
            ("false", None, Some(TlsMode::Disable)),
            ("0", None, Some(TlsMode::Disable)),
            ("on", None, Some(TlsMode::Require)),
            ("bogus", None, None),
            ("", None, None),
        ];
        for (input, sslmode, asyncpg) in table {
            assert_eq!(TlsMode::parse_sslmode(input), sslmode, "sslmode={input}");
            assert_eq!(TlsMode::parse_asyncpg(input), asyncpg, "ssl={input}");
        }
    }

    #[test]
    fn modes_are_ordered_by_strength() {
        assert!(TlsMode::Prefer < TlsMode::Require);
        assert!(TlsMode::Allow < TlsMode::Prefer);
        assert!(!TlsMode::Prefer.guarantees_encryption());
        assert!(TlsMode::Require.guarantees_encryption());
        assert!(TlsMode::VerifyCa.verifies_certificate());
    }
}
