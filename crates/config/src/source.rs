//! Where configuration values come from: the process environment, optionally layered over an
//! env file (the environment wins), or a platform's variables. Each value remembers its origin.
//!
//! Values are kept as `OsString`: a non-UTF-8 environment value must be reported as a problem
//! of that variable, not crash the loader.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Where a value was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Environment,
    File(PathBuf),
    /// A deployment platform's variables (`railway variable list`).
    Platform(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Environment => f.write_str("environment"),
            Origin::File(path) => write!(f, "file {}", path.display()),
            Origin::Platform(name) => f.write_str(name),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced {
    pub value: OsString,
    pub origin: Origin,
}

/// What looking a variable up can find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    Missing,
    /// Set, but empty or only white space: treated as not set, and said so.
    Empty(&'a Origin),
    NotUtf8(&'a Origin),
    Text(&'a str, &'a Origin),
}

impl<'a> Lookup<'a> {
    /// The text of a set, non-empty, UTF-8 value.
    pub fn text(&self) -> Option<&'a str> {
        match *self {
            Lookup::Text(t, _) => Some(t),
            _ => None,
        }
    }

    pub fn origin(&self) -> Option<&'a Origin> {
        match *self {
            Lookup::Missing => None,
            Lookup::Empty(o) | Lookup::NotUtf8(o) | Lookup::Text(_, o) => Some(o),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("env file `{}` does not exist", path.display())]
    FileMissing { path: PathBuf },
    /// A FIFO, socket or device would block or never end: only regular files are read.
    #[error("env file `{}` is {kind}, not a regular file: name a regular file with --env-file, or --no-env-file", path.display())]
    NotAFile { path: PathBuf, kind: &'static str },
    /// The cause is the error's `source`, printed once by whoever prints the chain.
    #[error("failed to read env file `{}`", path.display())]
    FileRead {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The offending line is not quoted: it may hold a secret.
    #[error("env file `{}`, line {line}: {reason}", path.display())]
    FileSyntax {
        path: PathBuf,
        line: usize,
        reason: &'static str,
    },
}

/// A set of named values with their origins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    values: BTreeMap<OsString, Sourced>,
}

impl Source {
    /// The current process environment, non-UTF-8 values included.
    pub fn from_process_env() -> Source {
        Source::from_os_pairs(std::env::vars_os(), Origin::Environment)
    }

    pub fn from_os_pairs(
        pairs: impl IntoIterator<Item = (OsString, OsString)>,
        origin: Origin,
    ) -> Source {
        let values = pairs
            .into_iter()
            .map(|(k, value)| {
                let origin = origin.clone();
                (k, Sourced { value, origin })
            })
            .collect();
        Source { values }
    }

    /// Convenient for tests and platform variables.
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
        origin: Origin,
    ) -> Source {
        Source::from_os_pairs(
            pairs
                .into_iter()
                .map(|(k, v)| (OsString::from(k.as_ref()), OsString::from(v.as_ref()))),
            origin,
        )
    }

    /// Reads an env file (`KEY=value`, `export KEY=value`, `#` comments, single or double quotes).
    pub fn from_env_file(path: &Path) -> Result<Source, SourceError> {
        let bytes = read_regular_file(path)?;
        let pairs = parse_env_file(&bytes).map_err(|(line, reason)| SourceError::FileSyntax {
            path: path.to_path_buf(),
            line,
            reason,
        })?;
        Ok(Source::from_os_pairs(
            pairs,
            Origin::File(path.to_path_buf()),
        ))
    }

    /// `self` layered over `base`: where both have a variable, `self` wins.
    pub fn over(mut self, base: Source) -> Source {
        for (k, v) in base.values {
            self.values.entry(k).or_insert(v);
        }
        self
    }

    pub fn get(&self, name: &str) -> Option<&Sourced> {
        self.values.get(OsStr::new(name))
    }

    pub fn lookup(&self, name: &str) -> Lookup<'_> {
        match self.get(name) {
            None => Lookup::Missing,
            Some(s) => match s.value.to_str() {
                None => Lookup::NotUtf8(&s.origin),
                Some(t) if t.trim().is_empty() => Lookup::Empty(&s.origin),
                Some(t) => Lookup::Text(t, &s.origin),
            },
        }
    }

    /// Every variable whose value is UTF-8, with that value.
    pub fn texts(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values
            .iter()
            .filter_map(|(k, v)| Some((k.to_str()?, v.value.to_str()?)))
    }

    /// Names of all variables, for names-only comparisons.
    pub fn names(&self) -> impl Iterator<Item = &OsStr> {
        self.values.keys().map(OsString::as_os_str)
    }
}

/// The file's bytes, if it is a regular file: opening a FIFO with no writer would block forever.
fn read_regular_file(path: &Path) -> Result<Vec<u8>, SourceError> {
    let io_error = |source: std::io::Error| match source.kind() {
        std::io::ErrorKind::NotFound => SourceError::FileMissing {
            path: path.to_path_buf(),
        },
        _ => SourceError::FileRead {
            path: path.to_path_buf(),
            source,
        },
    };
    let kind = std::fs::metadata(path).map_err(io_error)?.file_type();
    if !kind.is_file() {
        return Err(SourceError::NotAFile {
            path: path.to_path_buf(),
            kind: file_kind(kind),
        });
    }
    std::fs::read(path).map_err(io_error)
}

