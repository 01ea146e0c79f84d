//! Where the frontend puts its session token: `Authorization: Bearer`, or one of the session
//! cookies, possibly split into `<name>.0`, `<name>.1`, … chunks (both libraries split a
//! cookie over ~4 KB: `SessionStore` in next-auth's `core/lib/cookie.ts` and Auth.js's
//! `lib/utils/cookie.ts`, reassembled in suffix order).

use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};

use super::keys::{V4_COOKIES, V5_COOKIES};

/// How the token arrived; it decides which keys may have made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// Any library: the caller forwarded the raw token.
    Bearer,
    /// A next-auth 4 cookie.
    V4Cookie(&'static str),
    /// An Auth.js 5 cookie, whose name is the HKDF salt.
    V5Cookie(&'static str),
}

/// A chunked cookie with a gap (`.0` and `.2` without `.1`), or too many chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokenChunks;

/// More chunks than any real session needs: a bound on what a request can make us assemble.
const MAX_CHUNKS: usize = 16;

/// The token and its carrier, if any.
pub fn find(headers: &HeaderMap) -> Result<Option<(Carrier, String)>, BrokenChunks> {
    // An explicit header is the caller's intent; it wins over whatever cookies ride along.
    if let Some(token) = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        return Ok(Some((Carrier::Bearer, token.to_owned())));
    }
    let cookies: Vec<(&str, &str)> = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim().trim_matches('"')))
        .collect();
    let named = V5_COOKIES
        .iter()
        .map(|&n| (Carrier::V5Cookie(n), n))
        .chain(V4_COOKIES.iter().map(|&n| (Carrier::V4Cookie(n), n)));
    for (carrier, name) in named {
        if let Some(token) = assemble(&cookies, name)? {
            return Ok(Some((carrier, token)));
        }
    }
    Ok(None)
}

/// The whole cookie `name`, or its chunks `name.0`, `name.1`, … joined in order.
fn assemble(cookies: &[(&str, &str)], name: &str) -> Result<Option<String>, BrokenChunks> {
    if let Some((_, v)) = cookies.iter().find(|(k, v)| *k == name && !v.is_empty()) {
        return Ok(Some((*v).to_owned()));
    }
    let mut chunks: Vec<(usize, &str)> = cookies
        .iter()
        .filter_map(|(k, v)| {
            let n = k.strip_prefix(name)?.strip_prefix('.')?.parse().ok()?;
            Some((n, *v))
        })
        .collect();
    if chunks.is_empty() {
        return Ok(None);
    }
    chunks.sort_by_key(|(n, _)| *n);
    let contiguous = chunks.iter().enumerate().all(|(i, (n, _))| i == *n);
    if !contiguous || chunks.len() > MAX_CHUNKS {
        return Err(BrokenChunks);
    }
    Ok(Some(chunks.iter().map(|(_, v)| *v).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn bearer_cookies_and_chunks() {
        assert_eq!(find(&headers(&[])), Ok(None));
        assert_eq!(
            find(&headers(&[
                ("authorization", "Bearer abc"),
                ("cookie", "authjs.session-token=zzz")
            ])),
            Ok(Some((Carrier::Bearer, "abc".into())))
        );
        assert_eq!(
            find(&headers(&[(
                "cookie",
                "theme=dark; next-auth.session-token=v4tok"
            )])),
            Ok(Some((
                Carrier::V4Cookie("next-auth.session-token"),
                "v4tok".into()
            )))
        );
        assert_eq!(
            find(&headers(&[
                ("cookie", "__Secure-authjs.session-token.1=BB; x=1"),
                ("cookie", "__Secure-authjs.session-token.0=AA"),
            ])),
            Ok(Some((
                Carrier::V5Cookie("__Secure-authjs.session-token"),
                "AABB".into()
            )))
        );
        // Chunk 10 sorts after 9, not after 1.
        let many: Vec<String> = (0..11)
            .map(|i| format!("authjs.session-token.{i}={i}"))
            .collect();
        assert_eq!(
            find(&headers(&[("cookie", &many.join("; "))]))
                .unwrap()
                .unwrap()
                .1,
            "012345678910"
        );
        assert_eq!(
            find(&headers(&[(
                "cookie",
                "authjs.session-token.0=A; authjs.session-token.2=C"
            )])),
            Err(BrokenChunks)
        );
        // The callback-url cookie shares the prefix but is no chunk.
        assert_eq!(
            find(&headers(&[(
                "cookie",
                "authjs.session-token-x=1; authjs.callback-url=/"
            )])),
            Ok(None)
        );
    }
}
