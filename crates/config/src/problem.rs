//! A problem found in one value: what parsers return before it becomes a checklist line.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Warning,
    Error,
}

/// `check` is the id's suffix; the variable's name makes the prefix (`database_url.` + `tls`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub check: &'static str,
    pub severity: Severity,
    pub message: String,
    pub hint: Option<String>,
}

impl Problem {
    pub fn error(check: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            check,
            severity: Severity::Error,
            message: message.into(),
            hint: None,
        }
    }

    pub fn warning(check: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            check,
            severity: Severity::Warning,
            message: message.into(),
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Problem {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Problems found so far in one value; parsers push, callers read.
pub type Problems = Vec<Problem>;

pub(crate) fn has_errors(problems: &[Problem]) -> bool {
    problems.iter().any(Problem::is_error)
}
