//! PostgreSQL for IntoWork: every connection goes through [`connect_options`], which sets the
//! TLS mode from the validated policy, after [`locality::route`] has proven that a name
//! allowed plaintext really is local; failures come back diagnosed ([`ConnectError`]).
//!
//! sqlx 0.8.6, not 0.9.0, on measured facts: 0.9.0 dropped `TCP_NODELAY` from its sockets
//! (launchbadge/sqlx#4022, reported as #4335), and Nagle's algorithm against PostgreSQL's
//! delayed ACKs then adds two ~40 ms stalls to every new connection (TLS handshake, start-up)
//! — seen here with strace and in `cargo xtask bench` (connect 91 ms → ~10 ms). What 0.9.0
//! fixed, rustls `VerifyCa` also checking the host name, only makes 0.8's `verify-ca` stricter,
//! and Railway's CA-flagged certificate fails `verify-ca` in both versions anyway (`require` +
//! `DATABASE_TLS_FINGERPRINT` is the Railway setup). Revisit when a 0.9.x restores NODELAY.

pub mod certificate;
pub mod connect;
pub mod error;
pub mod locality;
pub mod migrate;
pub mod online;
pub mod options;
pub mod pool;
pub mod probe;
pub mod proof;

pub use certificate::CertificateFacts;
pub use connect::{Connected, connect, connect_with};
pub use error::ConnectError;
pub use locality::{Resolver, Route, SystemResolver};
pub use options::{DEFAULT_APPLICATION_NAME, connect_options};
pub use pool::{connect_pool, pool, sibling};
pub use probe::TlsFacts;
pub use proof::SessionTls;
