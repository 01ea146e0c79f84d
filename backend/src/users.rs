//! Accounts, identified by the session's email (unique whatever its case). A first signed-in
//! request from an unknown address creates a candidate; employers and admins are made in the
//! database.

use intowork_db::Pool;
use serde::Serialize;

use crate::auth::claims::Claims;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, sqlx::Type)]
#[sqlx(type_name = "user_role", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Candidate,
    Employer,
    Admin,
}

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub full_name: String,
    pub role: Role,
}

/// The account for the session, created as a candidate on first sight. Two first requests at
/// once both end with the same row: the loser's insert yields to the unique index.
pub async fn find_or_create(pool: &Pool, claims: &Claims) -> Result<User, sqlx::Error> {
    if let Some(user) = by_email(pool, &claims.email).await? {
        return Ok(user);
    }
    let full_name = claims.name.clone().unwrap_or_else(|| {
        let local = claims.email.split('@').next().unwrap_or_default();
        local.to_owned()
    });
    // A write: never retried by the pool (ON CONFLICT makes a second try harmless, but a
    // broken connection is the caller's 500, not a guess).
    let mut conn = pool.acquire().await?;
    let inserted = sqlx::query_as!(
        User,
        r#"INSERT INTO users (email, full_name, role) VALUES ($1, $2, 'candidate')
           ON CONFLICT (lower(email)) DO NOTHING
           RETURNING id, email, full_name, role AS "role: Role""#,
        claims.email,
        full_name
    )
    .fetch_optional(&mut *conn)
    .await?;
    drop(conn);
    match inserted {
        Some(user) => {
            tracing::info!(
                user_id = user.id,
                "first sign-in: candidate account created"
            );
            Ok(user)
        }
        // A concurrent first request won; its row is committed by now.
        None => by_email(pool, &claims.email)
            .await?
            .ok_or(sqlx::Error::RowNotFound),
    }
}

async fn by_email(pool: &Pool, email: &str) -> Result<Option<User>, sqlx::Error> {
    pool.read(|mut conn| async move {
        sqlx::query_as!(
            User,
            r#"SELECT id, email, full_name, role AS "role: Role" FROM users WHERE lower(email) = lower($1)"#,
            email
        )
        .fetch_optional(&mut *conn)
        .await
    })
    .await
}
