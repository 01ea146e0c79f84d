//! Compact JWE with `alg: "dir"` (RFC 7516 §7.1, RFC 7518 §4.5), the two content encryptions
//! the frontend's libraries use: A256GCM (RFC 7518 §5.3) and A256CBC-HS512 (§5.2.5). The
//! protected header, as its base64url text, is the additional authenticated data.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, KeyIvInit};
use hmac::{Hmac, Mac};
use sha2::Sha512;

use super::keys::{Enc, Key};

/// Why a token is not a JWE we can decrypt at all (as opposed to one that fails to decrypt).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("not five base64url segments")]
    Shape,
    #[error("the protected header is not a JSON object")]
    Header,
    #[error("not `alg: dir` with A256GCM or A256CBC-HS512")]
    Algorithm,
    #[error("the header asks for compression or critical extensions")]
    Extension,
    #[error("IV or tag of the wrong length")]
    Lengths,
}

/// A parsed token: header checked, segments decoded, nothing decrypted yet.
#[derive(Debug)]
pub struct Compact<'t> {
    protected: &'t str,
    pub enc: Enc,
    /// Auth.js's key thumbprint; next-auth 4 writes none.
    pub kid: Option<String>,
    iv: Vec<u8>,
    ciphertext: Vec<u8>,
    tag: Vec<u8>,
}

pub fn parse(token: &str) -> Result<Compact<'_>, Malformed> {
    let parts: Vec<&str> = token.split('.').collect();
    let [protected, encrypted_key, iv, ciphertext, tag] = parts[..] else {
        return Err(Malformed::Shape);
    };
    let decode = |s: &str| URL_SAFE_NO_PAD.decode(s).map_err(|_| Malformed::Shape);
    let header: serde_json::Value =
        serde_json::from_slice(&decode(protected)?).map_err(|_| Malformed::Header)?;
    let header = header.as_object().ok_or(Malformed::Header)?;
    // `dir`: the key is used as is, so there is no encrypted key.
    if header.get("alg").and_then(|a| a.as_str()) != Some("dir") || !encrypted_key.is_empty() {
        return Err(Malformed::Algorithm);
    }
    let enc = header
        .get("enc")
        .and_then(|e| e.as_str())
        .and_then(Enc::parse)
        .ok_or(Malformed::Algorithm)?;
    if header.contains_key("zip") || header.contains_key("crit") {
        return Err(Malformed::Extension);
    }
    let kid = match header.get("kid") {
        None => None,
        Some(serde_json::Value::String(k)) => Some(k.clone()),
        Some(_) => return Err(Malformed::Header),
    };
    let (iv, tag) = (decode(iv)?, decode(tag)?);
    if iv.len() != enc.iv_len() || tag.len() != enc.tag_len() {
        return Err(Malformed::Lengths);
    }
    Ok(Compact {
        protected,
        enc,
        kid,
        iv,
        ciphertext: decode(ciphertext)?,
        tag,
    })
}

impl Compact<'_> {
    /// The plaintext, or `None` when the key is not the one the token was encrypted with
    /// (or the token was altered): both fail authentication, indistinguishably.
    pub fn decrypt(&self, key: &Key) -> Option<Vec<u8>> {
        if key.enc != self.enc {
            return None;
        }
        let aad = self.protected.as_bytes();
        match self.enc {
            Enc::A256Gcm => {
                let cipher = Aes256Gcm::new_from_slice(&key.bytes).ok()?;
                let mut sealed = self.ciphertext.clone();
                sealed.extend_from_slice(&self.tag);
                cipher
                    .decrypt(Nonce::from_slice(&self.iv), Payload { msg: &sealed, aad })
                    .ok()
            }
            Enc::A256CbcHs512 => {
                // RFC 7518 §5.2.2.2: MAC key first, encryption key second; the tag is the
                // first half of HMAC-SHA-512(AAD ‖ IV ‖ ciphertext ‖ AAD length in bits).
                let (mac_key, enc_key) = key.bytes.split_at(32);
                let mut mac = <Hmac<Sha512> as Mac>::new_from_slice(mac_key).ok()?;
                mac.update(aad);
                mac.update(&self.iv);
                mac.update(&self.ciphertext);
                mac.update(&((aad.len() as u64) * 8).to_be_bytes());
                // Constant time, before any decryption (no padding oracle).
                mac.verify_truncated_left(&self.tag).ok()?;
                cbc::Decryptor::<aes::Aes256>::new_from_slices(enc_key, &self.iv)
                    .ok()?
                    .decrypt_padded_vec_mut::<Pkcs7>(&self.ciphertext)
                    .ok()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn shapes_and_headers_are_refused_before_any_decryption() {
        let iv12 = URL_SAFE_NO_PAD.encode([0u8; 12]);
        let tag16 = URL_SAFE_NO_PAD.encode([0u8; 16]);
        let token = |header: &str, key: &str| format!("{}.{key}.{iv12}.AAAA.{tag16}", b64(header));
        let cases = [
            ("", Malformed::Shape),
            ("a.b.c", Malformed::Shape),
            ("a.b.c.d.e.f", Malformed::Shape),
            (&token("not json", ""), Malformed::Header),
            (&token("[1]", ""), Malformed::Header),
            (
                &token(r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#, ""),
                Malformed::Algorithm,
            ),
            (
                &token(r#"{"alg":"dir","enc":"A256GCM"}"#, "AAAA"),
                Malformed::Algorithm,
            ),
            (
                &token(r#"{"alg":"dir","enc":"A128GCM"}"#, ""),
                Malformed::Algorithm,
            ),
            (
                &token(r#"{"alg":"dir","enc":"A256GCM","zip":"DEF"}"#, ""),
                Malformed::Extension,
            ),
            (
                &token(r#"{"alg":"dir","enc":"A256GCM","kid":7}"#, ""),
                Malformed::Header,
            ),
            (
                &token(r#"{"alg":"dir","enc":"A256CBC-HS512"}"#, ""),
                Malformed::Lengths,
            ),
        ];
        for (token, want) in cases {
            assert_eq!(parse(token).unwrap_err(), want, "{token}");
        }
        assert!(parse(&token(r#"{"alg":"dir","enc":"A256GCM","kid":"x"}"#, "")).is_ok());
    }
}
