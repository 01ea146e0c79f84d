//! The routes: health for the platform, the job-offer and applications API for the frontend.

mod applications;
mod health;
mod jobs;
mod me;

use axum::Router;
use axum::routing::{get, patch};

use crate::api_error::ApiError;
use crate::state::AppState;

/// A path id, or 400 naming what it should have been.
fn parse_id(text: &str, what: &str) -> Result<i64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::BadRequest(format!("`{text}` is not a {what} id")))
}

/// The routes alone; [`crate::http::service`] puts the middleware around them.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/api/me", get(me::me))
        .route("/api/jobs", get(jobs::list))
        .route("/api/jobs/{id}", get(jobs::show))
        .route(
            "/api/jobs/{id}/applications",
            get(applications::received).post(applications::submit),
        )
        .route("/api/applications", get(applications::mine))
        .route("/api/applications/{id}", patch(applications::change))
        .with_state(state)
}
