//! The decrypted payload: validity window and who the session belongs to.

use serde_json::Value;

/// jose's `clockTolerance` in both libraries' `decode` (next-auth 4.24 `jwt/index.ts`,
/// @auth/core 0.41 `jwt.ts`): `exp` and `nbf` get 15 seconds of slack either way.
pub const LEEWAY_SECS: f64 = 15.0;

/// The session's person, as the frontend's `jwt` callback left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub email: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("the session token's payload is not a JSON object")]
    NotJson,
    /// Both libraries always set `exp`; a token without one would never expire.
    #[error("the session token has no expiry")]
    NoExpiry,
    #[error("the session has expired")]
    Expired,
    #[error("the session is not valid yet")]
    NotYetValid,
    #[error("the session carries no email address")]
    NoEmail,
    /// Checked before any SQL: PostgreSQL refuses NUL in text, and an address with control
    /// characters is no address (they would reach email headers too).
    #[error("the session's `{0}` holds a character that cannot be stored (a control character)")]
    Unstorable(&'static str),
}

/// jose's rules (`lib/jwt_claims_set.js`): expired when `exp <= now - leeway`, early when
/// `nbf > now + leeway`; both must be numbers when present.
pub fn validate(payload: &[u8], now: f64) -> Result<Claims, Invalid> {
    let doc: Value = serde_json::from_slice(payload).map_err(|_| Invalid::NotJson)?;
    let doc = doc.as_object().ok_or(Invalid::NotJson)?;
    let exp = doc.get("exp").ok_or(Invalid::NoExpiry)?;
    let exp = exp.as_f64().ok_or(Invalid::NoExpiry)?;
    if exp <= now - LEEWAY_SECS {
        return Err(Invalid::Expired);
    }
    if let Some(nbf) = doc.get("nbf") {
        let nbf = nbf.as_f64().ok_or(Invalid::NotYetValid)?;
        if nbf > now + LEEWAY_SECS {
            return Err(Invalid::NotYetValid);
        }
    }
    let email = doc
        .get("email")
        .and_then(Value::as_str)
        .map(str::trim)
        .ok_or(Invalid::NoEmail)?;
    if email.chars().any(char::is_control) {
        return Err(Invalid::Unstorable("email"));
    }
    if !plausible_email(email) {
        return Err(Invalid::NoEmail);
    }
    let name = doc
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    if name.as_deref().is_some_and(|n| n.contains('\0')) {
        return Err(Invalid::Unstorable("name"));
    }
    Ok(Claims {
        email: email.to_owned(),
        name,
    })
}

/// The shape `users.email`'s CHECK accepts, so a bad claim is a 401, not a failed insert.
fn plausible_email(e: &str) -> bool {
    let Some((local, domain)) = e.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !local.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && e.len() <= 320
        && !e.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(json: &str, now: f64) -> Result<Claims, Invalid> {
        validate(json.as_bytes(), now)
    }

    #[test]
    fn window_and_identity() {
        let now = 1_800_000_000.0;
        let ok = check(
            r#"{"exp":1800000100,"email":" Ann@Example.com ","name":"Ann"}"#,
            now,
        );
        assert_eq!(
            ok.unwrap(),
            Claims {
                email: "Ann@Example.com".into(),
                name: Some("Ann".into())
            }
        );
        // Within the leeway either way.
        assert!(check(r#"{"exp":1799999990,"email":"a@b.co"}"#, now).is_ok());
        assert!(
            check(
                r#"{"exp":1800000100,"nbf":1800000010,"email":"a@b.co"}"#,
                now
            )
            .is_ok()
        );
        let cases = [
            ("[]", Invalid::NotJson),
            (r#"{"email":"a@b.co"}"#, Invalid::NoExpiry),
            (r#"{"exp":"soon","email":"a@b.co"}"#, Invalid::NoExpiry),
            (r#"{"exp":1799999985,"email":"a@b.co"}"#, Invalid::Expired),
            (
                r#"{"exp":1800000100,"nbf":1800000016,"email":"a@b.co"}"#,
                Invalid::NotYetValid,
            ),
            (r#"{"exp":1800000100}"#, Invalid::NoEmail),
            (r#"{"exp":1800000100,"email":"nobody"}"#, Invalid::NoEmail),
            (r#"{"exp":1800000100,"email":"a b@c.de"}"#, Invalid::NoEmail),
            (
                r#"{"exp":1800000100,"email":"a\u0000b@c.de"}"#,
                Invalid::Unstorable("email"),
            ),
            (
                r#"{"exp":1800000100,"email":"a\u001bb@c.de"}"#,
                Invalid::Unstorable("email"),
            ),
            (
                r#"{"exp":1800000100,"email":"a@c.de","name":"A\u0000"}"#,
                Invalid::Unstorable("name"),
            ),
        ];
        for (json, want) in cases {
            assert_eq!(check(json, now).unwrap_err(), want, "{json}");
        }
    }
}
