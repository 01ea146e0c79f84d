//! Rules for every variable besides DATABASE_URL, table-driven through `Settings::load`.

use crate::common::*;
use intowork_config::{AllowedOrigins, Environment, Status};

#[test]
fn a_minimal_development_configuration_is_valid_with_defaults() {
    let l = load(&source(&[])).unwrap();
    assert_eq!(l.settings.environment(), Environment::Development);
    assert_eq!(l.settings.port(), 8000);
    assert_eq!(
        l.settings.allowed_origins().to_string(),
        "http://localhost:3000"
    );
    assert!(l.settings.email().is_none());
    assert!(l.settings.frontend_url().is_none());
    assert!(!l.report.has_failures());
}

#[test]
fn every_problem_is_reported_at_once() {
    let src = source(&[
        ("DATABASE_URL", &seed_url("?ssl=disable")),
        ("NEXTAUTH_SECRET", "short"),
        ("ENVIRONMENT", "stagin"),
        ("PORT", "http"),
        ("RESEND_API_KEY", "sk_123"),
        ("ALLOWED_ORIGINS", "https://app.example.com/"),
    ]);
    let mut ids = failures(&src);
    ids.sort();
    assert_eq!(
        ids,
        [
            "allowed_origins.path",
            "database_url.tls",
            "environment.value",
            // A key is set, valid or not: email is meant to be on, so it needs a sender.
            "from_email.present",
            // An unknown environment is checked under production rules: FRONTEND_URL is then required.
            "frontend_url.present",
            "nextauth_secret.length",
            "port.number",
            "resend_api_key.format",
        ]
    );
    let err = load(&src).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("invalid configuration (8 problems):"),
        "{text}"
    );
    assert_contains!(
        text,
        "ENVIRONMENT: `stagin` is not a supported environment (fix: use `development`, `staging` or `production`)"
    );
    // Every failure names its variable and carries a hint.
    for c in err.report.failures() {
        assert!(c.variable.is_some(), "{c:?}");
        assert!(c.hint.is_some(), "{c:?}");
    }
}

#[test]
fn environment_values() {
    for (value, env) in [
        ("production", Environment::Production),
        ("Staging", Environment::Staging),
        ("development", Environment::Development),
    ] {
        let src = source(&[
            ("ENVIRONMENT", value),
            ("ALLOWED_ORIGINS", "https://a.example.com"),
            ("FRONTEND_URL", "https://a.example.com"),
        ]);
        assert_eq!(load(&src).unwrap().settings.environment(), env);
    }
}

#[test]
fn production_requires_origins_and_an_https_frontend() {
    assert!(
        failures(&production(&[])).is_empty(),
        "{:?}",
        failures(&production(&[]))
    );
    type Case = (
        &'static [(&'static str, &'static str)],
        &'static [&'static str],
    );
    let table: &[Case] = &[
        (&[("ALLOWED_ORIGINS", "")], &["allowed_origins.present"]),
        (&[("FRONTEND_URL", "")], &["frontend_url.present"]),
        (
            &[("FRONTEND_URL", "http://app.intowork.example")],
            &["frontend_url.insecure"],
        ),
        (
            &[("FRONTEND_URL", "https://elsewhere.example")],
            &["frontend_url.origin_not_allowed"],
        ),
        (&[("ALLOWED_ORIGINS", "*")], &["allowed_origins.wildcard"]),
        (
            &[(
                "ALLOWED_ORIGINS",
                "http://localhost:3000,https://app.intowork.example",
            )],
            &["allowed_origins.insecure"],
        ),
    ];
    for (extra, want) in table {
        let mut ids = failures(&production(extra));
        ids.sort();
        assert_eq!(ids, *want, "{extra:?}");
    }
}

#[test]
fn outside_production_a_foreign_frontend_origin_is_a_warning() {
    let src = source(&[
        ("FRONTEND_URL", "https://app.example.com"),
        ("ALLOWED_ORIGINS", "http://localhost:3000"),
    ]);
    let l = load(&src).unwrap();
    let w: Vec<_> = l.report.warnings().collect();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].id, "frontend_url.origin_not_allowed");
    assert_eq!(
        w[0].hint.as_deref(),
        Some("add `https://app.example.com` to ALLOWED_ORIGINS")
    );
    let any = load(&source(&[("ALLOWED_ORIGINS", "*")])).unwrap();
    assert_eq!(any.settings.allowed_origins(), &AllowedOrigins::Any);
}

#[test]
fn nextauth_secret_rules() {
    assert_eq!(
        failures(&source(&[("NEXTAUTH_SECRET", "")])),
        ["nextauth_secret.present"]
    );
    assert_eq!(
        failures(&source(&[("NEXTAUTH_SECRET", "   ")])),
        ["nextauth_secret.present"]
    );
    assert_eq!(
        failures(&source(&[("NEXTAUTH_SECRET", "0123456789")])),
        ["nextauth_secret.length"]
    );
    assert_eq!(
        failures(&source(&[(
            "NEXTAUTH_SECRET",
            intowork_config::EXAMPLE_NEXTAUTH_SECRET
        )])),
        ["nextauth_secret.placeholder"]
    );
    assert_eq!(
        failures(&source(&[(
            "NEXTAUTH_SECRET",
            "votre-secret-nextauth-identique-au-frontend"
        )])),
        ["nextauth_secret.placeholder"]
    );
}

