//! `cargo xtask verify` with `DATABASE_URL` at the harness's real PgBouncer (transaction
//! pooling): the pair is checked — the route migrations take, the direct URL's own stages,
//! and the connections each side is asked for.

use crate::common::{Run, check};

use intowork_testkit::{Flavor, PgBouncer, PgServer, TestDb};
use serde_json::Value;

/// `verify --json` with `DATABASE_URL` at `url`, the rest of `env` and `args`.
fn verify(url: &str, env: &[(&str, &str)], args: &[&str]) -> (Run, Value) {
    let mut argv = vec!["--json"];
    argv.extend_from_slice(args);
    let run = crate::verify_online::verify(url, env, &argv);
    let doc = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", run.stdout, run.stderr));
    (run, doc)
}

fn message(doc: &Value, id: &str) -> String {
    check(doc, id)["message"].as_str().unwrap().to_owned()
}

fn no_password(run: &Run, db: &TestDb) {
    assert_lacks!(run.stdout, &db.password);
    assert_lacks!(run.stderr, &db.password);
}

#[test]
fn the_pooler_and_the_direct_url_are_each_checked_for_what_they_carry() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let bouncer = PgBouncer::start(server, &[&db]);
    let pooled = bouncer.url(&db, "sslmode=require");
    let direct = db.url("sslmode=require");
    let env = [
        ("DATABASE_POOL_MODE", "transaction"),
        ("DATABASE_DIRECT_URL", direct.as_str()),
    ];
    let (run, doc) = verify(
        &pooled,
        &env,
        &["--replicas", "3", "--pooler-connections", "4"],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    no_password(&run, &db);
    for stage in [
        "dns",
        "tcp",
        "tls",
        "auth",
        "version",
        "tls_proof",
        "max_connections",
    ] {
        for side in ["database", "database_direct"] {
            let id = format!("{side}.{stage}");
            assert_eq!(
                check(&doc, &id)["status"],
                "pass",
                "{id}: {:#}",
                check(&doc, &id)
            );
        }
    }
    // Through the pooler: its TLS certificate, the pooler's own session on the server, and
    // client connections rather than server ones.
    let tls = message(&doc, "database.tls");
    assert_lacks!(
        tls,
        server.cert_sha256().unwrap(),
        "PgBouncer's own certificate: {tls}"
    );
    assert_contains!(
        message(&doc, "database.tls_proof"),
        "the pooler's own connection"
    );
    let pooled_capacity = message(&doc, "database.max_connections");
    assert_contains!(
        pooled_capacity,
        "through the transaction pooler: pool 10 × 3 replicas = 30 client connections"
    );
    // Direct: the server's own certificate and the direct connections.
    let direct_tls = message(&doc, "database_direct.tls");
    assert_contains!(direct_tls, server.cert_sha256().unwrap());
    let direct_capacity = message(&doc, "database_direct.max_connections");
    assert_contains!(
        direct_capacity,
        "3 migration connections (one per replica starting) + 4 server connections of the pooler = 7 of max_connections 200"
    );
    let route = message(&doc, "database.direct_route");
    assert_contains!(route, "migrations connect to DATABASE_DIRECT_URL");
    assert_contains!(route, "bypassing the transaction pooler");
    assert_contains!(route, ":****@");

    // More server connections than the direct side can take: a warning naming the fix.
    let (_, crowded) = verify(
        &pooled,
        &env,
        &["--replicas", "3", "--pooler-connections", "190"],
    );
    let line = check(&crowded, "database_direct.max_connections");
    assert_eq!(line["status"], "warn", "{line:#}");
    assert_contains!(
        line["hint"].as_str().unwrap(),
        "DEFAULT_POOL_SIZE",
        "{line:#}"
    );
}

#[test]
fn transaction_pooling_without_a_direct_url_fails_with_the_fix() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let bouncer = PgBouncer::start(server, &[&db]);
    let pooled = bouncer.url(&db, "sslmode=require");
    // Start-up migrations off: the configuration alone would let the service run.
    let env = [
        ("DATABASE_POOL_MODE", "transaction"),
        ("MIGRATE_ON_START", "false"),
    ];
    for args in [&[][..], &["--offline"]] {
        let (run, doc) = verify(&pooled, &env, args);
        assert_eq!(run.code, 1, "{args:?}: {}\n{}", run.stdout, run.stderr);
        no_password(&run, &db);
        let route = check(&doc, "database.direct_route");
        assert_eq!(route["status"], "fail", "{route:#}");
        assert_eq!(route["variable"], "DATABASE_DIRECT_URL");
        let said = route["message"].as_str().unwrap();
        assert_contains!(said, "session advisory lock");
        assert!(
            route["hint"]
                .as_str()
                .unwrap()
                .starts_with("set DATABASE_DIRECT_URL")
        );
        assert_eq!(check(&doc, "database_direct_url.needed")["status"], "warn");
        assert!(
            doc["checks"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| !c["id"].as_str().unwrap().starts_with("database_direct."))
        );
    }
}
