//! DATABASE_URL rules, table-driven, through the public `Settings::load`.

use crate::common::*;
use intowork_config::{HostClass, TargetChoice, TlsMode};

#[test]
fn the_seed_url_fails_with_the_explanation_and_the_corrected_url() {
    let err = load(&source(&[("DATABASE_URL", &seed_url("?ssl=disable"))])).unwrap_err();
    let tls = err
        .report
        .failures()
        .find(|c| c.id == "database_url.tls")
        .expect("a tls failure");
    assert_eq!(tls.variable.as_deref(), Some("DATABASE_URL"));
    assert_contains!(tls.message, "Connection reset by peer");
    assert_contains!(tls.message, "`ssl=disable`");
    assert_contains!(tls.message, "Railway TCP proxy");
    assert_eq!(
        tls.hint.as_deref(),
        Some(
            "use postgresql://postgres:****@interchange.proxy.rlwy.net:41234/railway?sslmode=require"
        )
    );
    assert_lacks!(err.to_string(), PASSWORD);
}

#[test]
fn the_seed_url_without_the_parameter_passes_with_require() {
    let loaded = load(&source(&[("DATABASE_URL", &seed_url(""))])).unwrap();
    let url = loaded.settings.database().target();
    assert_eq!(url.tls_mode(), TlsMode::Require);
    assert_eq!(url.class(), HostClass::RailwayProxy);
    assert_eq!(url.user(), "postgres");
    assert_eq!(url.database(), "railway");
    assert_eq!(url.port(), 41234);
    assert_eq!(
        url.masked(),
        "postgresql://postgres:****@interchange.proxy.rlwy.net:41234/railway"
    );
    let pass = loaded
        .report
        .checks
        .iter()
        .find(|c| c.id == "database_url.valid")
        .unwrap();
    assert_contains!(pass.message, "Railway TCP proxy");
    assert_contains!(pass.message, "require");
}

/// (query, expected mode) for a remote host, or the failed check id.
#[test]
fn remote_hosts_need_require_or_stronger_in_either_spelling() {
    let table: &[(&str, Result<TlsMode, &str>)] = &[
        ("", Ok(TlsMode::Require)),
        ("?sslmode=require", Ok(TlsMode::Require)),
        ("?ssl=require", Ok(TlsMode::Require)),
        ("?ssl=true", Ok(TlsMode::Require)),
        ("?sslmode=verify-full", Ok(TlsMode::VerifyFull)),
        ("?sslmode=disable", Err("database_url.tls")),
        ("?sslmode=allow", Err("database_url.tls")),
        ("?sslmode=prefer", Err("database_url.tls")),
        ("?ssl=disable", Err("database_url.tls")),
        ("?ssl=false", Err("database_url.tls")),
        ("?ssl=prefer", Err("database_url.tls")),
        ("?sslmode=bogus", Err("database_url.tls_value")),
        ("?ssl=maybe", Err("database_url.tls_value")),
        (
            "?sslmode=require&ssl=disable",
            Err("database_url.tls_conflict"),
        ),
        ("?sslmode=require&ssl=true", Ok(TlsMode::Require)),
    ];
    for host in [
        "interchange.proxy.rlwy.net:41234",
        "db.example.com",
        "postgres.railway.internal",
        "10.1.2.3",
    ] {
        for (query, want) in table {
            let url = format!("postgresql://postgres:{PASSWORD}@{host}/railway{query}");
            let got = load(&source(&[
                ("DATABASE_URL", &url),
                ("RAILWAY_ENVIRONMENT_NAME", "production"),
            ]));
            match (got, want) {
                (Ok(l), Ok(mode)) => {
                    assert_eq!(l.settings.database().target().tls_mode(), *mode, "{url}")
                }
                (Err(e), Err(id)) => {
                    let ids: Vec<_> = e.report.failures().map(|c| c.id.as_str()).collect();
                    assert_eq!(ids, [*id], "{url}");
                }
                (got, want) => panic!(
                    "{url}: got {:?}, want {want:?}",
                    got.map(|l| l.settings.database().target().tls_mode())
                ),
            }
        }
    }
}