#[test]
fn email_rules() {
    let on = load(&source(&[
        ("RESEND_API_KEY", RESEND),
        ("FROM_EMAIL", "INTOWORK <noreply@intowork.example>"),
    ]))
    .unwrap();
    let email = on.settings.email().unwrap();
    assert_eq!(
        email.from().to_string(),
        "INTOWORK <noreply@intowork.example>"
    );
    assert_eq!(
        failures(&source(&[("RESEND_API_KEY", RESEND)])),
        ["from_email.present"]
    );
    // A bad key still asks for a sender (each rule runs whatever the others find).
    assert_eq!(
        failures(&source(&[("RESEND_API_KEY", "key_123")])),
        ["resend_api_key.format", "from_email.present"]
    );
    assert_eq!(
        failures(&source(&[
            ("RESEND_API_KEY", "key_123"),
            ("FROM_EMAIL", "nobody")
        ])),
        ["resend_api_key.format", "from_email.format"]
    );
    assert_eq!(
        failures(&source(&[("FROM_EMAIL", "not-an-address")])),
        ["from_email.format"]
    );
    assert_eq!(
        failures(&source(&[
            ("RESEND_API_KEY", RESEND),
            ("FROM_EMAIL", "INTOWORK <noreply@>")
        ])),
        ["from_email.format"]
    );
    // FROM_EMAIL alone is fine: email stays off.
    assert!(
        load(&source(&[("FROM_EMAIL", "noreply@intowork.example")]))
            .unwrap()
            .settings
            .email()
            .is_none()
    );
}

#[test]
fn port_rules() {
    assert_eq!(
        load(&source(&[("PORT", "3000")])).unwrap().settings.port(),
        3000
    );
    assert_eq!(
        load(&source(&[("PORT", "65535")])).unwrap().settings.port(),
        65535
    );
    for bad in ["0", "65536", "-1", "eighty", "80.5"] {
        assert_eq!(failures(&source(&[("PORT", bad)])).len(), 1, "{bad}");
    }
}

#[test]
fn each_check_remembers_where_its_value_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    std::fs::write(&path, format!("NEXTAUTH_SECRET={SECRET}\nPORT=9000\n")).unwrap();
    let file = intowork_config::Source::from_env_file(&path).unwrap();
    let env = intowork_config::Source::from_pairs(
        [
            ("DATABASE_URL", "postgres://u:p@localhost/db"),
            ("PORT", "7000"),
        ],
        intowork_config::ValueOrigin::Environment,
    );
    let l = load(&env.over(file)).unwrap();
    assert_eq!(
        l.settings.port(),
        7000,
        "the environment wins over the file"
    );
    let source_of = |var: &str| {
        l.report
            .checks
            .iter()
            .find(|c| c.variable.as_deref() == Some(var) && c.status == Status::Pass)
            .unwrap()
            .source
            .clone()
    };
    assert_eq!(source_of("PORT").as_deref(), Some("environment"));
    assert_eq!(
        source_of("NEXTAUTH_SECRET"),
        Some(format!("file {}", path.display()))
    );
}

#[test]
fn migration_limits_have_defaults_and_bounds() {
    let l = load(&source(&[])).unwrap();
    assert_eq!(l.settings.migrations().lock_timeout.as_secs(), 5);
    assert_eq!(l.settings.migrations().statement_timeout.as_secs(), 300);
    let l = load(&source(&[
        ("MIGRATION_LOCK_TIMEOUT_SECS", "2"),
        ("MIGRATION_STATEMENT_TIMEOUT_SECS", "60"),
    ]))
    .unwrap();
    assert_eq!(l.settings.migrations().lock_timeout.as_secs(), 2);
    assert_eq!(l.settings.migrations().statement_timeout.as_secs(), 60);
    assert_eq!(
        failures(&source(&[("MIGRATION_LOCK_TIMEOUT_SECS", "0")])),
        ["migration_lock_timeout_secs.range"]
    );
    assert_eq!(
        failures(&source(&[("MIGRATION_STATEMENT_TIMEOUT_SECS", "1h")])),
        ["migration_statement_timeout_secs.number"]
    );
}

#[test]
fn service_settings() {
    let l = load(&source(&[])).unwrap();
    let svc = l.settings.service();
    assert!(svc.migrate_on_start);
    assert_eq!(svc.shutdown_grace.as_secs(), 25);
    assert_eq!(svc.log_format, intowork_config::LogFormat::Auto);
    let l = load(&source(&[
        ("MIGRATE_ON_START", "false"),
        ("SHUTDOWN_GRACE_SECS", "3"),
        ("LOG_FORMAT", "json"),
    ]))
    .unwrap();
    assert!(!l.settings.service().migrate_on_start);
    assert_eq!(l.settings.service().shutdown_grace.as_secs(), 3);
    assert_eq!(
        l.settings.service().log_format,
        intowork_config::LogFormat::Json
    );
    assert_eq!(
        failures(&source(&[("MIGRATE_ON_START", "perhaps")])),
        ["migrate_on_start.value"]
    );
    assert_eq!(
        failures(&source(&[("LOG_FORMAT", "xml")])),
        ["log_format.value"]
    );
    assert_eq!(
        failures(&source(&[("SHUTDOWN_GRACE_SECS", "-1")])),
        ["shutdown_grace_secs.number"]
    );
}
