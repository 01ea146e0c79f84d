//! The applications API:
//! - `POST /api/jobs/{id}/applications` `{cover_letter?}` — a candidate applies (201);
//! - `GET /api/applications?limit=&cursor=` — the candidate's own, newest first;
//! - `GET /api/jobs/{id}/applications?status=&limit=&cursor=` — the owning employer's inbox;
//! - `PATCH /api/applications/{id}` `{status}` — the employer moves it, the candidate withdraws.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::parse_id;
use crate::api_error::ApiError;
use crate::applications::status::Status;
use crate::applications::store::{self, Application, Mine, Received};
use crate::auth::CurrentUser;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::pagination::{Cursor, Page, PageQuery};
use crate::state::AppState;
use crate::users::Role;

/// `applications_cover_letter_length`, counted in characters as PostgreSQL's `length()` does.
pub const MAX_COVER_LETTER_CHARS: usize = 10_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewApplication {
    cover_letter: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Submitted {
    id: i64,
    job_offer_id: i64,
    status: Status,
    created_at: chrono::DateTime<chrono::Utc>,
}

pub async fn submit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(offer): ApiPath<String>,
    ApiJson(body): ApiJson<NewApplication>,
) -> Result<(StatusCode, Json<Submitted>), ApiError> {
    if user.role != Role::Candidate {
        return Err(ApiError::Forbidden("only candidates can apply".to_owned()));
    }
    let offer = parse_id(&offer, "job offer")?;
    let letter = body
        .cover_letter
        .as_deref()
        .filter(|l| !l.trim().is_empty());
    if let Some(chars) = letter.map(|l| l.chars().count())
        && chars > MAX_COVER_LETTER_CHARS
    {
        return Err(ApiError::BadRequest(format!(
            "`cover_letter` is {chars} characters long; at most {MAX_COVER_LETTER_CHARS} are allowed"
        )));
    }
    let a: Application = store::submit(&state.pool, &user, offer, letter, &state.links).await?;
    state.outbox_wake.notify_waiters();
    Ok((
        StatusCode::CREATED,
        Json(Submitted {
            id: a.id,
            job_offer_id: a.job_offer_id,
            status: a.status,
            created_at: a.created_at,
        }),
    ))
}

pub async fn mine(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Page<Mine>>, ApiError> {
    if user.role != Role::Candidate {
        return Err(ApiError::Forbidden(
            "only candidates have applications of their own".to_owned(),
        ));
    }
    let limit = q.limit()?;
    let rows = store::mine(&state.pool, user.id, q.after()?, limit).await?;
    Ok(Json(Page::from_rows(rows, limit, |a| Cursor {
        at: a.created_at,
        id: a.id,
    })))
}

#[derive(Debug, Deserialize)]
pub struct InboxQuery {
    status: Option<String>,
    #[serde(flatten)]
    page: PageQuery,
}

pub async fn received(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(offer): ApiPath<String>,
    ApiQuery(q): ApiQuery<InboxQuery>,
) -> Result<Json<Page<Received>>, ApiError> {
    let offer = parse_id(&offer, "job offer")?;
    let status = q.status.as_deref().map(parse_status).transpose()?;
    let limit = q.page.limit()?;
    let after = q.page.after()?;
    let rows = store::received(&state.pool, &user, offer, status, after, limit).await?;
    Ok(Json(Page::from_rows(rows, limit, |a| Cursor {
        at: a.created_at,
        id: a.id,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    status: String,
}

pub async fn change(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<StatusChange>,
) -> Result<Json<Application>, ApiError> {
    let id = parse_id(&id, "application")?;
    let to = parse_status(&body.status)?;
    let a = store::change_status(&state.pool, &user, id, to, &state.links).await?;
    state.outbox_wake.notify_waiters();
    Ok(Json(a))
}

fn parse_status(text: &str) -> Result<Status, ApiError> {
    Status::parse(text).ok_or_else(|| {
        let all: Vec<&str> = crate::applications::status::ALL
            .iter()
            .map(|s| s.as_str())
            .collect();
        ApiError::BadRequest(format!(
            "`{text}` is not an application status (one of: {})",
            all.join(", ")
        ))
    })
}
