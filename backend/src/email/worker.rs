//! The outbox worker, inside every backend replica: a few slots, each claiming one due row at
//! a time in its own transaction (`FOR UPDATE SKIP LOCKED`), sending it, recording the outcome
//! and committing. The row stays locked while it is sent, so another replica cannot send it
//! too; if this process dies mid-send, its transaction dies with it and the row is pending
//! again at once — re-sent with the same `Idempotency-Key`, which Resend de-duplicates.

use std::sync::Arc;
use std::time::Duration;

use intowork_db::Pool;
use rand::Rng;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::mask_address;
use super::outbox::{self, Claimed};
use super::resend::{Resend, SendOutcome};

/// Rows sent at once per replica (each holds one connection of the worker's own pool).
pub const SLOTS: u32 = 2;
/// How often an idle slot looks for due rows (a local enqueue wakes it at once).
pub const POLL: Duration = Duration::from_millis(500);
/// Attempts before a row is marked `failed` with its last error.
pub const MAX_ATTEMPTS: i32 = 12;
const FIRST_BACKOFF: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(30 * 60);
/// After a database error, a slot waits this long before trying again.
const ERROR_PAUSE: Duration = Duration::from_secs(1);

/// Where mail goes.
#[derive(Debug, Clone)]
pub enum Sender {
    Resend(Resend),
    /// No `RESEND_API_KEY` (development): rows are marked `skipped` and logged.
    Off,
}

/// Starts the slots. They stop claiming when `stop` turns true and return once their current
/// row is settled.
pub fn spawn(
    pool: Pool,
    sender: Sender,
    wake: Arc<Notify>,
    stop: watch::Receiver<bool>,
) -> JoinSet<()> {
    let mut slots = JoinSet::new();
    for _ in 0..SLOTS {
        let (pool, sender, wake, stop) = (pool.clone(), sender.clone(), wake.clone(), stop.clone());
        slots.spawn(run_slot(pool, sender, wake, stop));
    }
    slots
}

async fn run_slot(pool: Pool, sender: Sender, wake: Arc<Notify>, mut stop: watch::Receiver<bool>) {
    let mut failing = false;
    while !*stop.borrow() {
        let pause = match process_one(&pool, &sender).await {
            Ok(true) => {
                if std::mem::take(&mut failing) {
                    tracing::info!("email outbox: database reachable again");
                }
                continue;
            }
            Ok(false) => POLL,
            Err(e) => {
                // Once per outage, not once per poll.
                if !std::mem::replace(&mut failing, true) {
                    tracing::warn!(error = %e, "email outbox: cannot reach the database; pending mail waits in the table");
                }
                ERROR_PAUSE
            }
        };
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = wake.notified() => {}
            _ = stop.changed() => {}
        }
    }
}

/// Claims, sends and settles one row; `Ok(false)` when none was due.
async fn process_one(pool: &Pool, sender: &Sender) -> Result<bool, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    let Some(row) = outbox::claim(&mut tx).await? else {
        tx.commit().await?;
        return Ok(false);
    };
    match sender {
        Sender::Off => {
            outbox::mark_skipped(&mut tx, row.id).await?;
            tracing::info!(
                email_id = %row.id,
                kind = %row.kind,
                to = %mask_address(&row.to),
                subject = %row.subject,
                "email skipped: RESEND_API_KEY is not set"
            );
        }
        Sender::Resend(client) => {
            let (client, claimed) = (client.clone(), row.clone());
            let outcome = tokio::task::spawn_blocking(move || client.send(&claimed))
                .await
                .unwrap_or_else(|e| SendOutcome::Retry {
                    error: format!("the send task failed: {e}"),
                    retry_after: None,
                });
            settle(&mut tx, &row, outcome).await?;
        }
    }
    // If this fails (the database went away), the row is pending again and is re-sent later
    // with the same Idempotency-Key: Resend answers with the first send's result.
    tx.commit().await?;
    Ok(true)
}

async fn settle(
    conn: &mut sqlx::PgConnection,
    row: &Claimed,
    outcome: SendOutcome,
) -> Result<(), sqlx::Error> {
    let attempt = row.attempts + 1;
    let to = mask_address(&row.to);
    match outcome {
        SendOutcome::Sent { provider_id } => {
            outbox::mark_sent(conn, row.id, provider_id.as_deref()).await?;
            tracing::info!(email_id = %row.id, kind = %row.kind, %to, attempt, "email sent");
        }
        SendOutcome::Retry { error, .. } if attempt >= MAX_ATTEMPTS => {
            let error = format!("gave up after {attempt} attempts; last error: {error}");
            outbox::mark_failed(conn, row.id, &error).await?;
            tracing::error!(email_id = %row.id, kind = %row.kind, %to, %error, "email failed");
        }
        SendOutcome::Retry { error, retry_after } => {
            let delay = backoff(row.attempts).max(retry_after.unwrap_or_default());
            outbox::mark_retry(conn, row.id, delay, &error).await?;
            tracing::warn!(email_id = %row.id, kind = %row.kind, %to, attempt, retry_in_ms = delay.as_millis() as u64, %error, "email not sent yet; will retry");
        }
        SendOutcome::Rejected { error } => {
            outbox::mark_failed(conn, row.id, &error).await?;
            tracing::error!(email_id = %row.id, kind = %row.kind, %to, %error, "email rejected by Resend; not retried");
        }
    }
    Ok(())
}

/// 2 s, 4 s, 8 s, … up to 30 min, plus up to 10 % jitter so replicas do not retry in step.
pub fn backoff(attempts_before: i32) -> Duration {
    let exp = attempts_before.clamp(0, 20) as u32;
    let base = FIRST_BACKOFF.saturating_mul(1 << exp).min(MAX_BACKOFF);
    let jitter = base.mul_f64(rand::rng().random_range(0.0..0.1));
    base + jitter
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_caps() {
        for (attempts, secs) in [(0, 2), (1, 4), (2, 8), (5, 64), (10, 1800), (40, 1800)] {
            let d = backoff(attempts);
            let base = Duration::from_secs(secs);
            assert!(d >= base && d <= base.mul_f64(1.1), "{attempts}: {d:?}");
        }
    }
}
