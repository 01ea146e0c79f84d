//! How input is quoted in a message. Messages quote the value they talk about in backticks
//! (`` `8o00` is not a whole number ``); where the message is recorded (`Checker`), it is
//! first masked against every known secret, then each quoted span longer than
//! [`MAX_ECHO_CHARS`] is shortened — in that order, so no prefix of a secret survives.
//! URLs are quoted without their user-info and with their query values and fragment masked.

use std::borrow::Cow;

use crate::database::authority_ends;
use crate::secrets::MASK;

/// A quoted value longer than this is cut to its first [`KEPT_CHARS`] characters and `…`.
pub(crate) const MAX_ECHO_CHARS: usize = 64;
const KEPT_CHARS: usize = 48;

/// `text` with every backtick-quoted span longer than [`MAX_ECHO_CHARS`] shortened.
pub(crate) fn shorten_quoted(text: &str) -> Cow<'_, str> {
    let mut parts = text.split('`');
    let first = parts.next().unwrap_or_default();
    let mut out = String::with_capacity(text.len().min(512));
    out.push_str(first);
    let mut changed = false;
    // Odd pieces are inside backticks (a trailing unpaired one leaves its piece as is).
    let rest: Vec<&str> = parts.collect();
    let paired = rest.len() - rest.len() % 2;
    for (i, piece) in rest.iter().enumerate() {
        out.push('`');
        let quoted = i % 2 == 0 && i < paired;
        if quoted && piece.chars().count() > MAX_ECHO_CHARS {
            out.extend(piece.chars().take(KEPT_CHARS));
            out.push('…');
            changed = true;
        } else {
            out.push_str(piece);
        }
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

/// A URL as it may be shown: no user-info, the value of every query parameter and the
/// fragment as `****`. Text that does not parse as a URL loses everything up to its last
/// `@` (wherever a parser would have put it, what comes before may be a password). Text
/// without `://` is returned as is.
pub fn shown_url(text: &str) -> Cow<'_, str> {
    let Some((scheme, rest)) = text.split_once("://") else {
        return Cow::Borrowed(text);
    };
    // Where the user-info may end: as the parser reads a URL (the authority ends at `/`,
    // `?`, `#`, or `\`), or, for text that does not parse, anywhere.
    let authority_end = match url::Url::parse(text) {
        Ok(_) => rest.find(|c| authority_ends(scheme, c)),
        Err(_) => None,
    }
    .unwrap_or(rest.len());
    let userinfo_end = rest[..authority_end].rfind('@').map_or(0, |at| at + 1);
    let after_userinfo = &rest[userinfo_end..];
    let mut out = format!("{scheme}://");
    out.push_str(&mask_query_values(after_userinfo));
    if out == text {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(out)
    }
}

/// `rest` (what follows the user-info) with its query values and fragment masked.
fn mask_query_values(rest: &str) -> String {
    let (before_fragment, fragment) = match rest.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (rest, None),
    };
    let (path, query) = match before_fragment.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (before_fragment, None),
    };
    let mut out = path.to_owned();
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) if !v.is_empty() => format!("{k}={MASK}"),
                _ => pair.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    if let Some(fragment) = fragment {
        out.push('#');
        if !fragment.is_empty() {
            out.push_str(MASK);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_quoted_values_are_cut_and_the_rest_kept() {
        let long = "x".repeat(100);
        let text = format!("`{long}` is not a whole number (use `8000`)");
        let short = shorten_quoted(&text);
        assert_eq!(
            short,
            format!("`{}…` is not a whole number (use `8000`)", "x".repeat(48))
        );
        assert_eq!(shorten_quoted("`a` and `b"), "`a` and `b");
    }

    #[test]
    fn urls_lose_user_info_query_values_and_fragment() {
        assert_eq!(
            shown_url("https://u:k@e@app.example.com/p?a=1&b&c=#frag"),
            "https://app.example.com/p?a=****&b&c=#****"
        );
        assert_eq!(
            shown_url("https://app.example.com"),
            "https://app.example.com"
        );
        assert_eq!(shown_url("not a url"), "not a url");
    }
}
