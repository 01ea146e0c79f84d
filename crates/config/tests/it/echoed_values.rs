//! #26.5: a value put in the wrong variable is echoed by that variable's check, so every
//! echoed value is masked against every known secret (then shortened); URLs lose their
//! user-info and query values in output, and credentials in `FRONTEND_URL` or
//! `RESEND_API_URL` are a failed check.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;

use crate::common::*;
use intowork_config::{Source, Status, ValueOrigin};

/// A generated secret, marked so no other text holds it.
fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_+/=.~-]{14,40}".prop_map(|body| format!("zQ{body}"))
}

/// A secret written as a URL carries it (no `/`, `?`, `#` or `@`, which would end its part).
fn url_safe_secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_+=.~-]{14,40}".prop_map(|body| format!("zQ{body}"))
}

/// Where the secret is known from: a variable and the value that carries it.
fn home(s: &str, which: usize) -> (&'static str, String) {
    let encoded = utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
    match which {
        0 => ("NEXTAUTH_SECRET", s.to_owned()),
        1 => ("RESEND_API_KEY", s.to_owned()),
        2 => (
            "DATABASE_URL",
            format!("postgres://app:{encoded}@localhost:5432/intowork"),
        ),
        3 => (
            "DATABASE_PUBLIC_URL",
            format!("postgresql://app:{encoded}@x.proxy.rlwy.net:1/railway"),
        ),
        _ => ("GITHUB_TOKEN", s.to_owned()),
    }
}

/// The variables a secret can be put in by mistake, and the ways it can be written there.
const WRONG: &[&str] = &[
    "PORT",
    "ENVIRONMENT",
    "ALLOWED_ORIGINS",
    "LOG_FORMAT",
    "MIGRATE_ON_START",
    "SHUTDOWN_GRACE_SECS",
    "DATABASE_MAX_CONNECTIONS",
    "MIGRATION_LOCK_TIMEOUT_SECS",
    "FROM_EMAIL",
    "FRONTEND_URL",
    "RESEND_API_URL",
    "PGSSLMODE",
    "DATABASE_TLS_FINGERPRINT",
    "PGSSLROOTCERT",
    "RAILWAY_ENVIRONMENT_NAME",
    "DATABASE_URL",
];

fn spelled(var: &str, s: &str, form: usize) -> String {
    match (var, form % 4) {
        ("DATABASE_URL", 0) => format!("postgres://u:p@localhost/db?sslmode={s}"),
        ("DATABASE_URL", 1) => format!("postgres://u:p@localhost/db?application_name={s}"),
        ("DATABASE_URL", _) => format!("postgres://u:p@{s}.example.com/db?sslmode=disable"),
        (_, 0) => s.to_owned(),
        (_, 1) => format!("x {s}, https://a.example.com"),
        (_, 2) => format!("https://user:{s}@app.example.com"),
        (_, _) => format!("https://{s}.example.com/?key={s}"),
    }
}

