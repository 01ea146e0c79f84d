//! Certificates generated at run time (ECDSA P-256, rcgen): nothing secret is checked in,
//! and every cluster gets its own keys and fingerprint. The one generator of the workspace.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, date_time_ymd,
};
use sha2::{Digest, Sha256};

/// Names the servers answer to: clients connect to `localhost` or an explicit loopback address.
const SERVER_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
const DAY: Duration = Duration::from_secs(24 * 60 * 60);
/// Far beyond any expiry warning, and well inside the dates X.509 and `time` can represent.
pub const MAX_EXPIRY_DAYS: u64 = 100 * 366;

#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error(
        "a certificate expiring in {days} days is out of range; use -{MAX_EXPIRY_DAYS}..={MAX_EXPIRY_DAYS}"
    )]
    OutOfRange { days: i64 },
    #[error("failed to generate a certificate")]
    Generate(#[from] rcgen::Error),
}

/// When a server certificate is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// rcgen's default, 1975 to 4096: never the reason a test fails.
    Forever,
    /// Ends `days` from now (negative: already expired) and starts a day before the earlier of
    /// now and the end, so a clock a little behind still sees it as started.
    ExpiresInDays(i64),
}

/// What the server presents, as PEM files for `ssl_cert_file` / `ssl_key_file`.
pub struct ServerCert {
    pub cert_pem: String,
    pub key_pem: String,
    /// SHA-256 of the DER certificate, lowercase hex without colons.
    pub sha256_hex: String,
}

