//! A middlebox that ends TLS in front of a plaintext PostgreSQL server.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use super::SSL_REQUEST;
use super::acceptor::{Acceptor, Connections};
use super::proxy::pipe_both_ways;

/// How long the relay waits on one side before looking at the other: the added latency per
/// idle turn, traded for needing one thread and no poller per connection.
const POLL_INTERVAL: Duration = Duration::from_millis(5);
/// TLS records carry at most 16 KiB of plaintext.
const BUFFER_SIZE: usize = 16 * 1024;

/// Speaks TLS to the client and plaintext to the PostgreSQL server on
/// 127.0.0.1:`upstream_port`: the client sees an encrypted session, with a self-signed
/// certificate for `localhost` that is the proxy's own, while the server sees a plaintext one.
/// Only asking the server (`pg_stat_ssl`) or channel binding tells the two apart. A connection
/// that does not open with an SSLRequest is piped through unchanged.
#[derive(Debug)]
pub struct TlsTerminatingProxy {
    acceptor: Acceptor,
}

impl TlsTerminatingProxy {
    pub fn start(upstream_port: u16) -> TlsTerminatingProxy {
        let config = Arc::new(server_config());
        let handler = move |client: TcpStream, connections: &Arc<Connections>| {
            terminate(client, upstream_port, &config, connections);
        };
        TlsTerminatingProxy {
            acceptor: Acceptor::start("tls-terminating-proxy", Arc::new(handler)),
        }
    }

    pub fn port(&self) -> u16 {
        self.acceptor.port()
    }
}

fn server_config() -> ServerConfig {
    // Nobody is meant to trust it: the clients under test use `sslmode=require`.
    let (cert, key) = intowork_pglocal::certs::self_signed_leaf()
        .expect("generate the proxy's self-signed certificate");
    let (cert, key) = (
        CertificateDer::from(cert),
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)),
    );
    // An explicit provider: the workspace builds rustls without a process-wide default.
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .expect("rustls accepts the proxy's certificate and key");
    // What PostgreSQL 17+ servers select; libpq 17+ offers it, older clients offer nothing.
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    config
}

fn terminate(
    client: TcpStream,
    upstream_port: u16,
    config: &Arc<ServerConfig>,
    connections: &Arc<Connections>,
) {
    let mut first = [0; 8];
    if (&client).read_exact(&mut first).is_err() {
        return;
    }
    if first != SSL_REQUEST {
        let Ok(upstream) = TcpStream::connect((Ipv4Addr::LOCALHOST, upstream_port)) else {
            return;
        };
        let _tracked = connections.track(&upstream);
        if (&upstream).write_all(&first).is_ok() {
            pipe_both_ways(&client, &upstream, connections);
        }
        return;
    }
    if (&client).write_all(b"S").is_err() {
        return;
    }
    let Ok(mut conn) = ServerConnection::new(Arc::clone(config)) else {
        return;
    };
    // Blocking without a timeout: a client that stalls here is unblocked by the proxy's drop.
    let mut client = client;
    while conn.is_handshaking() {
        if conn.complete_io(&mut client).is_err() {
            return; // e.g. the client rejected our certificate (verify-full)
        }
    }
    let mut tls = StreamOwned::new(conn, client);
    let Ok(upstream) = TcpStream::connect((Ipv4Addr::LOCALHOST, upstream_port)) else {
        close(&mut tls, None);
        return;
    };
    let _tracked = connections.track(&upstream);
    relay(&mut tls, &upstream);
    close(&mut tls, Some(&upstream));
}

/// Copies decrypted bytes both ways until either side ends or fails. A `StreamOwned` cannot
/// be shared between threads, so one thread takes turns, waiting at most [`POLL_INTERVAL`]
/// for each side. A peer that stops reading stalls both directions, which the PostgreSQL
/// protocol's request/response turns never cause.
fn relay(tls: &mut StreamOwned<ServerConnection, TcpStream>, upstream: &TcpStream) {
    let read_timeout = Some(POLL_INTERVAL);
    if tls.sock.set_read_timeout(read_timeout).is_err()
        || upstream.set_read_timeout(read_timeout).is_err()
    {
        return;
    }
    let mut buffer = vec![0; BUFFER_SIZE];
    loop {
        // Ok(0) from the client is its close_notify; a TCP end without one is an error.
        match tls.read(&mut buffer) {
            Ok(0) => return,
            Ok(n) => {
                if (&*upstream).write_all(&buffer[..n]).is_err() {
                    return;
                }
            }
            Err(error) if is_timeout(&error) => {}
            Err(_) => return,
        }
        match (&*upstream).read(&mut buffer) {
            Ok(0) => return,
            Ok(n) => {
                if tls
                    .write_all(&buffer[..n])
                    .and_then(|()| tls.flush())
                    .is_err()
                {
                    return;
                }
            }
            Err(error) if is_timeout(&error) => {}
            Err(_) => return,
        }
    }
}

/// A socket read timeout shows as `WouldBlock` on Unix and `TimedOut` on Windows.
fn is_timeout(error: &io::Error) -> bool {
    matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Ends both sides, so that whichever closed first, the other sees the end too.
fn close(tls: &mut StreamOwned<ServerConnection, TcpStream>, upstream: Option<&TcpStream>) {
    if let Some(upstream) = upstream {
        let _ = upstream.shutdown(Shutdown::Both);
    }
    tls.conn.send_close_notify();
    let _ = tls.flush();
    let _ = tls.sock.shutdown(Shutdown::Both);
}