#[test]
fn loopback_hosts_keep_what_the_url_says() {
    let table = [
        ("postgres://u:p@localhost/db", TlsMode::Prefer),
        (
            "postgres://u:p@localhost/db?sslmode=disable",
            TlsMode::Disable,
        ),
        (
            "postgres://u:p@127.0.0.1:5433/db?ssl=false",
            TlsMode::Disable,
        ),
        (
            "postgres://u:p@[::1]:5433/db?sslmode=require",
            TlsMode::Require,
        ),
        ("postgres://u@%2Fvar%2Frun%2Fpostgresql/db", TlsMode::Prefer),
        (
            "postgres:///db?host=/var/run/postgresql&user=u",
            TlsMode::Prefer,
        ),
    ];
    for (url, mode) in table {
        let loaded =
            load(&source(&[("DATABASE_URL", url)])).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(
            loaded.settings.database().target().tls_mode(),
            mode,
            "{url}"
        );
        assert!(
            !loaded.settings.database().target().class().is_remote(),
            "{url}"
        );
    }
}

#[test]
fn malformed_urls_name_the_missing_part() {
    let table = [
        ("mysql://u:p@localhost/db", "database_url.scheme"),
        ("not a url", "database_url.syntax"),
        ("postgres://u:p@localhost", "database_url.database"),
        ("postgres://localhost/db", "database_url.user"),
        ("postgres://u:p@localhost:0/db", "database_url.port"),
        ("postgres://u:p@localhost/db?port=x", "database_url.port"),
        (
            "postgresql://${{Postgres.PGUSER}}:x@host/db",
            "database_url.unresolved_reference",
        ),
        (
            "${{Postgres.DATABASE_URL}}",
            "database_url.unresolved_reference",
        ),
        (
            "postgres:///db?host=/run/pg&user=u&sslmode=require",
            "database_url.tls_socket",
        ),
    ];
    for (url, id) in table {
        assert_eq!(failures(&source(&[("DATABASE_URL", url)])), [id], "{url}");
    }
    assert_eq!(
        failures(&source(&[("DATABASE_URL", "")])),
        ["database_url.present"]
    );
}

#[test]
fn private_railway_host_outside_railway_warns_and_uses_the_public_url() {
    let private =
        format!("postgresql://postgres:{PASSWORD}@postgres.railway.internal:5432/railway");
    // Outside Railway, no public URL: a warning, still the private target.
    let l = load(&source(&[("DATABASE_URL", &private)])).unwrap();
    assert_eq!(
        l.settings.database().target_choice(),
        TargetChoice::DatabaseUrl
    );
    let w = l
        .report
        .warnings()
        .find(|c| c.id == "database_url.private_host")
        .unwrap();
    assert_contains!(w.hint.as_deref().unwrap(), "DATABASE_PUBLIC_URL");
    assert_contains!(w.hint.as_deref().unwrap(), "railway connect --tunnel-only");

    // Outside Railway, with a public URL: it becomes the target.
    let l = load(&source(&[
        ("DATABASE_URL", &private),
        ("DATABASE_PUBLIC_URL", &seed_url("")),
    ]))
    .unwrap();
    assert_eq!(
        l.settings.database().target_choice(),
        TargetChoice::PublicUrl
    );
    assert_eq!(
        l.settings.database().target().class(),
        HostClass::RailwayProxy
    );

    // The public URL obeys the same rules.
    let ids = failures(&source(&[
        ("DATABASE_URL", &private),
        ("DATABASE_PUBLIC_URL", &seed_url("?ssl=disable")),
    ]));
    assert_eq!(ids, ["database_public_url.tls"]);

    // Inside Railway: no warning, the private URL is the target.
    let src = source(&[
        ("DATABASE_URL", &private),
        ("DATABASE_PUBLIC_URL", &seed_url("")),
        ("RAILWAY_ENVIRONMENT", "production"),
    ]);
    let l = load(&src).unwrap();
    assert_eq!(
        l.settings.database().target_choice(),
        TargetChoice::DatabaseUrl
    );
    assert!(warnings(&src).is_empty(), "{:?}", warnings(&src));
}

#[test]
fn poolers_warn_and_disable_the_statement_cache() {
    for url in [
        format!("postgres://u:{PASSWORD}@db.example.com:6543/app"),
        format!("postgres://u:{PASSWORD}@my-pgbouncer.example.com/app"),
        format!("postgres://u:{PASSWORD}@aws-0-eu.pooler.supabase.com:5432/app"),
    ] {
        let l = load(&source(&[("DATABASE_URL", &url)])).unwrap();
        assert!(l.settings.database().statement_cache_disabled(), "{url}");
        assert!(
            warnings(&source(&[("DATABASE_URL", &url)]))
                .contains(&"database_url.pooler".to_string())
        );
    }
    let l = load(&source(&[("DATABASE_URL", &seed_url(""))])).unwrap();
    assert!(!l.settings.database().statement_cache_disabled());
}