fn file_kind(kind: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "a special file"
    }
}

/// Returns the pairs, or the 1-based line number of the first bad line and why it is bad.
fn parse_env_file(bytes: &[u8]) -> Result<Vec<(OsString, OsString)>, (usize, &'static str)> {
    let mut pairs = Vec::new();
    let mut lines = bytes.split(|&b| b == b'\n').enumerate().peekable();
    while let Some((index, raw)) = lines.next() {
        let line_no = index + 1;
        let line = trim(strip_cr(raw));
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        let line = line.strip_prefix(b"export ").map(trim).unwrap_or(line);
        let Some(eq) = line.iter().position(|&b| b == b'=') else {
            return Err((line_no, "expected `KEY=value`"));
        };
        let key = trim(&line[..eq]);
        if key.is_empty()
            || !key
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        {
            return Err((line_no, "the variable name must be letters, digits and `_`"));
        }
        let rest = trim(&line[eq + 1..]);
        let value = match rest.first() {
            Some(&q @ (b'"' | b'\'')) => {
                // A quoted value may span lines until its closing quote.
                let mut buf = rest[1..].to_vec();
                loop {
                    if let Some(end) = closing_quote(&buf, q) {
                        let after = trim(&buf[end + 1..]);
                        if !(after.is_empty() || after[0] == b'#') {
                            return Err((line_no, "unexpected text after the closing quote"));
                        }
                        buf.truncate(end);
                        break;
                    }
                    match lines.next() {
                        Some((_, next)) => {
                            buf.push(b'\n');
                            buf.extend_from_slice(strip_cr(next));
                        }
                        None => return Err((line_no, "unterminated quoted value")),
                    }
                }
                if q == b'"' { unescape(&buf) } else { buf }
            }
            _ => {
                // Unquoted: an inline comment starts at ` #`.
                let end = rest
                    .windows(2)
                    .position(|w| w[0].is_ascii_whitespace() && w[1] == b'#');
                trim(&rest[..end.unwrap_or(rest.len())]).to_vec()
            }
        };
        pairs.push((
            OsStr::from_bytes(key).to_owned(),
            OsStr::from_bytes(&value).to_owned(),
        ));
    }
    Ok(pairs)
}

fn closing_quote(buf: &[u8], q: u8) -> Option<usize> {
    let mut escaped = false;
    for (i, &b) in buf.iter().enumerate() {
        match b {
            b'\\' if q == b'"' && !escaped => escaped = true,
            _ if b == q && !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

fn unescape(buf: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(buf.len());
    let mut it = buf.iter();
    while let Some(&b) = it.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match it.next() {
            Some(b'n') => out.push(b'\n'),
            Some(b't') => out.push(b'\t'),
            Some(&other) => out.push(other),
            None => out.push(b'\\'),
        }
    }
    out
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn trim(s: &[u8]) -> &[u8] {
    s.trim_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<(String, String)> {
        parse_env_file(text.as_bytes())
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k.into_string().unwrap(), v.into_string().unwrap()))
            .collect()
    }

    #[test]
    fn env_file_syntax() {
        let got = parse(
            "# comment\n\nA=1\nexport B = two words # note\nC='lit # \\n'\nD=\"x\\\"y\\nz\"\r\nE=\nF=\"multi\nline\"\nG=a#b\n",
        );
        let want = [
            ("A", "1"),
            ("B", "two words"),
            ("C", "lit # \\n"),
            ("D", "x\"y\nz"),
            ("E", ""),
            ("F", "multi\nline"),
            ("G", "a#b"),
        ];
        let want: Vec<_> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn env_file_errors_name_the_line_not_the_content() {
        assert_eq!(
            parse_env_file(b"A=1\nnot a pair\n"),
            Err((2, "expected `KEY=value`"))
        );
        assert_eq!(
            parse_env_file(b"A=\"open\n"),
            Err((1, "unterminated quoted value"))
        );
        assert_eq!(
            parse_env_file(b"BAD KEY=1"),
            Err((1, "the variable name must be letters, digits and `_`"))
        );
        assert_eq!(
            parse_env_file(b"A='x' y"),
            Err((1, "unexpected text after the closing quote"))
        );
    }

    #[test]
    fn environment_wins_over_file() {
        let env = Source::from_pairs([("A", "env")], Origin::Environment);
        let file = Source::from_pairs([("A", "file"), ("B", "file")], Origin::File(".env".into()));
        let merged = env.over(file);
        assert_eq!(
            merged.lookup("A"),
            Lookup::Text("env", &Origin::Environment)
        );
        assert_eq!(
            merged.lookup("B"),
            Lookup::Text("file", &Origin::File(".env".into()))
        );
        assert_eq!(merged.lookup("C"), Lookup::Missing);
    }

    #[test]
    fn non_utf8_and_empty_values_are_distinguished() {
        let src = Source::from_os_pairs(
            [
                (
                    OsString::from("BIN"),
                    OsStr::from_bytes(b"\xff\xfe").to_owned(),
                ),
                (OsString::from("EMPTY"), OsString::from("  ")),
            ],
            Origin::Environment,
        );
        assert_eq!(src.lookup("BIN"), Lookup::NotUtf8(&Origin::Environment));
        assert_eq!(src.lookup("EMPTY"), Lookup::Empty(&Origin::Environment));
        assert_eq!(src.lookup("EMPTY").text(), None);
    }
}
