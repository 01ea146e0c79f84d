//! The extractor: a handler that takes [`CurrentUser`] only runs for a valid session.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::api_error::ApiError;
use crate::state::AppState;
use crate::users::{self, User};

#[derive(Debug, Clone)]
pub struct CurrentUser(pub User);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let claims = state.auth.authenticate(&parts.headers).map_err(|r| {
            tracing::debug!(reason = ?r, "no valid session");
            ApiError::Unauthorized(r)
        })?;
        Ok(CurrentUser(
            users::find_or_create(&state.pool, &claims).await?,
        ))
    }
}
