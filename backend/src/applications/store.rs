//! The applications' SQL. Invariants live in the database: one application per candidate and
//! offer (a unique constraint, so two identical requests at once make one row), status changes
//! under a row lock, and the email rows in the same transaction as the change.

use chrono::{DateTime, Utc};
use intowork_db::Pool;
use serde::Serialize;
use sqlx::PgConnection;

use super::Refused;
use super::status::{Actor, Refusal, Status};
use crate::email::compose::{self, Facts, Links};
use crate::email::outbox;
use crate::pagination::Cursor;
use crate::users::{Role, User};

/// An application as its candidate sees it right after a change.
#[derive(Debug, Clone, Serialize)]
pub struct Application {
    pub id: i64,
    pub job_offer_id: i64,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One line of a candidate's list: the application with its offer.
#[derive(Debug, Clone, Serialize)]
pub struct Mine {
    pub id: i64,
    pub job_offer_id: i64,
    pub status: Status,
    pub cover_letter: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub offer_title: String,
    pub company: String,
    pub company_slug: String,
}

/// One line of an employer's inbox: the application with its candidate.
#[derive(Debug, Clone, Serialize)]
pub struct Received {
    pub id: i64,
    pub job_offer_id: i64,
    pub status: Status,
    pub cover_letter: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub candidate_id: i64,
    pub candidate_name: String,
    pub candidate_email: String,
}

/// Applies `candidate` to a published offer and queues both emails, atomically.
pub async fn submit(
    pool: &Pool,
    candidate: &User,
    offer_id: i64,
    cover_letter: Option<&str>,
    links: &Links,
) -> Result<Application, Refused> {
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    // A concurrent identical insert waits on the unique index, then does nothing.
    let inserted = sqlx::query_as!(
        Application,
        r#"INSERT INTO applications (job_offer_id, candidate_id, cover_letter)
           SELECT o.id, $2, $3 FROM job_offers o WHERE o.id = $1 AND o.status = 'published'
           ON CONFLICT (candidate_id, job_offer_id) DO NOTHING
           RETURNING id, job_offer_id, status AS "status: Status", created_at, updated_at"#,
        offer_id,
        candidate.id,
        cover_letter
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(application) = inserted else {
        let refusal = if published(&mut tx, offer_id).await? {
            Refused::AlreadyApplied(offer_id)
        } else {
            Refused::OfferNotFound(offer_id)
        };
        // Ended here, so the connection goes back to the pool instead of being closed.
        tx.rollback().await?;
        return Err(refusal);
    };
    let offer = sqlx::query!(
        r#"SELECT o.title, c.name AS company, u.email AS owner_email
             FROM job_offers o JOIN companies c ON c.id = o.company_id JOIN users u ON u.id = c.owner_id
            WHERE o.id = $1"#,
        offer_id
    )
    .fetch_one(&mut *tx)
    .await?;
    let facts = Facts {
        job_offer_id: offer_id,
        offer_title: &offer.title,
        company: &offer.company,
        candidate_name: &candidate.full_name,
        candidate_email: &candidate.email,
    };
    outbox::enqueue(&mut tx, &compose::submitted_to_candidate(&facts, links)).await?;
    outbox::enqueue(
        &mut tx,
        &compose::received_to_owner(&facts, &offer.owner_email, links),
    )
    .await?;
    tx.commit().await?;
    Ok(application)
}

async fn published(conn: &mut PgConnection, offer_id: i64) -> Result<bool, sqlx::Error> {
    let found = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM job_offers WHERE id = $1 AND status = 'published') AS "found!""#,
        offer_id
    )
    .fetch_one(conn)
    .await?;
    Ok(found)
}

/// The candidate's applications after `after`, newest first; `limit + 1` rows at most.
pub async fn mine(
    pool: &Pool,
    candidate_id: i64,
    after: Option<Cursor>,
    limit: i64,
) -> Result<Vec<Mine>, sqlx::Error> {
    pool.read(|mut conn| async move {
        sqlx::query_as!(
            Mine,
            r#"SELECT a.id, a.job_offer_id, a.status AS "status: Status", a.cover_letter,
                  a.created_at, a.updated_at, o.title AS offer_title, c.name AS company,
                  c.slug AS company_slug
             FROM applications a
             JOIN job_offers o ON o.id = a.job_offer_id
             JOIN companies c ON c.id = o.company_id
            WHERE a.candidate_id = $1
              AND ($2::timestamptz IS NULL OR (a.created_at, a.id) < ($2, $3))
            ORDER BY a.created_at DESC, a.id DESC
            LIMIT $4"#,
            candidate_id,
            after.map(|c| c.at),
            after.map_or(0, |c| c.id),
            limit + 1
        )
        .fetch_all(&mut *conn)
        .await
    })
    .await
}

