//! The routes: health for the platform, the job-offer API for the frontend.

mod health;
pub mod jobs;

use axum::Router;
use axum::routing::get;
use intowork_config::Settings;

use crate::state::AppState;

pub fn router(state: AppState, settings: &Settings) -> Router {
    let routes = Router::new()
        .route("/health", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/api/jobs", get(jobs::list))
        .route("/api/jobs/{id}", get(jobs::show))
        .with_state(state);
    crate::http::layers(routes, settings)
}
