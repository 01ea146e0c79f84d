//! No secret ever reaches `Debug`, `Display`, an error, a hint or a report; every parser
//! survives arbitrary input, non-UTF-8 included.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use crate::common::*;
use intowork_config::{Settings, Source, ValueOrigin};
use proptest::prelude::*;

#[test]
fn secrets_never_show_in_settings_reports_or_errors() {
    let valid = source(&[
        ("DATABASE_URL", &seed_url("")),
        ("RESEND_API_KEY", RESEND),
        ("FROM_EMAIL", "noreply@intowork.example"),
        (
            "DATABASE_PUBLIC_URL",
            &format!(
                "postgresql://postgres:{PASSWORD}@x.proxy.rlwy.net:1/railway?password={PASSWORD}"
            ),
        ),
        (
            "DATABASE_DIRECT_URL",
            &format!(
                "postgresql://postgres:{PASSWORD}@db.example.com/railway?sslpassword={PASSWORD}"
            ),
        ),
    ]);
    let invalid = source(&[
        ("DATABASE_URL", &seed_url("?ssl=disable")),
        (
            "DATABASE_PUBLIC_URL",
            &format!(
                "postgresql://postgres:{PASSWORD}@x.proxy.rlwy.net:1/railway?sslmode=bogus&password={PASSWORD}"
            ),
        ),
        ("NEXTAUTH_SECRET", "my-short-nextauth-pw"),
        ("RESEND_API_KEY", "rx_fakeTestKey123456"),
        (
            "DATABASE_DIRECT_URL",
            &format!(
                "postgresql://postgres:{PASSWORD}@db.example.com/railway?sslmode=allow&password={PASSWORD}"
            ),
        ),
    ]);
    for src in [valid, invalid] {
        let text = everything_printable(&src);
        for secret in [
            PASSWORD,
            SECRET,
            RESEND,
            "my-short-nextauth-pw",
            "rx_fakeTestKey123456",
        ] {
            assert_lacks!(text, secret, "`{secret}` leaked:\n{text}");
        }
        assert!(text.contains("****") || text.contains("is not"), "{text}");
    }
}

#[test]
fn a_non_utf8_value_is_reported_not_a_panic() {
    for var in [
        "DATABASE_URL",
        "NEXTAUTH_SECRET",
        "PORT",
        "ALLOWED_ORIGINS",
        "PGSSLMODE",
        "ENVIRONMENT",
    ] {
        let base = source(&[]);
        let bad = Source::from_os_pairs(
            [(
                OsString::from(var),
                OsString::from_vec(vec![b'a', 0xff, 0xfe]),
            )],
            ValueOrigin::Environment,
        );
        let err = Settings::load(&bad.over(base)).unwrap_err();
        let ids: Vec<_> = err.report.failures().map(|c| c.id.clone()).collect();
        assert_eq!(ids, [format!("{}.utf8", var.to_ascii_lowercase())], "{var}");
    }
}

/// Every variable the configuration reads.
fn vars() -> Vec<&'static str> {
    intowork_config::VARIABLES.iter().map(|v| v.name).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Arbitrary bytes in every variable: loading never panics, and a failure names a variable.
    #[test]
    fn arbitrary_values_never_panic(values in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), intowork_config::VARIABLES.len())) {
        let pairs = vars().into_iter().zip(values).map(|(k, v)| (OsString::from(k), OsString::from_vec(v)));
        let src = Source::from_os_pairs(pairs, ValueOrigin::Environment);
        if let Err(e) = Settings::load(&src) {
            prop_assert!(e.report.failures().all(|c| c.variable.is_some()));
        }
    }

    /// Arbitrary text shaped like the real thing, per variable.
    #[test]
    fn arbitrary_strings_never_panic(var in proptest::sample::select(vars()), value in "\\PC{0,80}") {
        let _ = Settings::load(&source(&[(var, &value)]));
    }

    /// URL-shaped input with a random password: the password never appears in any output.
    #[test]
    fn database_passwords_never_leak(
        password in "[A-Za-z0-9]{12,24}",
        host in prop_oneof![Just("localhost"), Just("db.example.com"), Just("x.proxy.rlwy.net"), Just("postgres.railway.internal")],
        query in prop_oneof![Just(""), Just("?ssl=disable"), Just("?sslmode=prefer"), Just("?sslmode=nope"), Just("?sslmode=verify-full"), Just("?foo=bar")],
        port in prop_oneof![Just("".to_string()), (0u32..70000).prop_map(|p| format!(":{p}"))],
    ) {
        let url = format!("postgresql://user:{password}@{host}{port}/db{query}");
        let text = everything_printable(&source(&[("DATABASE_URL", &url), ("DATABASE_PUBLIC_URL", &url)]));
        prop_assert!(!text.contains(&password), "leaked in:\n{}", text);
    }
}
