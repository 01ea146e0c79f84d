//! `verify --remote` with PgBouncer between the backend's replicas and Postgres, against the
//! fake `railway` (the shapes it prints are the 5.71.0 CLI's: `variable list --json`,
//! `api` with `serviceInstance` and `variables(unrendered: true)`): the pooler is found from
//! DATABASE_URL's reference, its knobs (railwayapp 5.71.0 `src/controllers/database_plugins.rs`)
//! are compared with the backend's declaration, pool size and replicas.

use crate::common::fake_cli::{DB_PASSWORD, good_variables, scenario};
use crate::common::{Run, check, find_check};

use serde_json::{Value, json};

const POOLER_URL: &str =
    "postgresql://postgres:pgpw-FakeRailway-7781@pgbouncer.railway.internal:5432/railway";
const DIRECT_URL: &str =
    "postgresql://postgres:pgpw-FakeRailway-7781@postgres.railway.internal:5432/railway";

/// Backend replicas → PgBouncer (2 replicas, transaction pooling, TLS both sides) → Postgres,
/// migrations on the direct URL; `backend`, `pgbouncer` and `unrendered` patch each side.
fn topology(backend: Value, pgbouncer: Value, unrendered: Value) -> Value {
    let mut vars = good_variables();
    vars["DATABASE_URL"] = json!(POOLER_URL);
    vars["DATABASE_POOL_MODE"] = json!("transaction");
    vars["DATABASE_DIRECT_URL"] = json!(DIRECT_URL);
    merge(&mut vars, backend);
    let mut bouncer = json!({
        "DATABASE_URL": POOLER_URL,
        "POOL_MODE": "transaction",
        "MAX_CLIENT_CONN": "100",
        "DEFAULT_POOL_SIZE": "20",
        "CLIENT_TLS_SSLMODE": "require",
        "CLIENT_TLS_CERT_FILE": "/etc/pgbouncer/tls/server.crt",
        "CLIENT_TLS_KEY_FILE": "/etc/pgbouncer/tls/server.key",
        "SERVER_TLS_SSLMODE": "require",
    });
    merge(&mut bouncer, pgbouncer);
    let mut written = vars.clone();
    written["DATABASE_URL"] = json!("${{PgBouncer.DATABASE_URL}}");
    written["DATABASE_DIRECT_URL"] = json!("${{Postgres.DATABASE_URL}}");
    merge(&mut written, unrendered);
    json!({
        "project": {"id": "prj-1", "name": "intowork", "environments": ["production"],
                    "services": ["backend", "frontend", "Postgres", "PgBouncer"], "workspace": "IntoWork"},
        "variables": {"backend": vars, "frontend": {"NEXTAUTH_SECRET": crate::common::fake_cli::SECRET},
                      "Postgres": {"DATABASE_URL": DIRECT_URL}, "PgBouncer": bouncer},
        "unrendered_variables": {"backend": written},
        "service_instances": {
            "backend": {"numReplicas": 3},
            "PgBouncer": {"numReplicas": 2, "source": {"repo": null, "image": "ghcr.io/railwayapp-templates/pgbouncer:latest"}},
        },
    })
}

fn merge(into: &mut Value, patch: Value) {
    for (k, v) in patch.as_object().unwrap() {
        if v.is_null() && k.starts_with('-') {
            into.as_object_mut().unwrap().remove(&k[1..]);
        } else {
            into[k] = v.clone();
        }
    }
}

fn verify(extra: Value, args: &[&str]) -> (Run, Value) {
    let fake = scenario(extra);
    let mut argv = vec!["verify", "--remote", "--no-env-file", "--json"];
    argv.extend_from_slice(args);
    let run = fake.xtask(&argv, &[]);
    let doc = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", run.stdout, run.stderr));
    (run, doc)
}

fn status(doc: &Value, id: &str) -> String {
    check(doc, id)["status"].as_str().unwrap().to_owned()
}

fn message(doc: &Value, id: &str) -> String {
    check(doc, id)["message"].as_str().unwrap().to_owned()
}

