//! Turns per-value problems into checklist lines named after their variable and origin.

use crate::http::parse_bounded;
use crate::problem::{Problem, Severity};
use crate::report::{Check, Report, Status};
use crate::source::{Lookup, Origin, Source};

pub(crate) struct Checker<'s> {
    source: &'s Source,
    pub(crate) report: Report,
}

impl<'s> Checker<'s> {
    pub(crate) fn new(source: &'s Source) -> Checker<'s> {
        Checker {
            source,
            report: Report::default(),
        }
    }

    pub(crate) fn source(&self) -> &'s Source {
        self.source
    }

    pub(crate) fn origin(&self, var: &str) -> Option<&'s Origin> {
        self.source.lookup(var).origin()
    }

    /// The variable's text, or `None` when unset or empty. A non-UTF-8 value is a failure.
    pub(crate) fn text(&mut self, var: &'static str) -> Option<&'s str> {
        match self.source.lookup(var) {
            Lookup::Text(text, _) => Some(text),
            Lookup::NotUtf8(origin) => {
                let problem = Problem::error("utf8", "is not valid UTF-8")
                    .hint(format!("set {var} again as plain text"));
                self.record(var, Some(origin), problem);
                None
            }
            Lookup::Missing | Lookup::Empty(_) => None,
        }
    }

    /// Like [`Checker::text`], but a missing or empty value is a failure.
    pub(crate) fn required(&mut self, var: &'static str, hint: &str) -> Option<&'s str> {
        let text = self.text(var);
        if text.is_none() {
            self.missing(var, hint);
        }
        text
    }

    /// Records that a required variable is unset or empty (a non-UTF-8 value was already reported).
    pub(crate) fn missing(&mut self, var: &'static str, hint: &str) {
        match self.source.lookup(var) {
            Lookup::Missing => self.record(
                var,
                None,
                Problem::error("present", "is not set").hint(hint),
            ),
            Lookup::Empty(origin) => self.record(
                var,
                Some(origin),
                Problem::error("present", "is empty").hint(hint),
            ),
            Lookup::NotUtf8(_) | Lookup::Text(..) => {}
        }
    }

    /// Whether a failure was already recorded for this variable.
    pub(crate) fn failed(&self, var: &str) -> bool {
        self.report
            .failures()
            .any(|c| c.variable.as_deref() == Some(var))
    }

    pub(crate) fn record(&mut self, var: &str, origin: Option<&Origin>, problem: Problem) {
        let status = match problem.severity {
            Severity::Error => Status::Fail,
            Severity::Warning => Status::Warn,
        };
        let mut check = Check::new(id(var, problem.check), status, problem.message)
            .variable(var)
            .source(origin);
        check.hint = problem.hint;
        self.report.push(check);
    }

    /// Records every problem; returns whether none was an error.
    pub(crate) fn record_all(&mut self, var: &str, problems: Vec<Problem>) -> bool {
        let origin = self.origin(var);
        let ok = !problems.iter().any(Problem::is_error);
        for p in problems {
            self.record(var, origin, p);
        }
        ok
    }

    pub(crate) fn pass(&mut self, var: &str, message: impl Into<String>) {
        let origin = self.origin(var);
        self.report.push(
            Check::new(id(var, "valid"), Status::Pass, message)
                .variable(var)
                .source(origin),
        );
    }
}

impl Checker<'_> {
    /// A whole number from `min` to `max` (`what` says what it counts), or `default` when unset.
    pub(crate) fn number(
        &mut self,
        var: &'static str,
        default: u64,
        (min, max): (u64, u64),
        what: &str,
    ) -> Option<u64> {
        let Some(text) = self.text(var) else {
            if self.failed(var) {
                return None;
            }
            self.pass(var, format!("not set: {default}"));
            return Some(default);
        };
        match parse_bounded(text, min, max, what) {
            Ok(n) => {
                self.pass(var, n.to_string());
                Some(n)
            }
            Err(p) => {
                self.record_all(var, vec![p]);
                None
            }
        }
    }
}

fn id(var: &str, check: &str) -> String {
    format!("{}.{check}", var.to_ascii_lowercase())
}
