//! Sealed variables in `verify --remote`: present, value unknown. Railway never gives a
//! sealed value back (railwayapp 5.71.0 prints it as `null`), so no rule can be checked
//! against it — and none may pass or fail as if it had been.
//!
//! The configuration rules run on every readable value; a sealed variable stands in with a
//! value that satisfies its own rules (so that rules of *other* variables, and the settings
//! they derive — pool size, shutdown grace — come out as they will on Railway), and every
//! check that names the sealed variable is replaced by one warning saying what was skipped.

use std::collections::BTreeMap;

use intowork_config::{Check, Report, Status};

use crate::railway::Variables;

/// A value that passes the variable's own rules and carries nothing of the real one.
fn stand_in(name: &str) -> Option<&'static str> {
    match name {
        "DATABASE_URL" => Some("postgresql://sealed@sealed.railway.internal:5432/railway"),
        "DATABASE_PUBLIC_URL" => Some("postgresql://sealed@sealed.proxy.rlwy.net:5432/railway"),
        // Another host than DATABASE_URL's stand-in: a sealed direct URL is not "the pooler".
        "DATABASE_DIRECT_URL" => {
            Some("postgresql://sealed@sealed-direct.railway.internal:5432/railway")
        }
        "NEXTAUTH_SECRET" => Some("sealed-stand-in-for-a-value-nobody-can-read-back"),
        "RESEND_API_KEY" => Some("re_sealed_stand_in"),
        _ => None,
    }
}

/// The values the configuration rules see: the readable ones, plus a stand-in for each
/// sealed variable that has one.
pub(crate) fn rendered(variables: &Variables) -> BTreeMap<String, String> {
    let mut rendered = variables.readable();
    for name in variables.sealed() {
        if let Some(value) = stand_in(name) {
            rendered.insert(name.to_owned(), value.to_owned());
        }
    }
    rendered
}

/// The report with every check about a sealed variable replaced by one warning each.
pub(crate) fn replace_checks(mut report: Report, variables: &Variables) -> Report {
    let sealed = variables.sealed();
    if sealed.is_empty() {
        return report;
    }
    report
        .checks
        .retain(|c| !c.variable.as_deref().is_some_and(|v| sealed.contains(&v)));
    for name in sealed {
        report.push(warning(name));
    }
    report
}

fn warning(name: &str) -> Check {
    let skipped = if name.ends_with("_URL") {
        "so its URL checks (scheme, host, user, database, TLS mode) are skipped; the `${{…}}` reference checks of the other variables still run"
    } else {
        "so its checks are skipped"
    };
    Check::new(
        "platform.sealed",
        Status::Warn,
        format!("sealed: Railway never gives its value back, {skipped}"),
    )
    .variable(name)
    .hint(format!(
        "nothing is wrong with sealing; the value can only be checked where it is known: `cargo xtask verify --env-file FILE` with {name} in a local file that is never committed"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_variable_gets_one_warning_instead_of_its_checks() {
        let vars = Variables::from_pairs(&[("DATABASE_URL", None), ("PORT", Some("8080"))]);
        let rendered = rendered(&vars);
        assert_eq!(rendered["DATABASE_URL"], stand_in("DATABASE_URL").unwrap());
        let mut report = Report::default();
        report.push(Check::new("x", Status::Fail, "is not set").variable("DATABASE_URL"));
        report.push(Check::new("x", Status::Pass, "8080").variable("PORT"));
        let report = replace_checks(report, &vars);
        let about: Vec<_> = report
            .checks
            .iter()
            .filter(|c| c.variable.as_deref() == Some("DATABASE_URL"))
            .collect();
        assert_eq!(about.len(), 1);
        assert_eq!(about[0].status, Status::Warn);
        assert!(
            about[0].message.contains("URL checks"),
            "{}",
            about[0].message
        );
        assert_eq!(report.checks.len(), 2);
    }
}
