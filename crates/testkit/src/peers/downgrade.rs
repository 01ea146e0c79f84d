//! A server that refuses TLS, to prove a client never falls back to plaintext.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use super::acceptor::{Acceptor, Connections};
use super::{GSSENC_REQUEST, SSL_REQUEST};

/// How long [`DowngradeServer::bytes_after_refusal`] waits for open connections to finish.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(2);
/// A client that neither speaks nor hangs up is dropped after this.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// Answers `N` ("no TLS here") to every SSLRequest and GSSENCRequest, and counts the bytes a
/// client sends otherwise: a client that honours `sslmode=require` sends none. Plaintext gets
/// a FATAL ErrorResponse so that a client that does downgrade fails fast instead of hanging.
#[derive(Debug)]
pub struct DowngradeServer {
    acceptor: Acceptor,
    state: Arc<State>,
}

#[derive(Debug, Default)]
struct State {
    plaintext_bytes: AtomicUsize,
    open_connections: AtomicUsize,
}

impl DowngradeServer {
    pub fn start() -> DowngradeServer {
        let state = Arc::new(State::default());
        let handler_state = Arc::clone(&state);
        let handler =
            move |stream: TcpStream, _: &Arc<Connections>| refuse_tls(&stream, &handler_state);
        DowngradeServer {
            acceptor: Acceptor::start("downgrade", Arc::new(handler)),
            state,
        }
    }

    pub fn port(&self) -> u16 {
        self.acceptor.port()
    }

    /// Bytes received that were not a TLS/GSS negotiation request, over all connections so far.
    /// Waits (up to 2 s) for open connections to end first, so bytes still in flight when the
    /// client returned are counted.
    pub fn bytes_after_refusal(&self) -> usize {
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        while self.state.open_connections.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        self.state.plaintext_bytes.load(Ordering::SeqCst)
    }
}

/// Counts a connection as open while it lives, even if the handler panics.
struct OpenConnection<'a>(&'a AtomicUsize);

impl Drop for OpenConnection<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn refuse_tls(stream: &TcpStream, state: &State) {
    state.open_connections.fetch_add(1, Ordering::SeqCst);
    let _open = OpenConnection(&state.open_connections);
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    loop {
        let (request, received) = read_up_to_8(stream);
        if received == 8 && (request == SSL_REQUEST || request == GSSENC_REQUEST) {
            if (&*stream).write_all(b"N").is_err() {
                return;
            }
            continue;
        }
        state.plaintext_bytes.fetch_add(received, Ordering::SeqCst);
        if received < 8 {
            return; // the client hung up
        }
        let _ = (&*stream).write_all(&error_response(
            "intowork-testkit DowngradeServer: plaintext refused",
        ));
        let _ = stream.shutdown(Shutdown::Write);
        let mut buffer = [0; 4096];
        while let Ok(n @ 1..) = (&*stream).read(&mut buffer) {
            state.plaintext_bytes.fetch_add(n, Ordering::SeqCst);
        }
        return;
    }
}

/// Reads until 8 bytes or end of stream; returns the bytes and how many arrived.
fn read_up_to_8(stream: &TcpStream) -> ([u8; 8], usize) {
    let mut request = [0; 8];
    let mut received = 0;
    while received < 8 {
        match (&*stream).read(&mut request[received..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => received += n,
        }
    }
    (request, received)
}

/// A protocol-v3 ErrorResponse: severity FATAL, SQLSTATE 08P01 (protocol violation).
fn error_response(message: &str) -> Vec<u8> {
    let mut fields = Vec::new();
    for (code, value) in [
        (b'S', "FATAL"),
        (b'V', "FATAL"),
        (b'C', "08P01"),
        (b'M', message),
    ] {
        fields.push(code);
        fields.extend_from_slice(value.as_bytes());
        fields.push(0);
    }
    fields.push(0);
    let length = u32::try_from(fields.len() + 4).expect("a short message");
    let mut response = vec![b'E'];
    response.extend_from_slice(&length.to_be_bytes());
    response.extend_from_slice(&fields);
    response
}
