//! The misbehaving peers, checked with raw sockets and with psql.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::common::{SSL_IN_USE, expect_err, expect_ok, psql};
use intowork_testkit::{
    DowngradeServer, Flavor, PgServer, RailwayProxy, ResetServer, TlsTerminatingProxy,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{self, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme, StreamOwned};

const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect to a peer");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("set a read timeout");
    stream
}

/// A plaintext StartupMessage (protocol 3.0, user=x).
fn startup_message() -> Vec<u8> {
    let body = b"\x00\x03\x00\x00user\x00x\x00\x00";
    let mut message = u32::try_from(body.len() + 4)
        .expect("short")
        .to_be_bytes()
        .to_vec();
    message.extend_from_slice(body);
    message
}

#[test]
fn reset_server_resets_on_the_first_packet() {
    let server = ResetServer::start();
    let mut stream = connect(server.port());
    stream.write_all(b"hello").expect("write");
    let mut buffer = [0; 16];
    let error = stream.read(&mut buffer).expect_err("the peer resets");
    assert_eq!(error.kind(), ErrorKind::ConnectionReset);
}

#[test]
fn railway_proxy_resets_plaintext_and_forwards_tls() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let proxy = RailwayProxy::start(server.port());
    let db = server.create_database();

    let mut raw = connect(proxy.port());
    raw.write_all(&startup_message()).expect("write");
    let error = raw.read(&mut [0; 16]).expect_err("plaintext is reset");
    assert_eq!(error.kind(), ErrorKind::ConnectionReset);

    // libpq words a reset during start-up either way, depending on when it notices.
    let plaintext = psql(
        &db,
        "127.0.0.1",
        proxy.port(),
        "sslmode=disable",
        SSL_IN_USE,
    )
    .expect_err("plaintext through the proxy must fail");
    assert!(
        plaintext.contains("server closed the connection unexpectedly")
            || plaintext.contains("Connection reset by peer"),
        "plaintext through the proxy: {plaintext}"
    );
    let through = psql(
        &db,
        "127.0.0.1",
        proxy.port(),
        "sslmode=require",
        SSL_IN_USE,
    );
    assert_eq!(expect_ok(through, "TLS through the proxy"), "t");
}

#[test]
fn tls_terminating_proxy_gives_the_client_tls_and_the_server_plaintext() {
    let server = PgServer::shared(Flavor::PlaintextOnly);
    let proxy = TlsTerminatingProxy::start(server.port());
    let db = server.create_database();

    // The client negotiated TLS (psql reports it), yet the server says the session is plaintext.
    let conninfo = psql(
        &db,
        "localhost",
        proxy.port(),
        "sslmode=require",
        "\\conninfo",
    );
    let conninfo = expect_ok(conninfo, "sslmode=require through the proxy");
    assert!(conninfo.contains("SSL connection"), "{conninfo}");
    let through = psql(
        &db,
        "localhost",
        proxy.port(),
        "sslmode=require",
        SSL_IN_USE,
    );
    assert_eq!(expect_ok(through, "sslmode=require through the proxy"), "f");

    // Each psql above hung up with TLS: the proxy must hang up on the server too.
    let sessions = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE usename = '{}'",
        db.user
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.psql("postgres", &sessions) != "0" {
        assert!(
            Instant::now() < deadline,
            "the server sessions outlive psql"
        );
        thread::sleep(Duration::from_millis(20));
    }
    // And the other way: the server ends the session, the client sees the end (no hang).
    expect_err(
        psql(
            &db,
            "localhost",
            proxy.port(),
            "sslmode=require",
            "SELECT pg_terminate_backend(pg_backend_pid())",
        ),
        "terminating connection due to administrator command",
        "the server ends the session",
    );

    // A connection that does not ask for TLS is piped through unchanged.
    let plaintext = psql(
        &db,
        "127.0.0.1",
        proxy.port(),
        "sslmode=disable",
        SSL_IN_USE,
    );
    assert_eq!(
        expect_ok(plaintext, "sslmode=disable through the proxy"),
        "f"
    );
    // The certificate is the proxy's own, trusted by nobody.
    expect_err(
        psql(
            &db,
            "localhost",
            proxy.port(),
            &format!(
                "sslmode=verify-full sslrootcert={}",
                server.root_cert_path().display()
            ),
            SSL_IN_USE,
        ),
        "certificate verify failed",
        "verify-full through the proxy",
    );
}