#[test]
fn the_pair_passes_when_the_pooler_and_the_backend_agree() {
    let (run, doc) = verify(topology(json!({}), json!({}), json!({})), &[]);
    let failed: Vec<&Value> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .collect();
    assert_eq!(run.code, 0, "{failed:#?}\n{}", run.stderr);
    for id in [
        "pooler.service",
        "pooler.pool_mode",
        "pooler.tls",
        "pooler.max_client_conn",
        "pooler.default_pool_size",
        "database.direct_route",
    ] {
        assert_eq!(status(&doc, id), "pass", "{id}: {:#}", check(&doc, id));
    }
    assert_contains!(
        message(&doc, "pooler.service"),
        "`PgBouncer` (PgBouncer, 2 replicas)"
    );
    assert_contains!(
        message(&doc, "pooler.max_client_conn"),
        "pool 10 × 3 replicas = 30 client connections (up to 60 while a deploy overlaps old and new) of `PgBouncer`'s MAX_CLIENT_CONN=100 × 2 replicas = 200"
    );
    let pool = check(&doc, "pooler.default_pool_size");
    assert_contains!(
        pool["message"].as_str().unwrap(),
        "= 40 server connections",
        "{pool:#}"
    );
    assert_contains!(
        pool["hint"].as_str().unwrap(),
        "cargo xtask verify --replicas 3 --pooler-connections 40",
        "{pool:#}"
    );
    let route = message(&doc, "database.direct_route");
    assert_contains!(route, "DATABASE_DIRECT_URL");
    assert_contains!(route, "postgres:****@postgres.railway.internal");
    assert!(find_check(&doc, "pooler.direct_url").is_none());
    assert_lacks!(run.stdout, DB_PASSWORD);
}

#[test]
fn the_poolers_transaction_mode_must_be_declared_with_a_direct_url() {
    // The pooler pools by transaction; the backend says nothing and has no direct URL.
    let undeclared = topology(
        json!({"-DATABASE_POOL_MODE": null, "-DATABASE_DIRECT_URL": null}),
        json!({}),
        json!({"-DATABASE_DIRECT_URL": null}),
    );
    let (run, doc) = verify(undeclared, &[]);
    assert_eq!(run.code, 1);
    let mode = check(&doc, "pooler.pool_mode");
    assert_eq!(mode["status"], "fail", "{mode:#}");
    assert_eq!(mode["variable"], "DATABASE_POOL_MODE");
    assert_eq!(
        mode["hint"],
        "set DATABASE_POOL_MODE=transaction on the backend service"
    );
    assert_contains!(
        mode["message"].as_str().unwrap(),
        "it would migrate through the pooler"
    );

    // Declared, start-up migrations off, still no direct URL: the route fails with the fix.
    let no_direct = topology(
        json!({"-DATABASE_DIRECT_URL": null, "MIGRATE_ON_START": "false"}),
        json!({}),
        json!({"-DATABASE_DIRECT_URL": null}),
    );
    let (run, doc) = verify(no_direct, &[]);
    assert_eq!(run.code, 1);
    let route = check(&doc, "database.direct_route");
    assert_eq!(route["status"], "fail", "{route:#}");
    assert!(
        route["hint"]
            .as_str()
            .unwrap()
            .starts_with("set DATABASE_DIRECT_URL")
    );
    assert_eq!(status(&doc, "database_direct_url.needed"), "warn");
}

#[test]
fn the_poolers_limits_and_tls_are_held_to_the_backends_needs() {
    let tight = topology(
        json!({"DATABASE_MAX_CONNECTIONS": "40"}),
        json!({"MAX_CLIENT_CONN": "50", "DEFAULT_POOL_SIZE": null, "-CLIENT_TLS_SSLMODE": null, "-SERVER_TLS_SSLMODE": null}),
        json!({}),
    );
    let (run, doc) = verify(tight, &[]);
    assert_eq!(run.code, 1);
    let clients = check(&doc, "pooler.max_client_conn");
    assert_eq!(clients["status"], "fail", "{clients:#}");
    assert_contains!(
        clients["message"].as_str().unwrap(),
        "pool 40 × 3 replicas = 120 client connections"
    );
    // Sealed: present, unreadable: neither pass nor fail.
    let pool = check(&doc, "pooler.default_pool_size");
    assert_eq!(pool["status"], "warn", "{pool:#}");
    assert_contains!(
        pool["message"].as_str().unwrap(),
        "DEFAULT_POOL_SIZE sealed"
    );
    let tls = check(&doc, "pooler.tls");
    assert_eq!(tls["status"], "fail", "{tls:#}");
    assert_contains!(
        tls["message"].as_str().unwrap(),
        "CLIENT_TLS_SSLMODE unset",
        "{tls:#}"
    );
}

