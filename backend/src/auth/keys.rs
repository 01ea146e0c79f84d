//! The keys a session token can be encrypted with, derived from `NEXTAUTH_SECRET` exactly as
//! the frontend's libraries derive them (HKDF-SHA256), once at start-up.
//!
//! - next-auth 4.24 (`next-auth/src/jwt/index.ts`, `getDerivedEncryptionKey`):
//!   `hkdf("sha256", secret, salt = "", "NextAuth.js Generated Encryption Key", 32)` for session
//!   tokens (an empty salt; a non-empty one would append ` (<salt>)` to the info), `enc`
//!   `A256GCM`, no `kid`.
//! - @auth/core 0.41 (`@auth/core/src/jwt.ts`, `getDerivedEncryptionKey`):
//!   `hkdf("sha256", secret, salt, "Auth.js Generated Encryption Key (<salt>)", 64 | 32)` where
//!   the salt is the session cookie's name (`getToken`'s default) and the length follows `enc`
//!   (`A256CBC-HS512` → 64, `A256GCM` → 32). `encode` writes `enc: "A256CBC-HS512"` and
//!   `kid` = the JWK thumbprint (RFC 7638) of the derived key, SHA-512 for a 64-byte key,
//!   SHA-256 for a 32-byte one; `decode` also accepts `A256GCM`.
//! - Cookie names: `next-auth/src/core/lib/cookie.ts` (`defaultCookies`) and
//!   `@auth/core/src/lib/utils/cookie.ts` (`defaultCookies`): `__Secure-` prefixed on https.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use sha2::{Digest, Sha256, Sha512};

/// next-auth 4's session cookies (plain on http, `__Secure-` on https).
pub const V4_COOKIES: [&str; 2] = [
    "__Secure-next-auth.session-token",
    "next-auth.session-token",
];
/// Auth.js 5's session cookies; each name is also the HKDF salt of the tokens it carries.
pub const V5_COOKIES: [&str; 2] = ["__Secure-authjs.session-token", "authjs.session-token"];

const V4_INFO: &str = "NextAuth.js Generated Encryption Key";

/// The JWE content encryptions the frontend's libraries produce or accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enc {
    A256Gcm,
    A256CbcHs512,
}

impl Enc {
    pub fn parse(name: &str) -> Option<Enc> {
        match name {
            "A256GCM" => Some(Enc::A256Gcm),
            "A256CBC-HS512" => Some(Enc::A256CbcHs512),
            _ => None,
        }
    }

    pub fn key_len(self) -> usize {
        match self {
            Enc::A256Gcm => 32,
            Enc::A256CbcHs512 => 64,
        }
    }

    pub fn iv_len(self) -> usize {
        match self {
            Enc::A256Gcm => 12,
            Enc::A256CbcHs512 => 16,
        }
    }

    pub fn tag_len(self) -> usize {
        match self {
            Enc::A256Gcm => 16,
            Enc::A256CbcHs512 => 32,
        }
    }
}

/// Which library's derivation a key follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Library {
    NextAuthV4,
    /// Auth.js 5, salted with this cookie name.
    AuthJs {
        salt: &'static str,
    },
}

/// One derived key. Its bytes never reach `Debug` or a log.
pub struct Key {
    pub library: Library,
    pub enc: Enc,
    pub bytes: Vec<u8>,
    /// RFC 7638 thumbprint, as Auth.js writes it in the header's `kid`.
    pub thumbprint: String,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("library", &self.library)
            .field("enc", &self.enc)
            .field("bytes", &"<redacted>")
            .finish()
    }
}

/// Every key a token may have been made with.
#[derive(Debug)]
pub struct SessionKeys {
    keys: Vec<Key>,
}

impl SessionKeys {
    pub fn derive(secret: &str) -> SessionKeys {
        let mut keys = vec![key(secret, Library::NextAuthV4, Enc::A256Gcm)];
        for salt in V5_COOKIES {
            for enc in [Enc::A256CbcHs512, Enc::A256Gcm] {
                keys.push(key(secret, Library::AuthJs { salt }, enc));
            }
        }
        SessionKeys { keys }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Key> {
        self.keys.iter()
    }
}

fn key(secret: &str, library: Library, enc: Enc) -> Key {
    let (salt, info) = match library {
        Library::NextAuthV4 => (String::new(), V4_INFO.to_owned()),
        Library::AuthJs { salt } => (
            salt.to_owned(),
            format!("Auth.js Generated Encryption Key ({salt})"),
        ),
    };
    let mut bytes = vec![0; enc.key_len()];
    Hkdf::<Sha256>::new(Some(salt.as_bytes()), secret.as_bytes())
        .expand(info.as_bytes(), &mut bytes)
        .expect("32 or 64 bytes is a valid HKDF-SHA256 length");
    let thumbprint = thumbprint(&bytes);
    Key {
        library,
        enc,
        bytes,
        thumbprint,
    }
}

/// RFC 7638 for an `oct` key: the digest of `{"k":…,"kty":"oct"}` (members in lexicographic
/// order, no spaces), base64url; jose's `calculateJwkThumbprint` with `sha${bits}`.
fn thumbprint(key: &[u8]) -> String {
    let jwk = format!(r#"{{"k":"{}","kty":"oct"}}"#, URL_SAFE_NO_PAD.encode(key));
    if key.len() == 64 {
        URL_SAFE_NO_PAD.encode(Sha512::digest(jwk.as_bytes()))
    } else {
        URL_SAFE_NO_PAD.encode(Sha256::digest(jwk.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_32_byte_key_is_the_prefix_of_the_64_byte_one() {
        // HKDF-Expand's first block does not depend on the length asked for.
        let keys = SessionKeys::derive("0123456789abcdef0123456789abcdef");
        let salted = |enc| {
            keys.iter()
                .find(|k| {
                    k.library
                        == Library::AuthJs {
                            salt: V5_COOKIES[1],
                        }
                        && k.enc == enc
                })
                .unwrap()
        };
        let long = salted(Enc::A256CbcHs512);
        let short = salted(Enc::A256Gcm);
        assert_eq!(&long.bytes[..32], &short.bytes[..]);
        assert_ne!(long.thumbprint, short.thumbprint);
        assert_eq!(keys.iter().count(), 5);
    }

    #[test]
    fn debug_never_shows_key_bytes() {
        let keys = SessionKeys::derive("0123456789abcdef0123456789abcdef");
        let shown = format!("{keys:?}");
        let first = &keys.iter().next().unwrap().bytes;
        assert!(shown.contains("<redacted>"));
        assert!(!shown.contains(&format!("{first:?}")));
    }
}
