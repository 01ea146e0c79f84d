//! `DATABASE_POOL_MODE` and `DATABASE_DIRECT_URL`: a pooler is declared, migrations get a
//! route around it, and every mistake names the variable and the fix, values masked.

use crate::common::*;
use intowork_config::{NoDirectRoute, PoolMode, Settings, Status};

const POOLER: &str = "pgbouncer.railway.internal:6432";

fn pooled_url() -> String {
    format!("postgresql://postgres:{PASSWORD}@{POOLER}/railway")
}

fn direct_url(host: &str) -> String {
    format!("postgresql://postgres:{PASSWORD}@{host}/railway")
}

/// Inside Railway (so private hosts are reachable), with the pooler in front.
fn pooled(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut vars = vec![
        ("DATABASE_URL".to_owned(), pooled_url()),
        (
            "RAILWAY_ENVIRONMENT_NAME".to_owned(),
            "production".to_owned(),
        ),
    ];
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    vars
}

fn src(vars: &[(String, String)]) -> intowork_config::Source {
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    source(&pairs)
}

fn check<'r>(report: &'r intowork_config::Report, id: &str) -> &'r intowork_config::Check {
    report
        .checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check {id} in {:#?}", report.checks))
}

#[test]
fn unset_means_session_and_migrations_use_the_connection_target() {
    let loaded = load(&source(&[])).unwrap();
    let db = loaded.settings.database();
    assert_eq!(db.pool_mode(), PoolMode::Session);
    assert!(!db.pool_mode_declared());
    assert!(db.direct_url().is_none());
    let direct = db.direct().unwrap();
    assert_eq!(direct.target().masked(), db.target().masked());
    assert_eq!(db.direct_variable(), "DATABASE_URL");
}

#[test]
fn transaction_pooling_with_a_direct_url_routes_migrations_around_the_pooler() {
    let direct = direct_url("postgres.railway.internal:5432");
    let vars = pooled(&[
        ("DATABASE_POOL_MODE", "transaction"),
        ("DATABASE_DIRECT_URL", &direct),
    ]);
    let loaded = load(&src(&vars)).unwrap();
    let db = loaded.settings.database();
    assert_eq!(db.pool_mode(), PoolMode::Transaction);
    assert!(db.statement_cache_disabled());
    let route = db.direct().unwrap();
    assert_eq!(
        route.target().endpoint(),
        "postgres.railway.internal:5432/railway"
    );
    assert_eq!(
        route.pool_mode(),
        PoolMode::Session,
        "the direct URL is no pooler"
    );
    assert_eq!(db.direct_variable(), "DATABASE_DIRECT_URL");
    // Same TLS policy: a remote host gets `require` when the URL names no mode.
    assert_eq!(route.target().tls_mode().to_string(), "require");
    let line = check(&loaded.report, "database_direct_url.valid");
    assert_contains!(line.message, "postgres:****@postgres.railway.internal");
    assert_lacks!(format!("{:?}", loaded.settings), PASSWORD);
    assert_lacks!(format!("{:?}", loaded.report), PASSWORD);
}

#[test]
fn transaction_pooling_without_a_direct_url_is_an_error_while_migrating_at_start_up() {
    let vars = pooled(&[("DATABASE_POOL_MODE", "transaction")]);
    let err = Settings::load(&src(&vars)).unwrap_err();
    let line = check(&err.report, "database_direct_url.needed");
    assert_eq!(line.status, Status::Fail);
    assert_eq!(line.variable.as_deref(), Some("DATABASE_DIRECT_URL"));
    assert_contains!(line.message, POOLER);
    assert_contains!(line.message, "session advisory lock");
    assert_contains!(line.hint.as_deref().unwrap(), "set DATABASE_DIRECT_URL");
    assert_lacks!(err.to_string(), PASSWORD, "{err}");

    // Migrations left to `backend migrate`: the service may run, migrating so is refused.
    let vars = pooled(&[
        ("DATABASE_POOL_MODE", "transaction"),
        ("MIGRATE_ON_START", "false"),
    ]);
    let loaded = load(&src(&vars)).unwrap();
    assert_eq!(
        check(&loaded.report, "database_direct_url.needed").status,
        Status::Warn
    );
    let refusal = loaded.settings.database().direct().unwrap_err();
    assert!(matches!(
        refusal,
        NoDirectRoute::ThroughTransactionPooler { .. }
    ));
    let text = refusal.to_string();
    assert_contains!(text, "nothing was run");
    assert_contains!(text, "Fix: set DATABASE_DIRECT_URL");
    assert_lacks!(text, PASSWORD);
}

