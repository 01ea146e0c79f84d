//! Known secrets, found in any spelling: the one matcher behind every masker — the
//! configuration's own messages (a secret put in the wrong variable is echoed by that
//! variable's check) and `xtask`'s masker of platform output.
//!
//! A secret is found as stored, percent-decoded, percent-encoded (wholly or partly, either hex
//! case, `+` for a space) and in any ASCII case (a log level is upper-cased for display, a
//! host lower-cased by the URL parser). Every match is found, at every position, and their
//! union is masked: two secrets that overlap in the text are both hidden whole.

use std::borrow::Cow;
use std::ops::Range;

use percent_encoding::percent_decode_str;

use crate::database::url_secrets;
use crate::variables::{DATABASE_URLS, is_secret_name};

/// What replaces a secret.
pub const MASK: &str = "****";

/// Too short to be a secret worth hiding, and too likely to collide with ordinary text.
pub(crate) const MIN_MASKED_CHARS: usize = 4;

/// A set of secret values. Its `Debug` says how many, never which.
#[derive(Clone, Default)]
pub struct SecretSet {
    /// Longest first (the order matches are tried in; the union does not depend on it).
    secrets: Vec<Vec<u8>>,
}

impl std::fmt::Debug for SecretSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretSet({} values)", self.secrets.len())
    }
}

impl SecretSet {
    /// These values, and their percent-decoded forms; values shorter than
    /// [`MIN_MASKED_CHARS`] are left out.
    pub fn new(values: impl IntoIterator<Item = String>) -> SecretSet {
        let mut found: Vec<String> = values.into_iter().collect();
        // A URL stores `p%40ss`, the application prints `p@ss`.
        let decoded: Vec<String> = found
            .iter()
            .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect();
        found.extend(decoded);
        let mut secrets: Vec<Vec<u8>> = found
            .into_iter()
            .filter(|s| s.chars().count() >= MIN_MASKED_CHARS)
            .map(String::into_bytes)
            .collect();
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        SecretSet { secrets }
    }

    /// The secrets of a set of variables: the value of every variable with a secret name
    /// (as set and trimmed), and every secret inside any value that is a URL or a libpq
    /// connection string (see [`url_secrets`]). The database URLs are the exception to the
    /// first rule: what is secret in them is exactly what [`url_secrets`] finds (their
    /// masked form, host and user included, is how they are shown).
    pub fn from_variables<'a>(vars: impl IntoIterator<Item = (&'a str, &'a str)>) -> SecretSet {
        let mut found = Vec::new();
        for (name, value) in vars {
            let database_url = DATABASE_URLS.iter().any(|v| v.eq_ignore_ascii_case(name));
            if is_secret_name(name) && !database_url {
                found.push(value.to_owned());
                found.push(value.trim().to_owned());
            }
            found.extend(url_secrets(value));
        }
        SecretSet::new(found)
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// Whether `secret` is one of this set's (as stored or decoded).
    pub fn contains(&self, secret: &[u8]) -> bool {
        self.secrets.iter().any(|s| s == secret)
    }

    /// The byte ranges of `text` that spell a secret, merged: overlapping or adjacent
    /// matches become one range. Ranges start and end on character boundaries.
    pub fn spans(&self, text: &str) -> Vec<Range<usize>> {
        self.spans_of(text, |_| true)
    }

    /// Like [`SecretSet::spans`], for the secrets `keep` accepts.
    pub fn spans_of(&self, text: &str, keep: impl Fn(&[u8]) -> bool) -> Vec<Range<usize>> {
        let bytes = text.as_bytes();
        let mut found: Vec<Range<usize>> = Vec::new();
        for (start, _) in text.char_indices() {
            let end = self
                .secrets
                .iter()
                .filter(|s| keep(s))
                .filter_map(|s| spelled_at(bytes, start, s))
                .max();
            if let Some(end) = end {
                found.push(start..end);
            }
        }
        merge(found)
    }

    /// Whether `text` spells any secret.
    pub fn found_in(&self, text: &str) -> bool {
        !self.spans(text).is_empty()
    }

