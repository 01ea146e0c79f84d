//! The accept loop the peers share: a thread per connection, and a drop that stops them all.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// What a peer does with one accepted connection (on its own thread).
pub(super) type Handler = dyn Fn(TcpStream, &Arc<Connections>) + Send + Sync;

/// A listener on 127.0.0.1:0 whose drop stops accepting, shuts down every tracked socket
/// (unblocking the threads reading them) and joins every thread.
#[derive(Debug)]
pub(super) struct Acceptor {
    port: u16,
    connections: Arc<Connections>,
    accept_thread: Option<JoinHandle<()>>,
}

/// Sockets and threads of a peer, for its drop.
#[derive(Debug, Default)]
pub(super) struct Connections {
    stopping: AtomicBool,
    next_id: AtomicU64,
    sockets: Mutex<HashMap<u64, TcpStream>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// Keeps a socket known to the peer's drop until this is dropped.
#[derive(Debug)]
pub(super) struct Tracked {
    id: u64,
    connections: Arc<Connections>,
}

impl Acceptor {
    pub(super) fn start(name: &str, handler: Arc<Handler>) -> Acceptor {
        let listener =
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a peer on 127.0.0.1:0");
        let port = listener
            .local_addr()
            .expect("local address of a bound listener")
            .port();
        let connections = Arc::new(Connections::default());
        let accepting = Arc::clone(&connections);
        let accept_thread = thread::Builder::new()
            .name(format!("testkit-{name}-accept"))
            .spawn(move || accept_loop(&listener, &accepting, &handler))
            .expect("spawn a peer's accept thread");
        Acceptor {
            port,
            connections,
            accept_thread: Some(accept_thread),
        }
    }

    pub(super) fn port(&self) -> u16 {
        self.port
    }
}

fn accept_loop(listener: &TcpListener, connections: &Arc<Connections>, handler: &Arc<Handler>) {
    for stream in listener.incoming() {
        if connections.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else {
            // E.g. out of file descriptors: wait rather than spin.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        // Tracked here, before the thread exists, so that a drop racing with this connection
        // still finds the socket once the accept thread has been joined.
        let tracked = connections.track(&stream);
        let handler = Arc::clone(handler);
        let own = Arc::clone(connections);
        connections.spawn(move || {
            let _tracked = tracked;
            handler(stream, &own);
        });
        // Finished threads need no join: forget them so a long-lived peer does not grow.
        lock(&connections.threads).retain(|thread| !thread.is_finished());
    }
}

impl Connections {
    /// Makes `stream` part of the peer's shutdown until the returned guard drops.
    pub(super) fn track(self: &Arc<Self>, stream: &TcpStream) -> Tracked {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if let Ok(clone) = stream.try_clone() {
            lock(&self.sockets).insert(id, clone);
        }
        // Registered after the drop's sweep: shut it down here instead.
        if self.stopping.load(Ordering::SeqCst) {
            let _ = stream.shutdown(Shutdown::Both);
        }
        Tracked {
            id,
            connections: Arc::clone(self),
        }
    }

    /// Runs `work` on a thread the peer's drop joins.
    pub(super) fn spawn(&self, work: impl FnOnce() + Send + 'static) {
        let thread = thread::Builder::new()
            .name("testkit-peer-conn".to_owned())
            .spawn(work);
        if let Ok(thread) = thread {
            lock(&self.threads).push(thread);
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        lock(&self.connections.sockets).remove(&self.id);
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        self.connections.stopping.store(true, Ordering::SeqCst);
        // accept() has no timeout: a connection of our own wakes it up to see the flag.
        let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port));
        if let Some(accept_thread) = self.accept_thread.take() {
            let _ = accept_thread.join();
        }
        for socket in lock(&self.connections.sockets).values() {
            let _ = socket.shutdown(Shutdown::Both);
        }
        // Threads may start threads (the proxy's second direction) before they end, so pop
        // one at a time until none is left, never holding the lock while joining.
        loop {
            let next = lock(&self.connections.threads).pop();
            let Some(thread) = next else { break };
            let _ = thread.join();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
