//! Certificates generated at test time (ECDSA P-256, rcgen): nothing secret is checked in,
//! and every cluster gets its own keys and fingerprint.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use sha2::{Digest, Sha256};

/// Names the servers answer to: clients connect to `localhost` or an explicit loopback address.
const SERVER_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// What the server presents, as PEM files for `ssl_cert_file` / `ssl_key_file`.
#[derive(Debug)]
pub(crate) struct ServerCert {
    pub(crate) cert_pem: String,
    pub(crate) key_pem: String,
    /// SHA-256 of the DER certificate, lowercase hex without colons.
    pub(crate) sha256_hex: String,
}

/// Shaped like Railway's: self-signed, CN and SAN `localhost`, and flagged CA:TRUE — the trait
/// that makes rustls reject it in `verify-ca`/`verify-full` (`CaUsedAsEndEntity`).
/// Clients that want to trust it use the certificate itself as their root.
pub(crate) fn railway_like() -> ServerCert {
    let key = KeyPair::generate().expect("generate the server key");
    let mut params = server_params();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params
        .self_signed(&key)
        .expect("self-sign the Railway-like certificate");
    ServerCert {
        sha256_hex: sha256_hex(cert.der()),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// A conventional leaf (CA:FALSE, serverAuth) signed by a fresh test CA.
/// Returns the leaf and the CA certificate's PEM (the clients' `sslrootcert`).
pub(crate) fn ca_signed() -> (ServerCert, String) {
    let (ca_pem, ca_issuer) = new_ca("intowork-testkit test CA");
    let key = KeyPair::generate().expect("generate the server key");
    let mut params = server_params();
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let cert = params
        .signed_by(&key, &ca_issuer)
        .expect("sign the server certificate with the test CA");
    let leaf = ServerCert {
        sha256_hex: sha256_hex(cert.der()),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    };
    (leaf, ca_pem)
}

/// PEM of a CA that signed nothing the servers present (for "wrong CA" tests).
pub(crate) fn unrelated_ca() -> String {
    new_ca("intowork-testkit unrelated CA").0
}

fn server_params() -> CertificateParams {
    let mut params = CertificateParams::new(SERVER_NAMES.map(str::to_owned).to_vec())
        .expect("valid server names");
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params
}

fn new_ca(common_name: &str) -> (String, Issuer<'static, KeyPair>) {
    let key = KeyPair::generate().expect("generate a CA key");
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let cert = params.self_signed(&key).expect("self-sign a test CA");
    (cert.pem(), Issuer::new(params, key))
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
        let server = railway_like();
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
        let (leaf, ca_pem) = ca_signed();
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
}
