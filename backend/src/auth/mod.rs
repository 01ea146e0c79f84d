//! Sessions from the Next.js frontend (NextAuth 4 / Auth.js 5): the encrypted session token is
//! decrypted and checked here, in pure Rust, with keys derived from `NEXTAUTH_SECRET`.
//! [`CurrentUser`] is the extractor handlers use; anything short of a valid session is a 401.

pub mod carrier;
pub mod claims;
pub mod jwe;
pub mod keys;
pub mod mismatch;
mod session;

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use secrecy::{ExposeSecret, SecretString};

use carrier::Carrier;
use claims::Claims;
use keys::{Key, Library, SessionKeys};
use mismatch::MismatchLog;
pub use session::CurrentUser;

/// Why a request has no session. Every variant is a 401; the message tells the caller what
/// to fix without revealing anything about the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error(
        "sign in first: send the session token as `Authorization: Bearer <token>` or in the session cookie"
    )]
    Missing,
    #[error("the session cookie's chunks are incomplete")]
    BrokenChunks,
    #[error("the session token is malformed: {0}")]
    Malformed(#[from] jwe::Malformed),
    #[error("the session token was not issued with this service's secret, or was altered")]
    Undecryptable,
    #[error("{0}")]
    Claims(#[from] claims::Invalid),
}

/// The keys and the mismatch log; one per process.
#[derive(Debug)]
pub struct Authenticator {
    keys: SessionKeys,
    mismatch: MismatchLog,
}

impl Authenticator {
    pub fn new(secret: &SecretString) -> Authenticator {
        let secret = secret.expose_secret();
        Authenticator {
            keys: SessionKeys::derive(secret),
            mismatch: MismatchLog::new(intowork_config::secret_fingerprint(secret)),
        }
    }

    /// The session a request carries.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Claims, Rejection> {
        let (carrier, token) = carrier::find(headers)
            .map_err(|carrier::BrokenChunks| Rejection::BrokenChunks)?
            .ok_or(Rejection::Missing)?;
        self.verify(carrier, &token, unix_now())
    }

    /// Decrypts `token` with the keys its carrier allows and checks its claims at `now`
    /// (seconds since the epoch).
    pub fn verify(&self, carrier: Carrier, token: &str, now: f64) -> Result<Claims, Rejection> {
        let compact = jwe::parse(token)?;
        let mut kid_matched = false;
        let plaintext = self
            .keys
            .iter()
            .filter(|k| k.enc == compact.enc && fits(carrier, k))
            .filter(|k| compact.kid.as_ref().is_none_or(|kid| *kid == k.thumbprint))
            .inspect(|_| kid_matched = compact.kid.is_some())
            .find_map(|k| compact.decrypt(k));
        let Some(plaintext) = plaintext else {
            // With a matching `kid`, the key was right and the token was altered; otherwise
            // the well-formed token was made with another secret (or another cookie name).
            if !kid_matched {
                self.mismatch.record(now as i64);
            }
            return Err(Rejection::Undecryptable);
        };
        Ok(claims::validate(&plaintext, now)?)
    }
}

/// Which derivations a carrier allows: a cookie's name fixes the library and the salt.
fn fits(carrier: Carrier, key: &Key) -> bool {
    match (carrier, key.library) {
        (Carrier::Bearer, _) => true,
        (Carrier::V4Cookie(_), Library::NextAuthV4) => true,
        (Carrier::V5Cookie(name), Library::AuthJs { salt }) => name == salt,
        _ => false,
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
