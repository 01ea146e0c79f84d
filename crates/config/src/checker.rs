//! Turns per-value problems into checklist lines named after their variable and origin.
//! Every line is redacted as it is recorded: a value put in the wrong variable is echoed by
//! that variable's check, so each message is masked against every secret the source holds,
//! then its quoted values are shortened (see `echo`).

use std::borrow::Cow;

use crate::echo::shorten_quoted;
use crate::http::parse_bounded;
use crate::problem::{Problem, Severity};
use crate::report::{Check, Report, Status};
use crate::secrets::SecretSet;
use crate::source::{Lookup, Source, ValueOrigin};
use crate::variables::is_secret_name;

/// In a variable that holds another variable's secret, any run of this many characters of a
/// secret is masked too: its check may quote the secret cut in pieces (split at commas, or
/// where a URL parser stopped).
const FRAGMENT_CHARS: usize = 6;

pub(crate) struct Checker<'s> {
    source: &'s Source,
    /// Every secret of the source (see [`SecretSet::from_variables`]).
    secrets: SecretSet,
    pub(crate) report: Report,
}

impl<'s> Checker<'s> {
    pub(crate) fn new(source: &'s Source) -> Checker<'s> {
        Checker {
            source,
            secrets: SecretSet::from_variables(source.texts()),
            report: Report::default(),
        }
    }

    pub(crate) fn source(&self) -> &'s Source {
        self.source
    }

    /// Every secret the source holds.
    pub(crate) fn secrets(&self) -> &SecretSet {
        &self.secrets
    }

    pub(crate) fn origin(&self, var: &str) -> Option<&'s ValueOrigin> {
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

    pub(crate) fn record(&mut self, var: &str, origin: Option<&ValueOrigin>, problem: Problem) {
        let status = match problem.severity {
            Severity::Error => Status::Fail,
            Severity::Warning => Status::Warn,
        };
        let message = self.redact(var, &problem.message).into_owned();
        let mut check = Check::new(id(var, problem.check), status, message)
            .variable(var)
            .source(origin);
        check.hint = problem.hint.map(|h| self.redact(var, &h).into_owned());
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
        let message = self.redact(var, &message.into()).into_owned();
        self.report.push(
            Check::new(id(var, "valid"), Status::Pass, message)
                .variable(var)
                .source(origin),
        );
    }

    /// A line about `var` as it may be printed: every known secret masked (in any
    /// spelling), pieces of them too when `var` holds another variable's secret, then long
    /// quoted values shortened. A secret variable's own secrets are left to its messages,
    /// which only ever show its masked form (a database URL's user may be named like its
    /// password: `postgres://postgres:****@…` stays readable).
    fn redact<'t>(&self, var: &str, text: &'t str) -> Cow<'t, str> {
        let own = self.own_secrets(var);
        let masked = match &own {
            Some(own) if is_secret_name(var) => self.secrets.mask_except(text, own),
            _ => self.secrets.mask(text),
        };
        let foreign = own.is_some_and(|own| {
            let value = self.source.lookup(var).text().unwrap_or_default();
            !self
                .secrets
                .spans_of(value, |s| !own.contains(s))
                .is_empty()
        });
        let masked = if foreign {
            Cow::Owned(
                self.secrets
                    .mask_fragments(&masked, FRAGMENT_CHARS)
                    .into_owned(),
            )
        } else {
            masked
        };
        match shorten_quoted(&masked) {
            Cow::Borrowed(_) => masked,
            Cow::Owned(short) => Cow::Owned(short),
        }
    }

    /// The secrets `var`'s own value carries (see [`SecretSet::from_variables`]), when it
    /// is set.
    fn own_secrets(&self, var: &str) -> Option<SecretSet> {
        let value = self.source.lookup(var).text()?;
        Some(SecretSet::from_variables([(var, value)]))
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
