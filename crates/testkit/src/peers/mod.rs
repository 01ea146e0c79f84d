//! Misbehaving network peers, each a plain std listener on 127.0.0.1:0 with a thread per
//! connection, so they work from any (or no) async runtime. Dropping one stops it: its
//! threads end and its sockets close.

mod acceptor;
mod downgrade;
mod proxy;
mod reset;
mod tls_terminating;

use std::net::TcpStream;
use std::time::Duration;

use socket2::SockRef;

pub use downgrade::DowngradeServer;
pub use proxy::RailwayProxy;
pub use reset::ResetServer;
pub use tls_terminating::TlsTerminatingProxy;

/// SSLRequest: length 8, code 80877103 (0x04d2162f).
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
/// GSSENCRequest: length 8, code 80877104; libpq may send it before SSLRequest.
const GSSENC_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30];

/// Makes the connection end with RST instead of FIN when its last handle closes (SO_LINGER 0),
/// so the client sees "Connection reset by peer".
fn reset_on_close(stream: &TcpStream) {
    let _ = SockRef::from(stream).set_linger(Some(Duration::ZERO));
}
