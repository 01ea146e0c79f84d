//! A TLS probe of our own: TCP → SSLRequest → rustls handshake that records the server's
//! certificate without trusting it. sqlx has no hook for pinning or for reading the peer
//! certificate, so this is how `verify` reports certificate facts and how a
//! `DATABASE_TLS_FINGERPRINT` pin is enforced before any credentials are sent.
//!
//! The probe sends no credentials and no query: trusting any certificate here is harmless.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::certificate::CertificateFacts;
use crate::error::{Attempt, ConnectError, classify};

/// PostgreSQL's SSLRequest: length 8, code 80877103.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

#[derive(Debug, Clone)]
pub struct TlsFacts {
    /// `TLSv1.3`.
    pub version: String,
    /// `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
    pub certificate: CertificateFacts,
    pub tcp: Duration,
    pub handshake: Duration,
}

/// Connects, asks for TLS and completes a handshake, within `timeout` overall.
pub async fn probe(
    host: &str,
    port: u16,
    at: &Attempt<'_>,
    timeout: Duration,
) -> Result<TlsFacts, ConnectError> {
    match tokio::time::timeout(timeout, probe_inner(host, port, at)).await {
        Ok(result) => result,
        Err(_) => Err(ConnectError::Timeout {
            endpoint: at.endpoint.to_owned(),
            after: timeout,
        }),
    }
}

async fn probe_inner(host: &str, port: u16, at: &Attempt<'_>) -> Result<TlsFacts, ConnectError> {
    let io = |e: std::io::Error| classify(sqlx::Error::Io(e), at);
    let start = Instant::now();
    let mut tcp = TcpStream::connect((host, port)).await.map_err(io)?;
    let tcp_time = start.elapsed();

    tcp.write_all(&SSL_REQUEST).await.map_err(io)?;
    let mut answer = [0u8; 1];
    tcp.read_exact(&mut answer).await.map_err(io)?;
    if answer[0] != b'S' {
        return Err(ConnectError::TlsNotOffered {
            endpoint: at.endpoint.to_owned(),
        });
    }

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(RecordOnly(provider)))
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_owned())
        .unwrap_or_else(|_| ServerName::try_from("localhost").expect("valid name"));
    let hs_start = Instant::now();
    let mut tls = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(io)?;
    let handshake = hs_start.elapsed();

    let (_, session) = tls.get_ref();
    let version = session
        .protocol_version()
        .map(|v| tls_version_name(v.as_str()))
        .unwrap_or_default();
    let cipher = session
        .negotiated_cipher_suite()
        .and_then(|c| c.suite().as_str())
        .unwrap_or("unknown")
        .to_owned();
    let der = session
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(|c| c.as_ref().to_vec())
        .ok_or_else(|| io(std::io::Error::other("the server sent no certificate")))?;
    let certificate = CertificateFacts::from_der(&der).map_err(|e| io(std::io::Error::other(e)))?;
    // A polite close; the server logs an incomplete start-up packet either way.
    let _ = tls.shutdown().await;
    Ok(TlsFacts {
        version,
        cipher,
        certificate,
        tcp: tcp_time,
        handshake,
    })
}

/// rustls names versions `TLSv1_3`; PostgreSQL and people say `TLSv1.3`.
fn tls_version_name(name: Option<&str>) -> String {
    name.unwrap_or("unknown").replace('_', ".")
}

/// Accepts any certificate, but still checks the handshake signatures, so the facts recorded
/// are those of a server that holds the certificate's key.
#[derive(Debug)]
struct RecordOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for RecordOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
