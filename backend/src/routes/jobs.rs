//! Published job offers: `GET /api/jobs?limit=&cursor=` (keyset pagination, newest first)
//! and `GET /api/jobs/{id}`.

use std::sync::LazyLock;

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api_error::ApiError;
use crate::state::AppState;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

#[derive(Debug, Serialize, sqlx::FromRow)]
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

#[derive(Debug, Serialize)]
pub struct Page {
    pub items: Vec<JobOffer>,
    /// Pass as `cursor` to get the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    limit: Option<String>,
    cursor: Option<String>,
}

const SELECT: &str =
    "SELECT o.id, o.title, o.description, o.location, o.remote, o.salary_min, o.salary_max,
        o.published_at, c.name AS company, c.slug AS company_slug
   FROM job_offers o JOIN companies c ON c.id = o.company_id
  WHERE o.status = 'published'";

/// A page after the cursor; one row more than asked tells whether there is a next page.
pub static LIST_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{SELECT} AND ($1::timestamptz IS NULL OR (o.published_at, o.id) < ($1, $2)) ORDER BY o.published_at DESC, o.id DESC LIMIT $3"
    )
});
static SHOW_SQL: LazyLock<String> = LazyLock::new(|| format!("{SELECT} AND o.id = $1"));

pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Page>, ApiError> {
    let limit = match q.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "`limit` must be a whole number from 1 to {MAX_LIMIT}"
                ))
            })?,
    };
    let after = q.cursor.as_deref().map(Cursor::decode).transpose()?;
    let mut items: Vec<JobOffer> = sqlx::query_as(&LIST_SQL)
        .bind(after.as_ref().map(|c| c.published_at))
        .bind(after.as_ref().map_or(0, |c| c.id))
        .bind(limit + 1)
        .fetch_all(&state.pool)
        .await?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|last| {
            Cursor {
                published_at: last.published_at,
                id: last.id,
            }
            .encode()
        })
    } else {
        None
    };
    Ok(Json(Page { items, next_cursor }))
}

pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<JobOffer>, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("`{id}` is not a job offer id")))?;
    let offer: Option<JobOffer> = sqlx::query_as(&SHOW_SQL)
        .bind(id)
        .fetch_optional(&state.pool)
        .await?;
    offer
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("job offer {id} not found")))
}

/// Where the previous page ended: `<published_at in µs since epoch>_<id>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    published_at: DateTime<Utc>,
    id: i64,
}

impl Cursor {
    fn encode(self) -> String {
        format!("{}_{}", self.published_at.timestamp_micros(), self.id)
    }

    fn decode(text: &str) -> Result<Cursor, ApiError> {
        let bad = || ApiError::BadRequest("`cursor` is not one this API returned".to_owned());
        let (micros, id) = text.split_once('_').ok_or_else(bad)?;
        let published_at =
            DateTime::from_timestamp_micros(micros.parse().map_err(|_| bad())?).ok_or_else(bad)?;
        Ok(Cursor {
            published_at,
            id: id.parse().map_err(|_| bad())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        let c = Cursor {
            published_at: DateTime::from_timestamp_micros(1_790_000_000_123_456).unwrap(),
            id: 42,
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        for bad in ["", "abc", "1_", "_1", "1.5_2", "99999999999999999999_1"] {
            assert!(Cursor::decode(bad).is_err(), "{bad}");
        }
    }
}
