//! The `email_outbox` table: rows written with the change that causes them, claimed one at a
//! time by the worker under a row lock (`FOR UPDATE SKIP LOCKED`), so two replicas never hold
//! the same row.

use std::time::Duration;

use sqlx::PgConnection;
use uuid::Uuid;

use super::Email;

/// Writes `email` in the caller's transaction: it exists exactly when the change commits.
pub async fn enqueue(conn: &mut PgConnection, email: &Email) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO email_outbox (kind, recipient, subject, body_text) VALUES ($1, $2, $3, $4) RETURNING id",
        email.kind.as_str(),
        email.to,
        email.subject,
        email.text
    )
    .fetch_one(conn)
    .await
}

/// A claimed row: locked by the claiming transaction until it commits or dies.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: Uuid,
    pub kind: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    /// Sends tried before this one.
    pub attempts: i32,
}

/// The oldest due row nobody else holds, locked by the caller's transaction; `None` when there
/// is nothing to do.
pub async fn claim(tx: &mut PgConnection) -> Result<Option<Claimed>, sqlx::Error> {
    sqlx::query_as!(
        Claimed,
        r#"SELECT id, kind, recipient AS "to", subject, body_text AS "text", attempts
             FROM email_outbox
            WHERE status = 'pending' AND next_attempt_at <= now()
            ORDER BY next_attempt_at
            LIMIT 1
              FOR UPDATE SKIP LOCKED"#
    )
    .fetch_optional(tx)
    .await
}

pub async fn mark_sent(
    conn: &mut PgConnection,
    id: Uuid,
    provider_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE email_outbox
            SET status = 'sent', attempts = attempts + 1, sent_at = now(), provider_id = $2,
                last_error = NULL, updated_at = now()
          WHERE id = $1",
        id,
        provider_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Another attempt after `delay`, keeping the error that caused it.
pub async fn mark_retry(
    conn: &mut PgConnection,
    id: Uuid,
    delay: Duration,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE email_outbox
            SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $2),
                last_error = $3, updated_at = now()
          WHERE id = $1",
        id,
        delay.as_secs_f64(),
        error
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// No more attempts: refused by Resend, or out of attempts. The error stays on the row.
pub async fn mark_failed(
    conn: &mut PgConnection,
    id: Uuid,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE email_outbox
            SET status = 'failed', attempts = attempts + 1, last_error = $2, updated_at = now()
          WHERE id = $1",
        id,
        error
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Email is off (no `RESEND_API_KEY`): the row is settled without a send.
pub async fn mark_skipped(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE email_outbox SET status = 'skipped', updated_at = now() WHERE id = $1",
        id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// What readiness reports: rows still to send and how long the oldest has waited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backlog {
    pub pending: i64,
    pub oldest_pending_secs: Option<i64>,
}

pub async fn backlog(conn: &mut PgConnection) -> Result<Backlog, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT count(*) AS "pending!",
                  floor(extract(epoch FROM now() - min(created_at)))::bigint AS "oldest_pending_secs"
             FROM email_outbox
            WHERE status = 'pending'"#
    )
    .fetch_one(conn)
    .await?;
    Ok(Backlog {
        pending: row.pending,
        oldest_pending_secs: row.oldest_pending_secs,
    })
}