#[test]
fn the_pool_mode_is_checked_with_its_choices() {
    for (value, said) in [
        ("transactoin", "`transactoin` is not a pool mode"),
        ("statement", "transactions of more than one statement"),
    ] {
        let err = Settings::load(&source(&[("DATABASE_POOL_MODE", value)])).unwrap_err();
        let line = check(&err.report, "database_pool_mode.value");
        assert_contains!(line.message, said);
        assert_contains!(line.hint.as_deref().unwrap(), "`transaction`");
    }
    let loaded = load(&source(&[("DATABASE_POOL_MODE", "Session")])).unwrap();
    assert!(loaded.settings.database().pool_mode_declared());
}

#[test]
fn the_direct_url_follows_the_database_url_rules() {
    let remote_plaintext = format!("{}?sslmode=disable", direct_url("db.example.com"));
    let err = Settings::load(&source(&[("DATABASE_DIRECT_URL", &remote_plaintext)])).unwrap_err();
    assert!(
        failures(&source(&[("DATABASE_DIRECT_URL", &remote_plaintext)]))
            .contains(&"database_direct_url.tls".to_owned()),
        "{err}"
    );
    assert_lacks!(err.to_string(), PASSWORD, "{err}");
    let unresolved = "${{Postgres.DATABASE_URL}}";
    let ids = failures(&source(&[("DATABASE_DIRECT_URL", unresolved)]));
    assert!(
        ids.iter().all(|id| id.starts_with("database_direct_url.")) && !ids.is_empty(),
        "{ids:?}"
    );
}

#[test]
fn a_direct_url_that_reaches_the_pooler_is_refused_in_transaction_mode() {
    let same = format!("postgresql://other:{PASSWORD}@PgBouncer.railway.internal:6432/railway");
    let vars = pooled(&[
        ("DATABASE_POOL_MODE", "transaction"),
        ("DATABASE_DIRECT_URL", &same),
    ]);
    let err = Settings::load(&src(&vars)).unwrap_err();
    let line = check(&err.report, "database_direct_url.pooler");
    assert_eq!(line.status, Status::Fail);
    assert_contains!(line.message, "the transaction pooler");
    // In session mode the same value is only pointless.
    let vars = pooled(&[("DATABASE_DIRECT_URL", &same)]);
    assert_eq!(
        check(
            &load(&src(&vars)).unwrap().report,
            "database_direct_url.same"
        )
        .status,
        Status::Warn
    );
}

#[test]
fn a_private_direct_url_cannot_be_used_from_outside_railway() {
    let private = direct_url("postgres.railway.internal:5432");
    let outside = source(&[
        ("DATABASE_DIRECT_URL", &private),
        ("DATABASE_POOL_MODE", "transaction"),
    ]);
    let loaded = load(&outside).unwrap();
    assert_eq!(
        check(&loaded.report, "database_direct_url.private_host").status,
        Status::Warn
    );
    let refusal = loaded.settings.database().direct().unwrap_err();
    assert!(
        matches!(refusal, NoDirectRoute::PrivateHere { .. }),
        "{refusal}"
    );
    assert_contains!(refusal.to_string(), "Fix: from here", "{refusal}");
}

#[test]
fn the_pin_follows_the_server_it_names() {
    let pin = "ab".repeat(32);
    let elsewhere = direct_url("postgres.railway.internal:5432");
    let vars = pooled(&[
        ("DATABASE_POOL_MODE", "transaction"),
        ("DATABASE_TLS_FINGERPRINT", &pin),
        ("DATABASE_DIRECT_URL", &elsewhere),
    ]);
    let loaded = load(&src(&vars)).unwrap();
    assert_eq!(
        check(&loaded.report, "database_direct_url.unpinned").status,
        Status::Warn
    );
    assert!(loaded.settings.database().tls_fingerprint().is_some());
    assert!(
        loaded
            .settings
            .database()
            .direct()
            .unwrap()
            .tls_fingerprint()
            .is_none()
    );
}

#[test]
fn a_declared_mode_replaces_the_guess_from_the_url() {
    let supabase = format!("postgres://u:{PASSWORD}@aws-0-eu.pooler.supabase.com:6543/app");
    let guessed = load(&source(&[("DATABASE_URL", &supabase)])).unwrap();
    let hint = check(&guessed.report, "database_url.pooler")
        .hint
        .clone()
        .unwrap();
    assert_contains!(hint, "DATABASE_POOL_MODE");
    let session = source(&[
        ("DATABASE_URL", &supabase),
        ("DATABASE_POOL_MODE", "session"),
    ]);
    let declared = load(&session).unwrap();
    assert!(
        declared
            .report
            .checks
            .iter()
            .all(|c| c.id != "database_url.pooler")
    );
    assert!(
        !declared.settings.database().statement_cache_disabled(),
        "a session pooler keeps prepared statements"
    );
}