/// Every window of 10 characters of `s` that `text` shows, in any case.
fn shown_windows(text: &str, s: &str) -> Vec<String> {
    let text = text.to_lowercase();
    let chars: Vec<char> = s.to_lowercase().chars().collect();
    chars
        .windows(10)
        .map(|w| w.iter().collect::<String>())
        .filter(|w| text.contains(w.as_str()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// A known secret in any other variable, in any position of its value: nothing of it is
    /// printed (no 10 characters of it, in any case), and that variable was checked.
    #[test]
    fn a_secret_in_the_wrong_variable_is_never_echoed(
        s in secret(),
        which in 0usize..5,
        var in proptest::sample::select(WRONG),
        form in 0usize..4,
        production in any::<bool>(),
    ) {
        let (home_var, home_value) = home(&s, which);
        prop_assume!(home_var != var);
        let value = spelled(var, &s, form);
        let mut vars = vec![(home_var, home_value.as_str()), (var, value.as_str())];
        if production {
            vars.push(("ENVIRONMENT", "production"));
        }
        let src = source(&vars);
        let text = everything_printable(&src);
        let leaked = shown_windows(&text, &s);
        prop_assert!(leaked.is_empty(), "{:?} of {} shown:\n{}", leaked, s, text);
        // The rule ran: the variable has its own line.
        let report = match load(&src) { Ok(l) => l.report, Err(e) => e.report };
        prop_assert!(
            report.checks.iter().any(|c| c.variable.as_deref() == Some(var)),
            "{} was not checked: {:?}", var, report.checks
        );
    }

    /// Credentials in the frontend's or Resend's URL (user-info, or a secret-named query
    /// parameter) are a failed check, and neither they nor any query value is printed.
    #[test]
    fn credentials_in_frontend_and_resend_urls_fail_and_are_never_shown(
        var in prop_oneof![Just("FRONTEND_URL"), Just("RESEND_API_URL")],
        user in "[a-z]{1,8}",
        pass in url_safe_secret(),
        param in prop_oneof![Just("key"), Just("api_key"), Just("token"), Just("access_token"), Just("password"), Just("client_secret")],
        value in url_safe_secret(),
        how in 0usize..3,
        production in any::<bool>(),
    ) {
        let url = match how {
            0 => format!("https://{user}:{pass}@app.intowork.example"),
            1 => format!("https://app.intowork.example/?{param}={value}"),
            _ => format!("https://{user}:{pass}@app.intowork.example/path?ref=1&{param}={value}"),
        };
        let mut vars = vec![(var, url.as_str())];
        if production {
            vars.push(("ENVIRONMENT", "production"));
        }
        let src = source(&vars);
        let ids = failures(&src);
        let id = format!("{}.credentials", var.to_ascii_lowercase());
        prop_assert!(ids.contains(&id), "{} not in {:?}", id, ids);
        let text = everything_printable(&src);
        for hidden in [&pass, &value] {
            let leaked = shown_windows(&text, hidden);
            prop_assert!(leaked.is_empty(), "{:?} shown:\n{}", leaked, text);
        }
    }
}

/// A valid URL keeps its query's names but not their values, and no user-info, in output.
#[test]
fn a_frontend_url_passes_without_its_query_values() {
    let url = "https://app.intowork.example/welcome?ref=zQcampaign-4411&lang=fr";
    let shown = message(&source(&[("FRONTEND_URL", url)]), "frontend_url.valid");
    assert_contains!(
        shown,
        "https://app.intowork.example/welcome?ref=****&lang=****"
    );
}

/// Long garbage is echoed shortened: an error line stays readable whatever the value's size.
#[test]
fn echoed_values_are_shortened() {
    let long = "y".repeat(5_000);
    for var in [
        "PORT",
        "ENVIRONMENT",
        "ALLOWED_ORIGINS",
        "LOG_FORMAT",
        "MIGRATE_ON_START",
        "FROM_EMAIL",
        "FRONTEND_URL",
        "RESEND_API_URL",
        "PGSSLMODE",
    ] {
        let src = source(&[(var, long.as_str())]);
        let err = load(&src).unwrap_err();
        let lines: Vec<_> = err
            .report
            .checks
            .iter()
            .filter(|c| c.variable.as_deref() == Some(var) && c.status == Status::Fail)
            .collect();
        assert!(!lines.is_empty(), "{var} did not fail");
        for c in lines {
            let shown = c.to_string();
            assert!(shown.chars().count() < 300, "{var}: {shown}");
        }
    }
}

/// `verify --remote` reads the platform's variables through the same rules.
#[test]
fn platform_variables_are_masked_alike() {
    let secret = "zQplatform-secret-0123456789abcdef";
    let src = Source::from_pairs(
        [
            (
                "DATABASE_URL",
                "postgresql://u:pw-Fake9@postgres.railway.internal:5432/railway",
            ),
            ("NEXTAUTH_SECRET", secret),
            ("PORT", secret),
            ("LOG_FORMAT", secret),
        ],
        ValueOrigin::Platform("railway backend".into()),
    );
    let text = everything_printable(&src);
    assert!(shown_windows(&text, secret).is_empty(), "{text}");
    assert!(failures(&src).contains(&"port.number".to_owned()));
}

/// A database URL's own messages show its masked form as it is: a user named like the
/// password (`postgres:postgres`, common locally) is not masked into `****://****:****@…`.
#[test]
fn a_database_urls_own_masked_form_stays_readable() {
    let url = "postgres://postgres:postgres@localhost:5432/intowork";
    let src = source(&[("DATABASE_URL", url), ("PGPASSWORD", "postgres")]);
    let shown = message(&src, "database_url.valid");
    assert!(
        shown.starts_with("postgres://postgres:****@localhost:5432/intowork"),
        "{shown}"
    );
}
