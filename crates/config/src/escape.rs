//! Text that came from input (env files, the environment, URLs, the command line, the
//! platform) reaches a terminal only escaped: a value carrying `ESC [2J` or `\r` could clear
//! the screen or forge a checklist line. The one escaper: every path that prints input goes
//! through [`escape_control`] (or a form of it below). JSON output needs none of this (serde
//! escapes control characters as `\u001b`).

use std::borrow::Cow;
use std::ffi::{OsStr, OsString};
use std::fmt::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// `\x1b`, `\r`, `\n`, `\0`, `\t` and every other control character (C0, DEL, C1), plus the
/// Unicode direction overrides that reorder what a terminal shows ("Trojan Source"), written
/// as escapes; everything else as is.
pub fn escape_control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

/// A path as it may be shown: [`escape_control`] on its text, and each byte that is not
/// UTF-8 as `\xNN` (never replaced by `�`: two different files must not look alike).
pub fn escape_path(path: &Path) -> String {
    escape_os(path.as_os_str())
}

/// An OS string (a path, an argument) as it may be shown; see [`escape_path`].
pub(crate) fn escape_os(text: &OsStr) -> String {
    let mut out = String::new();
    for chunk in text.as_bytes().utf8_chunks() {
        out.push_str(&escape_control(chunk.valid()));
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Text a program wrote in lines (a usage error, a report): every control character escaped
/// but the line breaks between its lines.
pub fn escape_lines(text: &str) -> String {
    text.split('\n')
        .map(escape_control)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Command-line arguments with their control characters escaped: a command-line parser
/// quotes the arguments it refuses verbatim, so its error is rendered from these instead.
pub fn escape_args(args: &[OsString]) -> Vec<OsString> {
    args.iter().map(|a| OsString::from(escape_os(a))).collect()
}

/// `Display` through [`escape_control`].
#[derive(Debug)]
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape_control(self.0))
    }
}

fn needs_escape(c: char) -> bool {
    c.is_control() || is_direction_control(c)
}

/// U+200E/F marks, U+202A–U+202E embeddings and overrides, U+2066–U+2069 isolates.
fn is_direction_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\x1b' => out.push_str("\\x1b"),
        '\r' => out.push_str("\\r"),
        '\n' => out.push_str("\\n"),
        '\0' => out.push_str("\\0"),
        '\t' => out.push_str("\\t"),
        c if needs_escape(c) && (c as u32) < 0x100 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if needs_escape(c) => {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_named_escapes_and_the_rest() {
        assert_eq!(
            escape_control("a\x1b[2Jb\r\nc\0d\te\x7f\u{85}\u{202e}f"),
            "a\\x1b[2Jb\\r\\nc\\0d\\te\\x7f\\x85\\u{202e}f"
        );
        assert!(matches!(
            escape_control("plain `text` é ✓"),
            Cow::Borrowed(_)
        ));
        assert_eq!(escape_lines("a\x1b\nb\r\n"), "a\\x1b\nb\\r\n");
        let bytes = OsStr::from_bytes(b"a\xff\n");
        assert_eq!(escape_os(bytes), "a\\xff\\n");
    }
}