#[test]
fn a_direct_url_through_the_pooler_fails_where_it_is_written_and_where_it_leads() {
    let through = topology(
        json!({"DATABASE_DIRECT_URL": POOLER_URL}),
        json!({}),
        json!({"DATABASE_DIRECT_URL": "${{PgBouncer.DATABASE_URL}}"}),
    );
    let (run, doc) = verify(through, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(status(&doc, "pooler.direct_url"), "fail");
    assert_contains!(
        message(&doc, "pooler.direct_url"),
        "references `PgBouncer`, the pooler"
    );
    assert_eq!(status(&doc, "database_direct_url.pooler"), "fail");
}

#[test]
fn the_pooler_is_found_by_name_or_missing_with_the_fix() {
    // DATABASE_URL written as a literal: nothing to follow.
    let literal = topology(json!({}), json!({}), json!({"DATABASE_URL": POOLER_URL}));
    let (_, doc) = verify(literal.clone(), &[]);
    let service = check(&doc, "pooler.service");
    assert_eq!(service["status"], "warn", "{service:#}");
    assert_contains!(service["hint"].as_str().unwrap(), "--pooler-service");
    // Named: found, checked.
    let (run, doc) = verify(literal.clone(), &["--pooler-service", "pgbouncer"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(status(&doc, "pooler.max_client_conn"), "pass");
    // Named wrong.
    let (run, doc) = verify(literal, &["--pooler-service", "pgbouncr"]);
    assert_eq!(run.code, 1);
    assert_contains!(message(&doc, "pooler.service"), "no service `pgbouncr`");
    // No pooler at all: one line saying so.
    let (run, doc) = verify(json!({}), &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(status(&doc, "pooler.service"), "pass");
    assert!(find_check(&doc, "pooler.pool_mode").is_none());
}

/// `deploy`'s pre-flight runs the same pooler checks as `verify --remote`: a pair that
/// disagrees stops it before anything is triggered, `--pooler-service` names the pooler
/// there too, and a pair that agrees goes on.
#[test]
fn deploy_runs_the_pooler_checks_before_anything_is_triggered() {
    let undeclared = topology(
        json!({"-DATABASE_POOL_MODE": null, "-DATABASE_DIRECT_URL": null}),
        json!({}),
        json!({"-DATABASE_DIRECT_URL": null}),
    );
    let fake = scenario(undeclared);
    let run = fake.xtask(&["deploy", "--no-env-file"], &[]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("`PgBouncer` runs POOL_MODE=transaction")
            && run
                .stdout
                .contains("fix: set DATABASE_POOL_MODE=transaction on the backend service"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("nothing was deployed"),
        "{}",
        run.stderr
    );
    assert!(fake.mutating_calls().is_empty(), "{:?}", fake.commands());

    let literal = topology(json!({}), json!({}), json!({"DATABASE_URL": POOLER_URL}));
    let fake = scenario(literal.clone());
    let run = fake.xtask(
        &["deploy", "--no-env-file", "--pooler-service", "pgbouncr"],
        &[],
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("no service `pgbouncr`"),
        "{}",
        run.stdout
    );
    assert!(fake.mutating_calls().is_empty(), "{:?}", fake.commands());

    let fake = scenario(literal);
    let args = [
        "deploy",
        "--no-env-file",
        "--dry-run",
        "--pooler-service",
        "pgbouncer",
    ];
    let run = fake.xtask(&args, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("pre-flight ok") || run.stdout.contains("pre-flight ok"));
    assert!(!run.stdout.contains(DB_PASSWORD) && !run.stderr.contains(DB_PASSWORD));
}
