//! Facts about a server certificate, read without trusting it.

use std::fmt;

use intowork_config::Fingerprint;
use sha2::{Digest, Sha256};
use x509_parser::prelude::{FromDer, X509Certificate};

/// Expiry within this many days is worth a warning.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFacts {
    pub subject: String,
    pub issuer: String,
    /// Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    pub self_signed: bool,
    /// Basic constraints CA:TRUE (Railway's leaf is, which rustls refuses to verify).
    pub is_ca: bool,
    pub sha256: Fingerprint,
}

#[derive(Debug, thiserror::Error)]
#[error("the server's certificate is not valid X.509: {0}")]
pub struct BadCertificate(String);

impl CertificateFacts {
    pub fn from_der(der: &[u8]) -> Result<CertificateFacts, BadCertificate> {
        let (_, cert) =
            X509Certificate::from_der(der).map_err(|e| BadCertificate(e.to_string()))?;
        let subject = cert.subject().to_string();
        let issuer = cert.issuer().to_string();
        let is_ca = cert
            .basic_constraints()
            .ok()
            .flatten()
            .is_some_and(|bc| bc.value.ca);
        Ok(CertificateFacts {
            self_signed: cert.subject() == cert.issuer(),
            subject,
            issuer,
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            is_ca,
            sha256: Fingerprint::from_bytes(Sha256::digest(der).into()),
        })
    }

    /// Whole days until expiry (negative once expired).
    pub fn days_left(&self, now_unix: i64) -> i64 {
        (self.not_after - now_unix).div_euclid(86_400)
    }
}

impl fmt::Display for CertificateFacts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match (self.self_signed, self.is_ca) {
            (true, true) => "self-signed, CA:TRUE",
            (true, false) => "self-signed",
            (false, true) => "CA:TRUE",
            (false, false) => "issued by a CA",
        };
        write!(
            f,
            "subject `{}`, issuer `{}` ({kind}), valid {} → {}, SHA-256 {}",
            self.subject,
            self.issuer,
            date(self.not_before),
            date(self.not_after),
            self.sha256
        )
    }
}

/// `YYYY-MM-DD` from Unix seconds (civil-from-days, proleptic Gregorian).
pub fn date(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(1_803_859_200), "2027-03-01");
        assert_eq!(date(-86_400), "1969-12-31");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(CertificateFacts::from_der(b"not a certificate").is_err());
    }
}
