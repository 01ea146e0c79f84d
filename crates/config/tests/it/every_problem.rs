//! #12.4: each variable's own rules run whatever state `DATABASE_URL` is in; only the checks
//! that compare a variable with the connection target wait for a valid URL.

use proptest::prelude::*;

use crate::common::*;

/// `DATABASE_URL` states: (value, the failure it causes). An empty value removes it.
const URL_STATES: &[(&str, &str)] = &[
    ("", "database_url.present"),
    ("not a url", "database_url.syntax"),
    ("mysql://u:p@localhost/db", "database_url.scheme"),
    (
        "${{Postgres.DATABASE_URL}}",
        "database_url.unresolved_reference",
    ),
    (
        "postgres://u:p@db.example.com/app?sslmode=bogus",
        "database_url.tls_value",
    ),
    (
        "postgres://u:p@db.example.com/app?sslmode=disable",
        "database_url.tls",
    ),
    ("postgres://u:p@localhost:0/db", "database_url.port"),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn each_database_variable_is_checked_even_when_the_url_is_bad(
        (url, url_failure) in proptest::sample::select(URL_STATES.to_vec()),
        pgsslmode in prop_oneof![Just(""), Just("requir"), Just("verify-full")],
        rootcert in prop_oneof![Just(""), Just("/nonexistent/root.crt")],
        fingerprint in prop_oneof![Just(""), Just("abc"), Just("ab:cd")],
        public in prop_oneof![
            Just(""),
            Just("postgresql://u:p@x.proxy.rlwy.net:1/railway?ssl=disable"),
            Just("postgresql://u:p@x.proxy.rlwy.net:1/railway"),
        ],
    ) {
        let src = source(&[
            ("DATABASE_URL", url),
            ("PGSSLMODE", pgsslmode),
            ("PGSSLROOTCERT", rootcert),
            ("DATABASE_TLS_FINGERPRINT", fingerprint),
            ("DATABASE_PUBLIC_URL", public),
        ]);
        let err = load(&src).unwrap_err();
        let failures: Vec<String> = err.report.failures().map(|c| c.id.clone()).collect();
        let warnings: Vec<String> = err.report.warnings().map(|c| c.id.clone()).collect();
        let mut expected = vec![url_failure.to_owned()];
        if pgsslmode == "requir" {
            expected.push("pgsslmode.invalid".into());
        }
        if !fingerprint.is_empty() {
            expected.push("database_tls_fingerprint.format".into());
        }
        if public.contains("ssl=disable") {
            expected.push("database_public_url.tls".into());
        } else if !public.is_empty() && pgsslmode == "verify-full" && !rootcert.is_empty() {
            // PGSSLMODE applies to the public URL, whose verification needs the missing root.
            expected.push("database_public_url.sslrootcert".into());
        }
        for id in &expected {
            prop_assert!(failures.contains(id), "{} missing from {:?}", id, failures);
        }
        prop_assert_eq!(failures.len(), expected.len(), "{:?}", failures);
        if !rootcert.is_empty() {
            prop_assert!(warnings.contains(&"pgsslrootcert.file".to_owned()), "{:?}", warnings);
        }
        // The backend's one-line error counts them all.
        let n = expected.len();
        let head = format!("invalid configuration ({n} problem{}):", if n == 1 { "" } else { "s" });
        prop_assert!(err.to_string().starts_with(&head), "{}", err);
    }
}

#[test]
fn a_valid_pgsslmode_and_pin_pass_while_the_url_is_missing() {
    let fp = "ab".repeat(32);
    let err = load(&source(&[
        ("DATABASE_URL", ""),
        ("PGSSLMODE", "require"),
        ("DATABASE_TLS_FINGERPRINT", &fp),
    ]))
    .unwrap_err();
    let passed = |var: &str| {
        err.report
            .with_status(intowork_config::Status::Pass)
            .any(|c| c.variable.as_deref() == Some(var))
    };
    assert!(passed("PGSSLMODE") && passed("DATABASE_TLS_FINGERPRINT"));
    assert_eq!(
        failures(&source(&[("DATABASE_URL", "")])),
        ["database_url.present"]
    );
}

#[test]
fn pgsslrootcert_is_a_warning_unless_a_verifying_mode_uses_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = "/nonexistent/root.crt";
    // Unused under `require`: a warning.
    let src = source(&[("DATABASE_URL", &seed_url("")), ("PGSSLROOTCERT", missing)]);
    assert!(failures(&src).is_empty());
    assert_eq!(warnings(&src), ["pgsslrootcert.file"]);
    // A directory is not a certificate, used or not.
    let d = dir.path().to_str().unwrap();
    let verify = format!("postgres://u:{PASSWORD}@db.example.com/app?sslmode=verify-full");
    assert_eq!(
        failures(&source(&[("DATABASE_URL", &verify), ("PGSSLROOTCERT", d)])),
        ["pgsslrootcert.file"]
    );
    // A real file passes.
    let ca = dir.path().join("root.crt");
    std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\n").unwrap();
    let src = source(&[
        ("DATABASE_URL", &verify),
        ("PGSSLROOTCERT", ca.to_str().unwrap()),
    ]);
    assert!(failures(&src).is_empty() && warnings(&src).is_empty());
}
