//! A TCP proxy that behaves like Railway's edge in front of PostgreSQL.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpStream};
use std::sync::Arc;

use super::acceptor::{Acceptor, Connections};
use super::{SSL_REQUEST, reset_on_close};

/// TCP proxy in front of a PostgreSQL server on 127.0.0.1:`upstream_port`, like Railway's:
/// a connection that opens with an SSLRequest is forwarded and piped both ways; anything
/// else (a client speaking plaintext) is reset — the incident's "Connection reset by peer".
#[derive(Debug)]
pub struct RailwayProxy {
    acceptor: Acceptor,
}

impl RailwayProxy {
    pub fn start(upstream_port: u16) -> RailwayProxy {
        let handler = move |client: TcpStream, connections: &Arc<Connections>| {
            proxy(client, upstream_port, connections);
        };
        RailwayProxy {
            acceptor: Acceptor::start("railway-proxy", Arc::new(handler)),
        }
    }

    pub fn port(&self) -> u16 {
        self.acceptor.port()
    }
}

fn proxy(client: TcpStream, upstream_port: u16, connections: &Arc<Connections>) {
    let mut first = [0; 8];
    if (&client).read_exact(&mut first).is_err() {
        return;
    }
    if first != SSL_REQUEST {
        reset_on_close(&client);
        return;
    }
    let Ok(upstream) = TcpStream::connect((Ipv4Addr::LOCALHOST, upstream_port)) else {
        reset_on_close(&client);
        return;
    };
    let _tracked = connections.track(&upstream);
    if (&upstream).write_all(&first).is_err() {
        return;
    }
    pipe_both_ways(&client, &upstream, connections);
}

/// Pipes `client` to `upstream` on this thread and back on another, until both ends close.
/// The caller tracks both sockets for as long as it runs.
pub(super) fn pipe_both_ways(
    client: &TcpStream,
    upstream: &TcpStream,
    connections: &Arc<Connections>,
) {
    let (Ok(client_back), Ok(upstream_back)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    // The other direction can outlive this thread: it keeps both sockets known to the drop.
    let tracked_back = (
        connections.track(&client_back),
        connections.track(&upstream_back),
    );
    connections.spawn(move || {
        let _tracked = tracked_back;
        pipe(&upstream_back, &client_back);
    });
    pipe(client, upstream);
}

/// Copies until end of stream, then passes the end on (half-close), like a TCP proxy does.
fn pipe(from: &TcpStream, to: &TcpStream) {
    let _ = io::copy(&mut &*from, &mut &*to);
    let _ = to.shutdown(Shutdown::Write);
}
