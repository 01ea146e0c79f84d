//! #26.11: each rule that can run, runs — whatever else is wrong. A bad `FROM_EMAIL` is
//! reported next to a bad `RESEND_API_KEY`; a `DATABASE_URL` without user or database still
//! gets its remote-plaintext TLS error.

use proptest::prelude::*;

use crate::common::*;

/// Independent faults: (variable, value, the failures it must cause whatever else is set).
const FAULTS: &[(&str, &str, &[&str])] = &[
    ("FROM_EMAIL", "not-an-address", &["from_email.format"]),
    ("RESEND_API_KEY", "sk_live_fake", &["resend_api_key.format"]),
    (
        "RESEND_API_URL",
        "ftp://mail.example.com",
        &["resend_api_url.url"],
    ),
    ("PORT", "http", &["port.number"]),
    ("LOG_FORMAT", "xml", &["log_format.value"]),
    ("MIGRATE_ON_START", "maybe", &["migrate_on_start.value"]),
    ("SHUTDOWN_GRACE_SECS", "-1", &["shutdown_grace_secs.number"]),
    (
        "ALLOWED_ORIGINS",
        "app.example.com",
        &["allowed_origins.origin"],
    ),
    ("FRONTEND_URL", "/relative", &["frontend_url.url"]),
    (
        "DATABASE_TLS_FINGERPRINT",
        "zz",
        &["database_tls_fingerprint.format"],
    ),
    ("PGSSLMODE", "requir", &["pgsslmode.invalid"]),
    ("ENVIRONMENT", "prod", &["environment.value"]),
    (
        "DATABASE_URL",
        "postgres://db.example.com/?sslmode=disable",
        &[
            "database_url.user",
            "database_url.database",
            "database_url.tls",
        ],
    ),
    (
        "DATABASE_URL",
        "postgres://@db.example.com:0/app?sslmode=prefer",
        &["database_url.user", "database_url.port", "database_url.tls"],
    ),
    (
        "DATABASE_URL",
        "postgres://u@db.example.com/?ssl=disable",
        &["database_url.database", "database_url.tls"],
    ),
    (
        "DATABASE_URL",
        "postgres://u@db.example.com/a%0d?sslmode=allow",
        &["database_url.control", "database_url.tls"],
    ),
    (
        "DATABASE_PUBLIC_URL",
        "postgresql://x.proxy.rlwy.net:1/?ssl=disable",
        &[
            "database_public_url.user",
            "database_public_url.database",
            "database_public_url.tls",
        ],
    ),
    (
        "DATABASE_DIRECT_URL",
        "postgresql://db.example.com:1/?sslmode=prefer",
        &[
            "database_direct_url.user",
            "database_direct_url.database",
            "database_direct_url.tls",
        ],
    ),
    (
        "DATABASE_POOL_MODE",
        "statement",
        &["database_pool_mode.value"],
    ),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Any combination of faults (one per variable): every fault's own failures are reported.
    #[test]
    fn every_fault_is_reported_whatever_else_is_wrong(
        picked in proptest::sample::subsequence(FAULTS.to_vec(), 1..=8),
    ) {
        let mut vars: Vec<(&str, &str)> = Vec::new();
        let mut expected: Vec<&str> = Vec::new();
        for (var, value, ids) in &picked {
            if vars.iter().any(|(v, _)| v == var) {
                continue;
            }
            vars.push((var, value));
            expected.extend_from_slice(ids);
        }
        let got = failures(&source(&vars));
        for id in &expected {
            prop_assert!(got.iter().any(|g| g == id), "{} missing from {:?} for {:?}", id, got, vars);
        }
    }
}

#[test]
fn the_issue_examples() {
    let got = failures(&source(&[
        ("RESEND_API_KEY", "sk_live_fake"),
        ("FROM_EMAIL", "nobody"),
    ]));
    assert!(got.contains(&"from_email.format".to_owned()), "{got:?}");
    assert!(got.contains(&"resend_api_key.format".to_owned()), "{got:?}");
    let got = failures(&source(&[(
        "DATABASE_URL",
        "postgres://db.example.com?sslmode=disable",
    )]));
    assert!(got.contains(&"database_url.tls".to_owned()), "{got:?}");
}
