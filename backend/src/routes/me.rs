//! `GET /api/me`: who the session belongs to (the account is created on first sight).

use axum::Json;

use crate::auth::CurrentUser;
use crate::users::User;

pub async fn me(CurrentUser(user): CurrentUser) -> Json<User> {
    Json(user)
}
