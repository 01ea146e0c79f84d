//! What every handler can reach.

use sqlx::PgPool;

#[derive(Debug, Clone)]
pub struct AppState {
    pub pool: PgPool,
    /// The TLS policy requires an encrypted session (readiness checks it).
    pub tls_required: bool,
}
