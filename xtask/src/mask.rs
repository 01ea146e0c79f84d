//! Replaces secret values with `****` before anything from the platform is printed: the one
//! masker of every command that shows platform output (`logs`, and `deploy`, which streams
//! them).
//!
//! A secret is hidden in whatever spelling it reaches the text: as stored, percent-decoded,
//! percent-encoded (wholly or partly, either hex case, `+` for a space). A line is masked in
//! every JSON position: string values, numbers and booleans, keys, any field (`timestamp`
//! included).

use std::collections::BTreeMap;

use intowork_config::{
    SECRET_PARAMS, authority_ends, is_secret_name, url_secrets, userinfo_password,
};
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

/// The values to hide: the service's secret variables (their names matched in any case),
/// every secret inside URL-valued variables (the user-info password, split at the last `@`
/// as the configuration parser splits it, and libpq's secret parameters); plus, in any text,
/// passwords inside URLs, `password=`-style parameters and `Bearer` tokens.
#[derive(Debug, Clone, Default)]
pub(crate) struct Masker {
    /// Longest first, so a secret containing another is hidden whole.
    secrets: Vec<Vec<u8>>,
}

/// Too short to be a secret worth hiding, and too likely to collide with ordinary text.
const MIN_SECRET_LEN: usize = 4;

const MASK: &str = "****";

impl Masker {
    pub(crate) fn from_variables(vars: &BTreeMap<String, String>) -> Masker {
        let mut found = Vec::new();
        for (name, value) in vars {
            if is_secret_name(name) {
                found.push(value.clone());
                found.push(value.trim().to_owned());
            }
            found.extend(url_secrets(value));
        }
        // The decoded form too: a URL stores `p%40ss`, the application prints `p@ss`.
        let decoded: Vec<String> = found
            .iter()
            .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect();
        found.extend(decoded);
        let mut secrets: Vec<Vec<u8>> = found
            .into_iter()
            .filter(|s| s.chars().count() >= MIN_SECRET_LEN)
            .map(String::into_bytes)
            .collect();
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        Masker { secrets }
    }

    pub(crate) fn mask(&self, text: &str) -> String {
        let known = self.mask_known(text);
        mask_auth_headers(&mask_secret_params(&mask_url_passwords(&known)))
    }

    /// Every position of a JSON value: strings, numbers and booleans (a secret may be
    /// numeric), object keys and nested values.
    pub(crate) fn mask_json(&self, value: &mut Value) {
        match value {
            Value::String(s) => *s = self.mask(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.mask_json(v)),
            Value::Object(map) => *map = self.mask_object(std::mem::take(map)),
            Value::Number(_) | Value::Bool(_) => {
                let text = value.to_string();
                let masked = self.mask(&text);
                if masked != text {
                    *value = Value::String(masked);
                }
            }
            Value::Null => {}
        }
    }

    /// An object with its keys and values masked; keys that mask alike stay distinct.
    pub(crate) fn mask_object(&self, map: Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, mut value) in map {
            self.mask_json(&mut value);
            let mut key = self.mask(&key);
            while out.contains_key(&key) {
                key.push('*');
            }
            out.insert(key, value);
        }
        out
    }

    /// The known secrets, found in any spelling, replaced whole.
    fn mask_known(&self, text: &str) -> String {
        if self.secrets.is_empty() {
            return text.to_owned();
        }
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        while i < bytes.len() {
            match self.secrets.iter().find_map(|s| spelled_at(bytes, i, s)) {
                Some(end) => {
                    out.push_str(MASK);
                    i = end;
                }
                None => {
                    // Matches end on character boundaries (see `spelled_at`): copy one char.
                    let c = text[i..].chars().next().expect("i is a char boundary");
                    out.push(c);
                    i += c.len_utf8();
                }
            }
        }
        out
    }
}

/// Where `secret` ends if it is spelled in `text` at `start`: each byte raw, or as `%XX` in
/// either hex case, or a space as `+`. A `%` or `+` in the text may be either, so every
/// reading is followed (a set of positions, not backtracking); the longest match wins.
/// Matches consume whole characters: raw bytes equal the secret's UTF-8, `%XX` is ASCII.
fn spelled_at(text: &[u8], start: usize, secret: &[u8]) -> Option<usize> {
    let mut at = vec![start];
    for &b in secret {
        let mut next = Vec::with_capacity(at.len());
        for &i in &at {
            if text.get(i) == Some(&b) {
                next.push(i + 1);
            }
            if text.get(i) == Some(&b'%') && text.get(i + 1..i + 3).and_then(hex_byte) == Some(b) {
                next.push(i + 3);
            }
            if b == b' ' && text.get(i) == Some(&b'+') {
                next.push(i + 1);
            }
        }
        next.sort_unstable();
        next.dedup();
        if next.is_empty() {
            return None;
        }
        at = next;
    }
    at.last().copied()
}

fn hex_byte(pair: &[u8]) -> Option<u8> {
    let digit = |c: u8| (c as char).to_digit(16);
    Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8)
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
fn ends_token(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`')
}

/// `sslpassword=…`, `password=…` (libpq's secret parameters, any case) in a URL's query or a
/// `key=value` connection string: the value, up to `&`, `;`, `,` or the end of the token.
fn mask_secret_params(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    for param in SECRET_PARAMS {
        let needle = format!("{param}=");
        let mut from = 0;
        while let Some(found) = lower[from..].find(&needle) {
            let start = from + found;
            let value = start + needle.len();
            from = value;
            let before = lower[..start].chars().next_back();
            let starts_key = before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
            if !starts_key {
                continue;
            }
            if let Some(cut) = value_span(text, value) {
                cuts.push(cut);
            }
        }
    }
    cuts.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in cuts {
        if start < at {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str(MASK);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// The value starting at `start`: quoted (`'…'`, `"…"`: the inside) or up to `&`, `;`, `,`
/// or the end of the token.
fn value_span(text: &str, start: usize) -> Option<(usize, usize)> {
    let rest = &text[start..];
    let (from, len) = match rest.chars().next() {
        Some(q @ ('\'' | '"')) => (start + 1, rest[1..].find(q).unwrap_or(rest.len() - 1)),
        _ => (
            start,
            rest.find(|c: char| ends_token(c) || matches!(c, '&' | ';' | ','))
                .unwrap_or(rest.len()),
        ),
    };
    (len > 0).then_some((from, from + len))
}

/// `Bearer …` (an HTTP `Authorization` token), any case.
fn mask_auth_headers(text: &str) -> String {
    mask_after(text, "bearer ")
}

fn mask_after(text: &str, marker: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.to_ascii_lowercase().find(marker) {
        out.push_str(&rest[..i + marker.len()]);
        let tail = &rest[i + marker.len()..];
        let end = tail
            .find(|c: char| ends_token(c) || c == ',')
            .unwrap_or(tail.len());
        out.push_str(if end > 0 { MASK } else { "" });
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests;
