//! PostgreSQL for IntoWork: every connection goes through [`connect_options`], which sets the
//! TLS mode from the validated policy, after [`route`] has proven that a name
//! allowed plaintext really is local; failures come back diagnosed ([`ConnectError`]).
//!
//! sqlx 0.8.6, not 0.9.0, on measured facts: 0.9.0 dropped `TCP_NODELAY` from its sockets
//! (launchbadge/sqlx#4022, reported as #4335), and Nagle's algorithm against PostgreSQL's
//! delayed ACKs then adds two ~40 ms stalls to every new connection (TLS handshake, start-up)
//! — seen here with strace and in `cargo xtask bench` (connect 91 ms → ~10 ms). What 0.9.0
//! fixed, rustls `VerifyCa` also checking the host name, only makes 0.8's `verify-ca` stricter,
//! and Railway's CA-flagged certificate fails `verify-ca` in both versions anyway (`require` +
//! `DATABASE_TLS_FINGERPRINT` is the Railway setup). 0.9.1 sets NODELAY again
//! (`sqlx-core` `net/socket/mod.rs`); moving is a change of its own (API, `.sqlx/` data), and
//! no longer about the pool: sqlx's pool pings on every release in 0.9.1 too, and [`Pool`] is
//! bb8 over sqlx's connections (see `pool/`).
//!
//! One export style: the connection machinery is re-exported here, flat; the two subsystems
//! with their own vocabulary keep a namespace: [`migrate`] and [`online`] (verify's stages).

mod certificate;
mod connect;
mod error;
mod locality;
pub mod migrate;
pub mod online;
mod options;
mod pool;
mod probe;
mod proof;

pub use certificate::CertificateFacts;
pub use connect::{Connected, close, connect, connect_with};
pub use error::ConnectError;
pub use locality::{Resolver, Route, SystemResolver, is_loopback, route};
pub use options::connect_options;
pub use pool::{
    ACQUIRE_TIMEOUT, Conn, Health, IDLE_TIMEOUT, MAX_LIFETIME, Pool, PoolState, Tracked, Tx,
    connect_pool, is_broken, pool,
};
pub use probe::TlsFacts;
pub use proof::{SessionTls, session_tls};
