//! The extractors handlers use for what a client sends — JSON bodies, query strings, path
//! segments — instead of axum's own, so that every refusal is an [`ApiError`] (the documented
//! `{"error","message"}` JSON, not axum's plain text) and no text the database cannot store
//! reaches a handler: a NUL character in any field is a 400 naming the field.

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api_error::ApiError;

/// A JSON body of type `T`, every string in it storable.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<Value>::from_request(req, state)
            .await
            .map_err(|r| ApiError::BadRequest(r.body_text()))?;
        if let Some(field) = unstorable(&value, "body") {
            return Err(nul(&field));
        }
        serde_json::from_value(value)
            .map(ApiJson)
            .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
    }
}

/// A query string read into `T`, every value storable.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        if let Some((name, _)) = url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(nul(&name));
        }
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(q)| ApiQuery(q))
            .map_err(|r| ApiError::BadRequest(r.body_text()))
    }
}

/// Path parameters read into `T` (`%FF` and other bytes that are not UTF-8 are a 400).
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(p)| ApiPath(p))
            .map_err(|r| ApiError::BadRequest(r.body_text()))
    }
}

fn nul(field: &str) -> ApiError {
    ApiError::BadRequest(format!(
        "`{}` contains a NUL character (\\u0000), which cannot be stored",
        field.replace('\0', "\\u0000")
    ))
}

/// The name of the first field holding a string with NUL (the key itself, for a key that
/// has one), if any.
fn unstorable(value: &Value, name: &str) -> Option<String> {
    match value {
        Value::String(s) if s.contains('\0') => Some(name.to_owned()),
        Value::Array(items) => items.iter().find_map(|v| unstorable(v, name)),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                Some(k.clone())
            } else {
                unstorable(v, k)
            }
        }),
        _ => None,
    }
}
