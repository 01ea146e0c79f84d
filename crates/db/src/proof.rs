//! Defence in depth: ask the server itself whether this session is encrypted.

use sqlx::PgConnection;

/// One row of `pg_stat_ssl` for our own backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTls {
    pub ssl: bool,
    pub version: Option<String>,
    pub cipher: Option<String>,
    pub bits: Option<i32>,
}

pub async fn session_tls(conn: &mut PgConnection) -> Result<SessionTls, sqlx::Error> {
    // A view: sqlx cannot see that `ssl` is never null, so say it (`!`).
    sqlx::query_as!(
        SessionTls,
        r#"SELECT ssl AS "ssl!", version, cipher, bits FROM pg_stat_ssl WHERE pid = pg_backend_pid()"#
    )
    .fetch_one(conn)
    .await
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
