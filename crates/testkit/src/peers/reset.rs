//! A server that resets every connection on its first packet.

use std::io::Read;
use std::net::TcpStream;
use std::sync::Arc;

use super::acceptor::{Acceptor, Connections};
use super::reset_on_close;

/// Accepts TCP connections and resets each (RST) as soon as the client's first packet arrives.
#[derive(Debug)]
pub struct ResetServer {
    acceptor: Acceptor,
}

impl ResetServer {
    pub fn start() -> ResetServer {
        ResetServer {
            acceptor: Acceptor::start("reset", Arc::new(reset_after_first_packet)),
        }
    }

    pub fn port(&self) -> u16 {
        self.acceptor.port()
    }
}

fn reset_after_first_packet(stream: TcpStream, _: &Arc<Connections>) {
    let mut buffer = [0; 1024];
    let _ = (&stream).read(&mut buffer);
    reset_on_close(&stream);
}
