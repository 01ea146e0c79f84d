//! The "any text" rules: secrets recognised by their shape, whatever variables are known —
//! passwords in URLs, libpq's secret parameters (`password = …`, `Password:'it\'s'`,
//! `ssl%70assword=…`) and `Bearer` tokens.

use intowork_config::{MASK, SECRET_PARAMS, authority_ends, userinfo_password};
use percent_encoding::percent_decode_str;

/// Every rule, in turn.
pub(super) fn mask(text: &str) -> String {
    mask_bearer_tokens(&mask_secret_params(&mask_url_passwords(text)))
}

/// `scheme://user:secret@host` anywhere in a line → `scheme://user:****@host`: the authority
/// ends where `url::Url` ends it, and the user info at its last `@`.
fn mask_url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let scheme_start = rest[..i]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || "+-.".contains(c)))
            .map_or(0, |p| p + 1);
        let scheme = &rest[scheme_start..i];
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| authority_ends(scheme, c) || ends_token(c))
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match userinfo_password(authority) {
            Some(span) => {
                out.push_str(&authority[..span.start]);
                out.push_str(MASK);
                out.push_str(&authority[span.end..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Where a value quoted in a log line ends.
pub(super) fn ends_token(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`')
}

/// A character of a parameter's name as it may be written: `%70` is a `p`.
fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '%')
}

/// libpq's secret parameters (any case, any letter percent-encoded) followed by `=` or `:`,
/// with any white space around it and an optional quote closing the name: the value, bare
/// (up to `&`, `;`, `,` or the end of the token, backslash escapes followed) or quoted (the
/// inside, escaped quotes included; an unclosed quote runs to the end).
fn mask_secret_params(text: &str) -> String {
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let Some(start) = text[at..].find(name_char).map(|i| at + i) else {
            break;
        };
        let end = text[start..]
            .find(|c: char| !name_char(c))
            .map_or(text.len(), |i| start + i);
        at = end;
        let name = percent_decode_str(&text[start..end]).decode_utf8_lossy();
        if !SECRET_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(&name)) {
            continue;
        }
        if let Some(cut) = value_after_name(text, end) {
            at = cut.1;
            cuts.push(cut);
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for (start, end) in cuts {
        out.push_str(&text[from..start]);
        out.push_str(MASK);
        from = end;
    }
    out.push_str(&text[from..]);
    out
}

/// The value's byte range after a secret parameter's name ending at `at`, if a separator
/// follows.
fn value_after_name(text: &str, at: usize) -> Option<(usize, usize)> {
    let rest = &text[at..];
    let rest = rest.strip_prefix(['"', '\'']).unwrap_or(rest);
    let rest = rest.trim_start_matches([' ', '\t']);
    let rest = rest.strip_prefix(['=', ':'])?;
    let rest = rest.trim_start_matches([' ', '\t']);
    let start = text.len() - rest.len();
    value_span(text, start)
}

/// The value starting at `start`: quoted (`'…'`, `"…"`: the inside, up to the first quote
/// no backslash escapes) or bare, up to white space, a quote, `&`, `;` or `,` (a backslash
/// escapes the character after it; `<`, `>` or `#` do not end it: better a character too
/// many masked than a password's tail shown).
fn value_span(text: &str, start: usize) -> Option<(usize, usize)> {
    let rest = &text[start..];
    let mut chars = rest.char_indices();
    let (from, end) = match rest.chars().next() {
        Some(q @ ('\'' | '"')) => {
            chars.next();
            let close = scan(chars, |c| c == q);
            (start + 1, start + close.unwrap_or(rest.len()))
        }
        _ => {
            let stop = scan(chars, |c| {
                c.is_whitespace() || matches!(c, '"' | '\'' | '&' | ';' | ',')
            });
            (start, start + stop.unwrap_or(rest.len()))
        }
    };
    (end > from).then_some((from, end))
}

/// The byte offset of the first character `stop` accepts that no backslash escapes.
fn scan(chars: std::str::CharIndices<'_>, stop: impl Fn(char) -> bool) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in chars {
        match c {
            '\\' if !escaped => escaped = true,
            c if !escaped && stop(c) => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

/// `Bearer` (any case, as a word) and any run of spaces and tabs, then an HTTP
/// `Authorization` token: the token, up to white space, a quote or `,`.
fn mask_bearer_tokens(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    let mut search = 0;
    while let Some(i) = lower[search..].find("bearer").map(|i| search + i) {
        search = i + "bearer".len();
        let word_start = text[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_ascii_alphanumeric());
        let gap = text[search..]
            .find(|c: char| c != ' ' && c != '\t')
            .unwrap_or(text.len() - search);
        if !word_start || gap == 0 {
            continue;
        }
        let token = search + gap;
        let end = text[token..]
            .find(|c: char| ends_token(c) || c == ',')
            .map_or(text.len(), |e| token + e);
        if end > token {
            out.push_str(&text[from..token]);
            out.push_str(MASK);
            from = end;
            search = end;
        }
    }
    out.push_str(&text[from..]);
    out
}
