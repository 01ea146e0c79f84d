//! The outcome of checking a configuration: one entry per check, passes included, so
//! `verify` can print a complete checklist and the backend can list every problem at once.

use std::fmt;

use serde::Serialize;

use crate::escape::Escaped;

/// How a check ended. Ordered from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Skip,
    Warn,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Skip => "skip",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of the checklist. Never carries a secret value: messages and hints are built
/// from masked or non-secret material only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable identifier (`database_url.tls`), for scripts and documentation.
    pub id: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variable: Option<String>,
    /// Where the variable's value came from (`environment`, `file .env`, `railway`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Wall time of an online stage, when the check measured one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

impl Check {
    pub fn new(id: impl Into<String>, status: Status, message: impl Into<String>) -> Check {
        Check {
            id: id.into(),
            status,
            variable: None,
            source: None,
            message: message.into(),
            hint: None,
            duration_ms: None,
        }
    }

    pub fn variable(mut self, name: impl Into<String>) -> Check {
        self.variable = Some(name.into());
        self
    }

    pub fn source(mut self, source: Option<impl fmt::Display>) -> Check {
        self.source = source.map(|s| s.to_string());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Check {
        self.hint = Some(hint.into());
        self
    }

    pub fn duration_ms(mut self, ms: u64) -> Check {
        self.duration_ms = Some(ms);
        self
    }
}

/// Counts per status, as printed in the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
}

/// Every check that ran, in the order it ran.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    pub fn push(&mut self, check: Check) {
        self.checks.push(check);
    }

    pub fn extend(&mut self, other: Report) {
        self.checks.extend(other.checks);
    }

    pub fn has_failures(&self) -> bool {
        self.checks.iter().any(|c| c.status == Status::Fail)
    }

    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.with_status(Status::Fail)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Check> {
        self.with_status(Status::Warn)
    }

    pub fn with_status(&self, status: Status) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(move |c| c.status == status)
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.checks {
            match c.status {
                Status::Pass => s.pass += 1,
                Status::Warn => s.warn += 1,
                Status::Fail => s.fail += 1,
                Status::Skip => s.skip += 1,
            }
        }
        s
    }
}

impl fmt::Display for Check {
    /// `VARIABLE: message (fix: hint)` — the one-line form used in errors and logs, with
    /// control characters from input escaped (it ends up on terminals).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(var) = &self.variable {
            write!(f, "{}: ", Escaped(var))?;
        }
        write!(f, "{}", Escaped(&self.message))?;
        if let Some(hint) = &self.hint {
            write!(f, " (fix: {})", Escaped(hint))?;
        }
        Ok(())
    }
}