/// Accepts any certificate with a valid handshake signature: the TLS-terminating proxy's is
/// its own and nobody's root, and these tests are about its piping, not about trust.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// SSLRequest, `S`, then a TLS client (handshaking on first use) over the same socket.
fn tls_client(port: u16) -> StreamOwned<ClientConnection, TcpStream> {
    let mut stream = connect(port);
    stream
        .write_all(&SSL_REQUEST)
        .expect("write the SSLRequest");
    let mut answer = [0; 1];
    stream.read_exact(&mut answer).expect("read the answer");
    assert_eq!(&answer, b"S");
    let provider = Arc::new(crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    let name = ServerName::try_from("localhost").expect("a valid name");
    let conn = ClientConnection::new(Arc::new(config), name).expect("a TLS client");
    StreamOwned::new(conn, stream)
}

/// A TLS client through the proxy and the upstream end of its connection, after one byte
/// each way.
fn tls_session(
    proxy: &TlsTerminatingProxy,
    upstream: &TcpListener,
) -> (StreamOwned<ClientConnection, TcpStream>, TcpStream) {
    let mut client = tls_client(proxy.port());
    client.write_all(b"?").expect("write through TLS");
    client.flush().expect("flush TLS");
    let (mut server, _) = upstream.accept().expect("the proxy connects upstream");
    server
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("set a read timeout");
    let mut byte = [0; 1];
    server.read_exact(&mut byte).expect("decrypted upstream");
    assert_eq!(&byte, b"?");
    server.write_all(b"!").expect("write upstream");
    client.read_exact(&mut byte).expect("encrypted back");
    assert_eq!(&byte, b"!");
    (client, server)
}

#[test]
fn tls_terminating_proxy_passes_on_the_end_of_either_side() {
    // A plain listener as the upstream, to see exactly what the proxy sends it.
    let upstream = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let upstream_port = upstream.local_addr().expect("address").port();
    let proxy = TlsTerminatingProxy::start(upstream_port);

    // The client drops TCP without close_notify (or Terminate): the upstream sees the end.
    let (client, mut server) = tls_session(&proxy, &upstream);
    drop(client);
    assert!(matches!(server.read(&mut [0; 16]), Ok(0)), "upstream end");

    // The upstream hangs up: the client gets a clean TLS end (close_notify, then Ok(0)).
    let (mut client, server) = tls_session(&proxy, &upstream);
    drop(server);
    assert!(matches!(client.read(&mut [0; 16]), Ok(0)), "client end");

    // Dropping the proxy ends an open session promptly on both sides.
    let (mut client, mut server) = tls_session(&proxy, &upstream);
    let started = Instant::now();
    drop(proxy);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "drop took {:?}",
        started.elapsed()
    );
    assert!(matches!(server.read(&mut [0; 16]), Ok(0) | Err(_)));
    assert!(matches!(client.read(&mut [0; 16]), Ok(0) | Err(_)));
}

#[test]
fn downgrade_server_sees_no_bytes_from_a_client_that_requires_tls() {
    let server = PgServer::shared(Flavor::PlaintextOnly);
    let db = server.create_database();
    let downgrade = DowngradeServer::start();

    expect_err(
        psql(
            &db,
            "127.0.0.1",
            downgrade.port(),
            "sslmode=require",
            "SELECT 1",
        ),
        "server does not support SSL",
        "sslmode=require against a server that refuses TLS",
    );
    assert_eq!(downgrade.bytes_after_refusal(), 0);

    // Control: a client that falls back (sslmode=prefer) is caught, so the counter can fail.
    expect_err(
        psql(
            &db,
            "127.0.0.1",
            downgrade.port(),
            "sslmode=prefer",
            "SELECT 1",
        ),
        "plaintext refused",
        "sslmode=prefer falls back to plaintext",
    );
    assert!(downgrade.bytes_after_refusal() > 0);
}

#[test]
fn downgrade_server_answers_n_to_ssl_request() {
    let downgrade = DowngradeServer::start();
    let mut stream = connect(downgrade.port());
    stream.write_all(&SSL_REQUEST).expect("write");
    let mut answer = [0; 1];
    stream.read_exact(&mut answer).expect("read the answer");
    assert_eq!(&answer, b"N");
    drop(stream);
    assert_eq!(downgrade.bytes_after_refusal(), 0);
}

#[test]
fn dropping_a_peer_closes_its_open_connections_promptly() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let proxy = RailwayProxy::start(server.port());
    let port = proxy.port();
    let mut stream = connect(port);
    stream.write_all(&SSL_REQUEST).expect("write");
    let mut answer = [0; 1];
    stream
        .read_exact(&mut answer)
        .expect("PostgreSQL answers through the proxy");
    assert_eq!(&answer, b"S");

    let started = Instant::now();
    drop(proxy); // a piped connection is open in both directions
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "drop took {:?}",
        started.elapsed()
    );
    assert!(
        matches!(stream.read(&mut [0; 16]), Ok(0) | Err(_)),
        "the client sees the end"
    );
    assert!(
        TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(),
        "nothing listens after drop"
    );

    let reset = ResetServer::start();
    let idle = connect(reset.port()); // never writes: its thread blocks in read until drop
    let started = Instant::now();
    drop(reset);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "drop took {:?}",
        started.elapsed()
    );
    drop(idle);
}
