//! The migration lock: a session advisory lock, waited for with a deadline.
//!
//! sqlx's `pg_advisory_lock` waits forever; `pg_try_advisory_lock` in a loop lets a replica
//! give up with a clear error. The key is sqlx's own (salted CRC-32 of the database name), so
//! our migrators and any sqlx `Migrator::run` exclude each other.

use std::time::{Duration, Instant};

use sqlx::PgConnection;

use super::MigrateError;

const POLL: Duration = Duration::from_millis(100);

pub(crate) async fn key(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    let name = sqlx::query_scalar!(r#"SELECT current_database()::text AS "name!""#)
        .fetch_one(conn)
        .await?;
    Ok(0x3d32_ad9e * i64::from(crc32(name.as_bytes())))
}

pub(crate) async fn acquire(
    conn: &mut PgConnection,
    key: i64,
    wait: Duration,
) -> Result<(), MigrateError> {
    let start = Instant::now();
    loop {
        let got = sqlx::query_scalar!(r#"SELECT pg_try_advisory_lock($1) AS "got!""#, key)
            .fetch_one(&mut *conn)
            .await?;
        if got {
            return Ok(());
        }
        if start.elapsed() >= wait {
            return Err(MigrateError::LockWait {
                waited: start.elapsed(),
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

pub(crate) async fn release(conn: &mut PgConnection, key: i64) -> Result<(), sqlx::Error> {
    sqlx::query_scalar!("SELECT pg_advisory_unlock($1)", key)
        .fetch_one(conn)
        .await?;
    Ok(())
}

/// CRC-32 (IEEE), as sqlx computes its lock id.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(super::crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(super::crc32(b""), 0);
    }
}
