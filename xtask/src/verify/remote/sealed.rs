//! Sealed variables in `verify --remote`: present, value unknown. Railway never gives a
//! sealed value back (railwayapp 5.71.0 prints it as `null`), so no rule can be checked
//! against it — and none may pass or fail as if it had been.
//!
//! The configuration rules run on every readable value; a sealed variable stands in with a
//! value that satisfies its own rules (so that the rules of *other* variables run), and every
//! check that names the sealed variable is replaced by one warning saying what was skipped.
//! Nothing derived from a sealed value may pass against a default or a stand-in:
//! - a sealed `ENVIRONMENT` is judged as `production`, the strictest rules, and says so;
//! - a check of one variable that compares it with a sealed one ([`DERIVED`]) is a warning
//!   naming the sealed variable;
//! - the service settings that depend on a variable's value (`drainingSeconds` on
//!   `SHUTDOWN_GRACE_SECS`, …) are told it is sealed ([`super::settings::Input`]).

use std::collections::BTreeMap;

use intowork_config::{Check, Report, Status};

use crate::railway::Variables;

/// A value that passes the variable's own rules and carries nothing of the real one.
fn stand_in(name: &str) -> Option<&'static str> {
    match name {
        // The strictest rules: whatever the real value, nothing passes that production refuses.
        "ENVIRONMENT" => Some("production"),
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

/// Checks of a variable (left) that compare it with others (right): against a sealed one's
/// stand-in or default they prove nothing (crates/config: FRONTEND_URL's origin must be in
/// ALLOWED_ORIGINS; the TLS variables are judged against the connection target's URL, whose
/// TLS mode PGSSLMODE and PGSSLROOTCERT shape).
const DERIVED: &[(&str, &[&str])] = &[
    ("FRONTEND_URL", &["ALLOWED_ORIGINS"]),
    ("PGSSLMODE", &["DATABASE_URL", "DATABASE_PUBLIC_URL"]),
    ("PGSSLROOTCERT", &["DATABASE_URL", "DATABASE_PUBLIC_URL"]),
    (
        "DATABASE_TLS_FINGERPRINT",
        &["DATABASE_URL", "DATABASE_PUBLIC_URL"],
    ),
    ("DATABASE_URL", &["PGSSLMODE", "PGSSLROOTCERT"]),
    ("DATABASE_PUBLIC_URL", &["PGSSLMODE", "PGSSLROOTCERT"]),
];

/// The report with every check about a sealed variable replaced by one warning each, and
/// every pass that compared a variable with a sealed one turned into a warning naming it.
pub(crate) fn replace_checks(mut report: Report, variables: &Variables) -> Report {
    let sealed = variables.sealed();
    if sealed.is_empty() {
        return report;
    }
    report
        .checks
        .retain(|c| !c.variable.as_deref().is_some_and(|v| sealed.contains(&v)));
    for c in report
        .checks
        .iter_mut()
        .filter(|c| c.status == Status::Pass)
    {
        let Some((_, sources)) = DERIVED
            .iter()
            .find(|(v, _)| Some(*v) == c.variable.as_deref())
        else {
            continue;
        };
        let unknown: Vec<&str> = sources
            .iter()
            .copied()
            .filter(|s| sealed.contains(s))
            .collect();
        if !unknown.is_empty() {
            c.status = Status::Warn;
            c.message = format!(
                "{}; but its checks against {} were made without the value, which is sealed (not a pass)",
                c.message,
                unknown.join(" and ")
            );
        }
    }
    for name in sealed {
        report.push(warning(name));
    }
    report
}

fn warning(name: &str) -> Check {
    let skipped = if name == "ENVIRONMENT" {
        "so every rule was applied as in production, the strictest: a failure may be one that development or staging rules would allow, never the other way round"
    } else if name.ends_with("_URL") {
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

    fn load(vars: &Variables) -> Report {
        let source = intowork_config::Source::from_pairs(
            &rendered(vars),
            intowork_config::ValueOrigin::Platform("railway backend".into()),
        );
        let report = match intowork_config::Settings::load(&source) {
            Ok(loaded) => loaded.report,
            Err(invalid) => invalid.report,
        };
        replace_checks(report, vars)
    }

    #[test]
    fn a_sealed_environment_is_judged_as_production_and_says_so() {
        let vars = Variables::from_pairs(&[
            (
                "DATABASE_URL",
                Some("postgresql://u:p@db.example.com:5432/app"),
            ),
            (
                "NEXTAUTH_SECRET",
                Some("sealed-test-secret-0123456789abcdef0123"),
            ),
            ("ENVIRONMENT", None),
            ("ALLOWED_ORIGINS", Some("http://localhost:3000")),
            ("FRONTEND_URL", Some("http://localhost:3000")),
        ]);
        let report = load(&vars);
        let failing: Vec<&str> = report
            .failures()
            .filter_map(|c| c.variable.as_deref())
            .collect();
        assert!(
            failing.contains(&"ALLOWED_ORIGINS") && failing.contains(&"FRONTEND_URL"),
            "localhost over http fails production's rules: {report:#?}"
        );
        let env: Vec<&Check> = report
            .checks
            .iter()
            .filter(|c| c.variable.as_deref() == Some("ENVIRONMENT"))
            .collect();
        assert_eq!(env.len(), 1, "{env:?}");
        assert_eq!(env[0].status, Status::Warn);
        assert!(
            env[0].message.contains("as in production, the strictest"),
            "{}",
            env[0].message
        );
    }

    #[test]
    fn a_pass_against_a_sealed_variables_stand_in_is_a_warning_naming_it() {
        let vars = Variables::from_pairs(&[
            ("DATABASE_URL", None),
            (
                "NEXTAUTH_SECRET",
                Some("sealed-test-secret-0123456789abcdef0123"),
            ),
            ("ALLOWED_ORIGINS", None),
            ("FRONTEND_URL", Some("http://localhost:3000")),
            ("DATABASE_TLS_FINGERPRINT", Some(&"ab".repeat(32))),
        ]);
        let report = load(&vars);
        for (variable, sealed) in [
            ("FRONTEND_URL", "ALLOWED_ORIGINS"),
            ("DATABASE_TLS_FINGERPRINT", "DATABASE_URL"),
        ] {
            let about: Vec<&Check> = report
                .checks
                .iter()
                .filter(|c| c.variable.as_deref() == Some(variable))
                .collect();
            assert!(!about.is_empty(), "{report:#?}");
            for c in about {
                assert_ne!(c.status, Status::Pass, "{c:?}");
            }
            assert!(
                report
                    .checks
                    .iter()
                    .any(|c| c.variable.as_deref() == Some(variable)
                        && c.message.contains(&format!("against {sealed}"))
                        && c.message.contains("sealed (not a pass)")),
                "{report:#?}"
            );
        }
    }
}