    /// `text` with every secret, in any spelling, replaced by `****`.
    pub fn mask<'t>(&self, text: &'t str) -> Cow<'t, str> {
        replace_spans(text, &self.spans(text))
    }

    /// Like [`SecretSet::mask`], leaving out the secrets `other` holds too.
    pub fn mask_except<'t>(&self, text: &'t str, other: &SecretSet) -> Cow<'t, str> {
        replace_spans(text, &self.spans_of(text, |s| !other.contains(s)))
    }

    /// `text` with every run of at least `min` characters that also appears in a secret
    /// (ASCII case aside) replaced by `****`: for text that may quote a secret cut in
    /// pieces (a value split at commas, a URL whose parser stopped inside it).
    pub fn mask_fragments<'t>(&self, text: &'t str, min: usize) -> Cow<'t, str> {
        let lower = text.to_ascii_lowercase();
        let secrets: Vec<String> = self
            .secrets
            .iter()
            .map(|s| String::from_utf8_lossy(s).to_ascii_lowercase())
            .collect();
        let mut bounds: Vec<usize> = lower.char_indices().map(|(i, _)| i).collect();
        bounds.push(lower.len());
        let mut found = Vec::new();
        for (k, &start) in bounds.iter().enumerate() {
            // The longest piece of at least `min` characters starting here that a secret
            // contains (a piece that is in no secret has no longer piece that is).
            let longest = bounds
                .iter()
                .skip(k + min)
                .take_while(|&&end| secrets.iter().any(|s| s.contains(&lower[start..end])))
                .last();
            if let Some(&end) = longest {
                found.push(start..end);
            }
        }
        replace_spans(text, &merge(found))
    }
}

/// Overlapping or touching ranges joined, in order.
fn merge(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    merged
}

fn replace_spans<'t>(text: &'t str, spans: &[Range<usize>]) -> Cow<'t, str> {
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        out.push_str(&text[at..span.start]);
        out.push_str(MASK);
        at = span.end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// Where `secret` ends if it is spelled in `text` at `start`: each byte raw (ASCII case
/// aside), or as `%XX` in either hex case, or a space as `+`. A `%` or `+` in the text may be
/// either, so every reading is followed (a set of positions, not backtracking); the longest
/// match wins. Matches consume whole characters: raw bytes equal the secret's UTF-8, `%XX`
/// is ASCII.
fn spelled_at(text: &[u8], start: usize, secret: &[u8]) -> Option<usize> {
    let mut at = vec![start];
    for &b in secret {
        let mut next = Vec::with_capacity(at.len());
        for &i in &at {
            if text.get(i).is_some_and(|t| t.eq_ignore_ascii_case(&b)) {
                next.push(i + 1);
            }
            if text.get(i) == Some(&b'%')
                && text
                    .get(i + 1..i + 3)
                    .and_then(hex_byte)
                    .is_some_and(|d| d.eq_ignore_ascii_case(&b))
            {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_and_the_union_of_overlaps() {
        let set = SecretSet::new([
            "p@ss word".to_owned(),
            "abcdef".to_owned(),
            "defxyz".to_owned(),
        ]);
        assert_eq!(set.mask("a p%40ss+word b"), "a **** b");
        assert_eq!(set.mask("a P%40SS%20WORD b"), "a **** b");
        assert_eq!(set.mask("x ABCDEFXYZ y"), "x **** y");
        assert_eq!(set.mask("nothing here"), "nothing here");
        assert!(SecretSet::new(["abc".to_owned()]).is_empty());
    }

    #[test]
    fn fragments_of_a_secret_are_found_in_any_case() {
        let set = SecretSet::new(["zQ0123456789/abcdef".to_owned()]);
        assert_eq!(
            set.mask_fragments("host `zq0123456789` path `abcdef` ok", 6),
            "host `****` path `****` ok"
        );
        assert_eq!(set.mask_fragments("short `zq01` ok", 6), "short `zq01` ok");
    }
}
