//! What every handler can reach.

use std::sync::Arc;

use intowork_db::Pool;
use tokio::sync::Notify;

use crate::auth::Authenticator;
use crate::email::compose::Links;

#[derive(Debug, Clone)]
pub struct AppState {
    pub pool: Pool,
    /// The TLS policy requires an encrypted session (readiness checks it).
    pub tls_required: bool,
    /// Session-token keys, derived once from `NEXTAUTH_SECRET`.
    pub auth: Arc<Authenticator>,
    /// Where emails link to (`FRONTEND_URL`).
    pub links: Links,
    /// Wakes the outbox worker after a commit that queued mail.
    pub outbox_wake: Arc<Notify>,
}
