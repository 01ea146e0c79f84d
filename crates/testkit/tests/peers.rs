//! The misbehaving peers, checked with raw sockets and with psql.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::time::{Duration, Instant};

use common::{SSL_IN_USE, expect_err, expect_ok, psql};
use intowork_testkit::{DowngradeServer, Flavor, PgServer, RailwayProxy, ResetServer};

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
