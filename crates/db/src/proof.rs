//! Defence in depth: ask the server itself whether this session is encrypted.

use sqlx::{Executor as _, PgConnection, Row as _};

/// One row of `pg_stat_ssl` for our own backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTls {
    pub ssl: bool,
    pub version: Option<String>,
    pub cipher: Option<String>,
    pub bits: Option<i32>,
}

/// Sent as one simple query (no `Parse`/`Bind`, no prepared statement): one round trip, and
/// safe on a fresh connection behind a transaction pooler, where the two halves of an
/// extended-protocol statement may reach different server connections (`pool/pinned.rs`).
/// Through a pooler it reports the pooler's session with the server.
pub async fn session_tls(conn: &mut PgConnection) -> Result<SessionTls, sqlx::Error> {
    // A `&str` without arguments is sent as a simple query.
    let row = conn
        .fetch_one(
            "SELECT ssl, version, cipher, bits FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        )
        .await?;
    Ok(SessionTls {
        ssl: row.try_get("ssl")?,
        version: row.try_get("version")?,
        cipher: row.try_get("cipher")?,
        bits: row.try_get("bits")?,
    })
}

impl std::fmt::Display for SessionTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.ssl {
            return f.write_str("not encrypted");
        }
        write!(
            f,
            "encrypted: {} {} ({} bits)",
            self.version.as_deref().unwrap_or("?"),
            self.cipher.as_deref().unwrap_or("?"),
            self.bits
                .map(|b| b.to_string())
                .unwrap_or_else(|| "?".into())
        )
    }
}
