//! Where configuration values come from: the process environment, optionally layered over an
//! env file (the environment wins), or a platform's variables. Each value remembers its origin.
//!
//! Values are kept as `OsString`: a non-UTF-8 environment value must be reported as a problem
//! of that variable, not crash the loader.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::env_file::MAX_ENV_FILE_BYTES;
use crate::escape::escape_path;

/// Where a value was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueOrigin {
    Environment,
    File(PathBuf),
    /// A deployment platform's variables (`railway variable list`).
    Platform(String),
}

impl fmt::Display for ValueOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueOrigin::Environment => f.write_str("environment"),
            ValueOrigin::File(path) => write!(f, "file {}", path.display()),
            ValueOrigin::Platform(name) => f.write_str(name),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced {
    pub value: OsString,
    pub origin: ValueOrigin,
}

/// What looking a variable up can find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    Missing,
    /// Set, but empty or only white space: treated as not set, and said so.
    Empty(&'a ValueOrigin),
    NotUtf8(&'a ValueOrigin),
    Text(&'a str, &'a ValueOrigin),
}

impl<'a> Lookup<'a> {
    /// The text of a set, non-empty, UTF-8 value.
    pub fn text(&self) -> Option<&'a str> {
        match *self {
            Lookup::Text(t, _) => Some(t),
            _ => None,
        }
    }

    pub fn origin(&self) -> Option<&'a ValueOrigin> {
        match *self {
            Lookup::Missing => None,
            Lookup::Empty(o) | Lookup::NotUtf8(o) | Lookup::Text(_, o) => Some(o),
        }
    }
}

/// Why an env file could not be used. Paths are shown escaped: a file name may carry
/// terminal controls.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("env file `{}` does not exist", escape_path(path))]
    FileMissing { path: PathBuf },
    /// A FIFO, socket or device would block or never end: only regular files are read.
    #[error(
        "env file `{}` is {kind}, not a regular file: name a regular file with --env-file, or --no-env-file",
        escape_path(path)
    )]
    NotAFile { path: PathBuf, kind: &'static str },
    #[error("env file `{}` is {size} bytes; at most {} MiB is read (an env file holds variables, not data): name a smaller file with --env-file, or --no-env-file", escape_path(path), MAX_ENV_FILE_BYTES >> 20)]
    TooLarge { path: PathBuf, size: u64 },
    /// The cause is the error's `source`, printed once by whoever prints the chain.
    #[error("failed to read env file `{}`", escape_path(path))]
    FileRead {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The offending line is not quoted: it may hold a secret.
    #[error("env file `{}`, line {line}: {reason}", escape_path(path))]
    FileSyntax {
        path: PathBuf,
        line: usize,
        reason: &'static str,
    },
}

impl SourceError {
    /// The file named could not be used at all (missing, not a regular file, too large,
    /// unreadable — a symlink loop included), as opposed to a file read whose content is
    /// wrong: a usage error for whoever named it.
    pub fn is_unusable_file(&self) -> bool {
        !matches!(self, SourceError::FileSyntax { .. })
    }
}

/// A set of named values with their origins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    values: BTreeMap<OsString, Sourced>,
}

impl Source {
    /// The current process environment, non-UTF-8 values included.
    pub fn from_process_env() -> Source {
        Source::from_os_pairs(std::env::vars_os(), ValueOrigin::Environment)
    }

    pub fn from_os_pairs(
        pairs: impl IntoIterator<Item = (OsString, OsString)>,
        origin: ValueOrigin,
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
        origin: ValueOrigin,
    ) -> Source {
        Source::from_os_pairs(
            pairs
                .into_iter()
                .map(|(k, v)| (OsString::from(k.as_ref()), OsString::from(v.as_ref()))),
            origin,
        )
    }

    /// Reads an env file (`KEY=value`, `export KEY=value`, `#` comments, single or double
    /// quotes), a regular file of at most [`MAX_ENV_FILE_BYTES`].
    pub fn from_env_file(path: &Path) -> Result<Source, SourceError> {
        let pairs = crate::env_file::read(path)?;
        Ok(Source::from_os_pairs(
            pairs,
            ValueOrigin::File(path.to_path_buf()),
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

#[cfg(test)]
mod tests {
    use std::os::unix::ffi::OsStrExt;

    use super::*;

    #[test]
    fn environment_wins_over_file() {
        let env = Source::from_pairs([("A", "env")], ValueOrigin::Environment);
        let file = Source::from_pairs(
            [("A", "file"), ("B", "file")],
            ValueOrigin::File(".env".into()),
        );
        let merged = env.over(file);
        assert_eq!(
            merged.lookup("A"),
            Lookup::Text("env", &ValueOrigin::Environment)
        );
        assert_eq!(
            merged.lookup("B"),
            Lookup::Text("file", &ValueOrigin::File(".env".into()))
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
            ValueOrigin::Environment,
        );
        assert_eq!(
            src.lookup("BIN"),
            Lookup::NotUtf8(&ValueOrigin::Environment)
        );
        assert_eq!(
            src.lookup("EMPTY"),
            Lookup::Empty(&ValueOrigin::Environment)
        );
        assert_eq!(src.lookup("EMPTY").text(), None);
    }
}