/// The applications to an offer of `employer`'s company, newest first; `limit + 1` at most.
pub async fn received(
    pool: &Pool,
    employer: &User,
    offer_id: i64,
    status: Option<Status>,
    after: Option<Cursor>,
    limit: i64,
) -> Result<Vec<Received>, Refused> {
    let owner = pool
        .read(|mut conn| async move {
            sqlx::query_scalar!(
                "SELECT c.owner_id FROM job_offers o JOIN companies c ON c.id = o.company_id WHERE o.id = $1",
                offer_id
            )
            .fetch_optional(&mut *conn)
            .await
        })
        .await?
        .ok_or(Refused::OfferNotFound(offer_id))?;
    if employer.role != Role::Employer || owner != employer.id {
        return Err(Refused::NotOwner);
    }
    let rows = pool
        .read(|mut conn| async move {
            sqlx::query_as!(
                Received,
                r#"SELECT a.id, a.job_offer_id, a.status AS "status: Status", a.cover_letter,
                  a.created_at, a.updated_at, u.id AS candidate_id, u.full_name AS candidate_name,
                  u.email AS candidate_email
             FROM applications a JOIN users u ON u.id = a.candidate_id
            WHERE a.job_offer_id = $1
              AND ($2::application_status IS NULL OR a.status = $2)
              AND ($3::timestamptz IS NULL OR (a.created_at, a.id) < ($3, $4))
            ORDER BY a.created_at DESC, a.id DESC
            LIMIT $5"#,
                offer_id,
                status as Option<Status>,
                after.map(|c| c.at),
                after.map_or(0, |c| c.id),
                limit + 1
            )
            .fetch_all(&mut *conn)
            .await
        })
        .await?;
    Ok(rows)
}

/// Moves an application to `to` if `user` may, under a row lock (concurrent changes queue and
/// see each other's result), and queues the candidate's email in the same transaction.
pub async fn change_status(
    pool: &Pool,
    user: &User,
    id: i64,
    to: Status,
    links: &Links,
) -> Result<Application, Refused> {
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    let current = sqlx::query!(
        r#"SELECT a.status AS "status: Status", a.candidate_id, a.job_offer_id, c.owner_id,
                  o.title, c.name AS company, u.email AS candidate_email,
                  u.full_name AS candidate_name
             FROM applications a
             JOIN job_offers o ON o.id = a.job_offer_id
             JOIN companies c ON c.id = o.company_id
             JOIN users u ON u.id = a.candidate_id
            WHERE a.id = $1
              FOR UPDATE OF a"#,
        id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let refusal = match &current {
        None => Some(Refused::ApplicationNotFound(id)),
        Some(c) => permit(user, id, c.owner_id, c.candidate_id, c.status, to).err(),
    };
    if let Some(refused) = refusal {
        // Ended here, so the connection goes back to the pool instead of being closed.
        tx.rollback().await?;
        return Err(refused);
    }
    let current = current.expect("found when not refused");
    let updated = sqlx::query_as!(
        Application,
        r#"UPDATE applications SET status = $2, updated_at = now() WHERE id = $1
           RETURNING id, job_offer_id, status AS "status: Status", created_at, updated_at"#,
        id,
        to as Status
    )
    .fetch_one(&mut *tx)
    .await?;
    let facts = Facts {
        job_offer_id: current.job_offer_id,
        offer_title: &current.title,
        company: &current.company,
        candidate_name: &current.candidate_name,
        candidate_email: &current.candidate_email,
    };
    outbox::enqueue(&mut tx, &compose::status_changed(&facts, to, links)).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Whether `user` may move application `id` (owned by `owner_id`'s company, submitted by
/// `candidate_id`) from `from` to `to`.
fn permit(
    user: &User,
    id: i64,
    owner_id: i64,
    candidate_id: i64,
    from: Status,
    to: Status,
) -> Result<(), Refused> {
    let actor = match user.role {
        Role::Employer if owner_id == user.id => Actor::Employer,
        Role::Candidate if candidate_id == user.id => Actor::Candidate,
        _ => return Err(Refused::NotYours(id)),
    };
    from.change(to, actor).map_err(|r| match r {
        Refusal::NotYours => Refused::WrongActor(match actor {
            Actor::Candidate => "a candidate can only withdraw an application".to_owned(),
            Actor::Employer => format!("an employer cannot set `{to}`"),
        }),
        Refusal::Forbidden => Refused::Transition { from, to },
    })
}
