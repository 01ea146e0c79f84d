//! `NEXTAUTH_SECRET`: shared with the Next.js frontend, which signs sessions with it.

use secrecy::SecretString;
use sha2::{Digest, Sha256};

use crate::problem::Problem;

pub(crate) const MIN_SECRET_CHARS: usize = 32;

/// The value `.env.example` ships: long enough to pass the length rule, so that only the
/// placeholder rule can catch a copied example.
pub const EXAMPLE_NEXTAUTH_SECRET: &str = "replace-me-with-output-of-openssl-rand-base64-32";

const GENERATE: &str =
    "generate one with `openssl rand -base64 32` and set the same value in the frontend's service";

/// Substrings that only a placeholder contains (the seed's own was `votre-secret-…`).
const PLACEHOLDER_MARKS: &[&str] = &[
    "changeme",
    "change-me",
    "change_me",
    "replace-me",
    "replace_me",
    "votre-secret",
    "your-secret",
    "your_secret",
    "placeholder",
];

/// How a secret is told apart without being shown: the first 6 bytes of its SHA-256, in hex
/// (12 characters). `verify --remote` compares the frontend's and the backend's
/// `NEXTAUTH_SECRET` by it, and the backend's secret-mismatch log line prints it, so the two
/// can be matched by eye. 48 bits say nothing usable about a 32-character secret.
pub fn secret_fingerprint(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// NextAuth uses the variable byte for byte: `getToken` takes `process.env.NEXTAUTH_SECRET`
/// and hands it to HKDF unchanged (nextauthjs/next-auth, `packages/next-auth/src/jwt/index.ts`:
/// `secret = process.env.NEXTAUTH_SECRET` → `getDerivedEncryptionKey(secret)` → `hkdf(…)`), with
/// no trimming. Surrounding whitespace is therefore part of the key the frontend derives: a
/// platform or env loader that trims on one service and not on the other (dotenv trims
/// unquoted values) silently breaks every session, and padding adds no strength. It is
/// refused with its own message, and only the characters that carry entropy (not whitespace)
/// count towards the length.
pub fn parse_nextauth_secret(text: &str) -> Result<SecretString, Vec<Problem>> {
    let mut problems = Vec::new();
    if text.trim() != text {
        problems.push(
            Problem::error(
                "whitespace",
                "starts or ends with whitespace: NextAuth uses the value as is, untrimmed, so the frontend and this service disagree as soon as one of them trims it",
            )
            .hint("remove the surrounding whitespace, on both services"),
        );
    }
    let content: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    let lower = text.to_lowercase();
    let one_char_repeated = content.iter().all(|c| *c == content[0]);
    let only_the_word_secret = lower
        .replace("secret", "")
        .chars()
        .all(|c| !c.is_alphanumeric());
    if text.trim() == EXAMPLE_NEXTAUTH_SECRET
        || one_char_repeated
        || only_the_word_secret
        || PLACEHOLDER_MARKS.iter().any(|m| lower.contains(m))
    {
        problems
            .push(Problem::error("placeholder", "is a placeholder, not a secret").hint(GENERATE));
    } else if content.len() < MIN_SECRET_CHARS {
        problems.push(
            Problem::error(
                "length",
                format!(
                    "has {} characters besides whitespace; at least {MIN_SECRET_CHARS} are required",
                    content.len()
                ),
            )
            .hint(GENERATE),
        );
    }
    if problems.is_empty() {
        Ok(SecretString::from(text.to_owned()))
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_the_sha256_prefix() {
        // sha256("abc") = ba7816bf8f01cfea…
        assert_eq!(secret_fingerprint("abc"), "ba7816bf8f01");
    }

    #[test]
    fn secret_table() {
        let ok = [
            "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5Cg==",
            "0123456789abcdefghijklmnopqrstuvwxyz",
        ];
        for s in ok {
            assert!(parse_nextauth_secret(s).is_ok(), "{s}");
        }
        let bad = [
            ("short", "length"),
            (&"x".repeat(31), "placeholder"),
            ("abcdefghijklmnopqrstuvwxyz01234", "length"),
            (&"a".repeat(64), "placeholder"),
            (EXAMPLE_NEXTAUTH_SECRET, "placeholder"),
            ("votre-secret-nextauth-tres-long-ici-123456", "placeholder"),
            (
                "please-CHANGEME-before-going-to-production-now",
                "placeholder",
            ),
            ("secret", "placeholder"),
            ("secret-secret-secret-secret-secret-secret", "placeholder"),
            (
                "your-secret-key-for-nextauth-goes-here-please",
                "placeholder",
            ),
        ];
        for (s, check) in bad {
            assert_eq!(parse_nextauth_secret(s).unwrap_err()[0].check, check, "{s}");
        }
    }
}