#[test]
fn pgsslmode_in_the_environment_cannot_weaken_the_policy() {
    let remote = seed_url("");
    assert_eq!(
        failures(&source(&[
            ("DATABASE_URL", &remote),
            ("PGSSLMODE", "disable")
        ])),
        ["pgsslmode.weaker"]
    );
    assert_eq!(
        failures(&source(&[
            ("DATABASE_URL", &remote),
            ("PGSSLMODE", "prefer")
        ])),
        ["pgsslmode.weaker"]
    );
    assert_eq!(
        failures(&source(&[
            ("DATABASE_URL", &remote),
            ("PGSSLMODE", "requir")
        ])),
        ["pgsslmode.invalid"]
    );
    assert!(
        failures(&source(&[
            ("DATABASE_URL", &remote),
            ("PGSSLMODE", "require")
        ]))
        .is_empty()
    );
    // Loopback: the URL's own mode is the policy; with none, PGSSLMODE applies as in libpq.
    let l = load(&source(&[("PGSSLMODE", "disable")])).unwrap();
    assert_eq!(l.settings.database().target().tls_mode(), TlsMode::Disable);
    let l = load(&source(&[("PGSSLMODE", "require")])).unwrap();
    assert_eq!(l.settings.database().target().tls_mode(), TlsMode::Require);
    // Remote: a stronger PGSSLMODE applies too.
    let l = load(&source(&[
        ("DATABASE_URL", &remote),
        ("PGSSLMODE", "verify-full"),
    ]))
    .unwrap();
    assert_eq!(
        l.settings.database().target().tls_mode(),
        TlsMode::VerifyFull
    );
    let tls_local = "postgres://u:p@localhost/db?sslmode=require";
    assert_eq!(
        failures(&source(&[
            ("DATABASE_URL", tls_local),
            ("PGSSLMODE", "disable")
        ])),
        ["pgsslmode.weaker"]
    );
}

#[test]
fn verify_modes_need_an_existing_root_and_warn_on_railway() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("root.crt");
    std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\n").unwrap();
    let ok = format!(
        "postgres://u:{PASSWORD}@db.example.com/app?sslmode=verify-full&sslrootcert={}",
        ca.display()
    );
    let l = load(&source(&[("DATABASE_URL", &ok)])).unwrap();
    assert_eq!(l.settings.database().target().root_cert(), Some(&ca));

    let missing = format!("postgres://u:{PASSWORD}@db.example.com/app?sslmode=verify-ca");
    let src = source(&[
        ("DATABASE_URL", &missing),
        ("PGSSLROOTCERT", "/nonexistent/root.crt"),
    ]);
    assert_eq!(failures(&src), ["database_url.sslrootcert"]);

    let railway = seed_url("?sslmode=verify-full");
    assert_eq!(
        warnings(&source(&[("DATABASE_URL", &railway)])),
        ["database_url.railway_verify"]
    );
}

#[test]
fn fingerprint_rules() {
    let fp = "AB:".repeat(31) + "AB";
    let l = load(&source(&[
        ("DATABASE_URL", &seed_url("")),
        ("DATABASE_TLS_FINGERPRINT", &fp),
    ]))
    .unwrap();
    assert_eq!(
        l.settings.database().tls_fingerprint().unwrap().to_string(),
        "ab".repeat(32)
    );
    assert_eq!(
        failures(&source(&[("DATABASE_TLS_FINGERPRINT", "abc")])),
        ["database_tls_fingerprint.format"]
    );
    assert_eq!(
        failures(&source(&[
            (
                "DATABASE_URL",
                "postgres://u:p@localhost/db?sslmode=disable"
            ),
            ("DATABASE_TLS_FINGERPRINT", &fp)
        ])),
        ["database_tls_fingerprint.needs_tls"]
    );
}

#[test]
fn pool_size_and_timeout_have_defaults_and_bounds() {
    let l = load(&source(&[])).unwrap();
    assert_eq!(l.settings.database().max_connections(), 10);
    assert_eq!(l.settings.database().connect_timeout().as_secs(), 30);
    let l = load(&source(&[
        ("DATABASE_MAX_CONNECTIONS", "25"),
        ("DATABASE_CONNECT_TIMEOUT_SECS", "5"),
    ]))
    .unwrap();
    assert_eq!(l.settings.database().max_connections(), 25);
    assert_eq!(l.settings.database().connect_timeout().as_secs(), 5);
    assert_eq!(
        failures(&source(&[("DATABASE_MAX_CONNECTIONS", "0")])),
        ["database_max_connections.range"]
    );
    assert_eq!(
        failures(&source(&[("DATABASE_CONNECT_TIMEOUT_SECS", "soon")])),
        ["database_connect_timeout_secs.number"]
    );
}
