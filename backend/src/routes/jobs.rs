//! Published job offers: `GET /api/jobs?limit=&cursor=` (keyset pagination, newest first)
//! and `GET /api/jobs/{id}`.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::parse_id;
use crate::api_error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::pagination::{Cursor, Page, PageQuery};
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct JobOffer {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub location: Option<String>,
    pub remote: bool,
    pub salary_min: Option<i32>,
    pub salary_max: Option<i32>,
    pub published_at: DateTime<Utc>,
    pub company: String,
    pub company_slug: String,
}

pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Page<JobOffer>>, ApiError> {
    let limit = q.limit()?;
    let after = q.after()?;
    // `published_at` is NOT NULL for published offers (job_offers_published_at_matches_status).
    let rows = state
        .pool
        .read(|mut conn| async move {
            sqlx::query_as!(
                JobOffer,
                r#"SELECT o.id, o.title, o.description, o.location, o.remote, o.salary_min, o.salary_max,
                  o.published_at AS "published_at!", c.name AS company, c.slug AS company_slug
             FROM job_offers o JOIN companies c ON c.id = o.company_id
            WHERE o.status = 'published'
              AND ($1::timestamptz IS NULL OR (o.published_at, o.id) < ($1, $2))
            ORDER BY o.published_at DESC, o.id DESC
            LIMIT $3"#,
                after.map(|c| c.at),
                after.map_or(0, |c| c.id),
                limit + 1
            )
            .fetch_all(&mut *conn)
            .await
        })
        .await?;
    Ok(Json(Page::from_rows(rows, limit, |o| Cursor {
        at: o.published_at,
        id: o.id,
    })))
}

pub async fn show(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<JobOffer>, ApiError> {
    let id = parse_id(&id, "job offer")?;
    let offer = state
        .pool
        .read(|mut conn| async move {
            sqlx::query_as!(
                JobOffer,
                r#"SELECT o.id, o.title, o.description, o.location, o.remote, o.salary_min, o.salary_max,
                  o.published_at AS "published_at!", c.name AS company, c.slug AS company_slug
             FROM job_offers o JOIN companies c ON c.id = o.company_id
            WHERE o.status = 'published' AND o.id = $1"#,
                id
            )
            .fetch_optional(&mut *conn)
            .await
        })
        .await?;
    offer
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("job offer {id} not found")))
}
