//! PostgreSQL for IntoWork: every connection goes through [`connect_options`], which sets the
//! TLS mode from the validated policy; failures come back diagnosed ([`ConnectError`]).
//!
//! sqlx 0.9 (not 0.8): with rustls, 0.8's `VerifyCa` also enforced the host name, which made
//! `verify-ca` unusable for servers reached by IP or through a proxy; 0.9.0 fixed it.

pub mod certificate;
pub mod connect;
pub mod error;
pub mod migrate;
pub mod online;
pub mod options;
pub mod pool;
pub mod probe;
pub mod proof;

pub use certificate::CertificateFacts;
pub use connect::{Connected, connect};
pub use error::ConnectError;
pub use options::{DEFAULT_APPLICATION_NAME, connect_options};
pub use pool::{connect_pool, pool};
pub use probe::TlsFacts;
pub use proof::SessionTls;