/// Never prints the private key.
impl fmt::Debug for ServerCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerCert")
            .field("sha256_hex", &self.sha256_hex)
            .field("key_pem", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Shaped like Railway's: self-signed, CN and SAN `localhost`, and flagged CA:TRUE — the trait
/// that makes rustls reject it in `verify-ca`/`verify-full` (`CaUsedAsEndEntity`).
/// Clients that want to trust it use the certificate itself as their root.
pub fn railway_like(validity: Validity) -> Result<ServerCert, CertError> {
    let key = KeyPair::generate()?;
    let mut params = server_params(validity)?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key)?;
    Ok(ServerCert {
        sha256_hex: sha256_hex(cert.der()),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// A conventional leaf (CA:FALSE, serverAuth) signed by a fresh test CA.
/// Returns the leaf and the CA certificate's PEM (the clients' `sslrootcert`).
/// The CA itself is valid [`Validity::Forever`]: only the leaf carries `validity`.
pub fn ca_signed(validity: Validity) -> Result<(ServerCert, String), CertError> {
    let (ca_pem, ca_issuer) = new_ca("intowork-pglocal test CA")?;
    let key = KeyPair::generate()?;
    let mut params = server_params(validity)?;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let cert = params.signed_by(&key, &ca_issuer)?;
    let leaf = ServerCert {
        sha256_hex: sha256_hex(cert.der()),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    };
    Ok((leaf, ca_pem))
}

/// PEM of a CA that signed nothing the servers present (for "wrong CA" tests).
pub fn unrelated_ca() -> Result<String, CertError> {
    Ok(new_ca("intowork-pglocal unrelated CA")?.0)
}

/// A plain self-signed leaf for `localhost` (CA:FALSE, valid forever), as DER: the
/// certificate and its PKCS#8 key, for a TLS endpoint nobody is meant to trust (e.g. a
/// test proxy whose clients use `sslmode=require`).
pub fn self_signed_leaf() -> Result<(Vec<u8>, Vec<u8>), CertError> {
    let key = KeyPair::generate()?;
    let cert = server_params(Validity::Forever)?.self_signed(&key)?;
    Ok((cert.der().to_vec(), key.serialize_der()))
}

fn server_params(validity: Validity) -> Result<CertificateParams, CertError> {
    let mut params = CertificateParams::new(SERVER_NAMES.map(str::to_owned).to_vec())?;
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    if let Validity::ExpiresInDays(days) = validity {
        if days.unsigned_abs() > MAX_EXPIRY_DAYS {
            return Err(CertError::OutOfRange { days });
        }
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        // rcgen takes `time`'s date type; reaching it through rcgen and std durations spares a
        // dependency on `time` (and on its `std` feature, which nothing here enables).
        let now = date_time_ymd(1970, 1, 1) + since_epoch;
        let offset = DAY * u32::try_from(days.unsigned_abs()).unwrap_or(u32::MAX);
        params.not_after = if days >= 0 {
            now + offset
        } else {
            now - offset
        };
        params.not_before = params.not_after.min(now) - DAY;
    }
    Ok(params)
}

fn new_ca(common_name: &str) -> Result<(String, Issuer<'static, KeyPair>), CertError> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), Issuer::new(params, key)))
}

fn sha256_hex(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use x509_parser::pem::parse_x509_pem;

    use super::*;

    /// (is a CA, DNS names, fingerprint of the DER) of a PEM certificate.
    fn inspect(pem: &str) -> (bool, Vec<String>, String) {
        let (_, pem) = parse_x509_pem(pem.as_bytes()).expect("PEM");
        let cert = pem.parse_x509().expect("X.509");
        let is_ca = cert
            .basic_constraints()
            .expect("one basic constraints")
            .is_some_and(|bc| bc.value.ca);
        let san = cert
            .subject_alternative_name()
            .expect("one SAN")
            .expect("a SAN");
        let names = san
            .value
            .general_names
            .iter()
            .map(|n| n.to_string())
            .collect();
        (is_ca, names, sha256_hex(&pem.contents))
    }

    #[test]
    fn railway_like_certificate_is_a_self_signed_ca_for_localhost() {
        let server = railway_like(Validity::Forever).unwrap();
        let (is_ca, names, fingerprint) = inspect(&server.cert_pem);
        assert!(
            is_ca,
            "Railway's certificates are flagged CA:TRUE, ours must be too"
        );
        assert!(
            names.iter().any(|n| n == "DNSName(localhost)"),
            "SAN: {names:?}"
        );
        assert_eq!(fingerprint, server.sha256_hex);
        assert_eq!(server.sha256_hex.len(), 64);
        assert!(
            server
                .sha256_hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
    }

    #[test]
    fn ca_signed_leaf_is_not_a_ca_and_its_issuer_is() {
        let (leaf, ca_pem) = ca_signed(Validity::Forever).unwrap();
        let (leaf_is_ca, names, fingerprint) = inspect(&leaf.cert_pem);
        assert!(!leaf_is_ca);
        assert!(
            names.iter().any(|n| n == "DNSName(localhost)"),
            "SAN: {names:?}"
        );
        assert_eq!(fingerprint, leaf.sha256_hex);
        let (_, ca) = parse_x509_pem(ca_pem.as_bytes()).expect("CA PEM");
        let ca = ca.parse_x509().expect("CA X.509");
        assert!(ca.is_ca());
        let (_, leaf_pem) = parse_x509_pem(leaf.cert_pem.as_bytes()).expect("leaf PEM");
        let leaf_cert = leaf_pem.parse_x509().expect("leaf X.509");
        assert_eq!(leaf_cert.issuer(), ca.subject());
        leaf_cert
            .verify_signature(Some(ca.public_key()))
            .expect("the leaf is signed by the CA");
    }

    /// (not before, not after) of a PEM certificate, as seconds relative to now.
    fn validity_from_now(pem: &str) -> (i64, i64) {
        let (_, pem) = parse_x509_pem(pem.as_bytes()).expect("PEM");
        let cert = pem.parse_x509().expect("X.509");
        let now = i64::try_from(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("after 1970")
                .as_secs(),
        )
        .expect("seconds fit an i64");
        let validity = cert.validity();
        (
            validity.not_before.timestamp() - now,
            validity.not_after.timestamp() - now,
        )
    }

    #[test]
    fn expiring_certificates_end_the_given_number_of_days_from_now() {
        let day = 24 * 60 * 60;
        // A minute of slack either way: generating and parsing happen within it.
        let near = |seconds: i64, days: i64| (seconds - days * day).abs() < 60;
        for days in [10, 0, -3] {
            let railway = railway_like(Validity::ExpiresInDays(days)).unwrap();
            let (leaf, _) = ca_signed(Validity::ExpiresInDays(days)).unwrap();
            for pem in [&railway.cert_pem, &leaf.cert_pem] {
                let (not_before, not_after) = validity_from_now(pem);
                assert!(
                    near(not_after, days),
                    "{days} days: not after {not_after} s"
                );
                assert!(
                    near(not_before, days.min(0) - 1),
                    "{days} days: not before {not_before} s"
                );
            }
        }
        let (not_before, not_after) =
            validity_from_now(&railway_like(Validity::Forever).unwrap().cert_pem);
        assert!(not_before < 0 && not_after > 1000 * 365 * day);
    }

    #[test]
    fn an_expiry_beyond_a_century_is_refused() {
        for validity in [
            Validity::ExpiresInDays(-1_000_000),
            Validity::ExpiresInDays(40_000),
        ] {
            let error = railway_like(validity).expect_err("out of range");
            assert!(matches!(error, CertError::OutOfRange { .. }), "{error:?}");
            assert!(error.to_string().contains("out of range"), "{error}");
        }
        assert!(
            ca_signed(Validity::ExpiresInDays(36_600)).is_ok(),
            "a century is the limit"
        );
    }

    #[test]
    fn the_self_signed_leaf_is_not_a_ca() {
        let (der, key) = self_signed_leaf().unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&der).expect("X.509");
        assert!(!cert.is_ca());
        assert!(!key.is_empty());
    }

    #[test]
    fn debug_never_shows_the_private_key() {
        let server = railway_like(Validity::Forever).unwrap();
        let shown = format!("{server:?}");
        assert!(
            !shown.contains("PRIVATE KEY") && shown.contains(&server.sha256_hex),
            "{shown}"
        );
    }
}
