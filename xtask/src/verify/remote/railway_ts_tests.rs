//! `.railway/railway.ts` evaluated with the real SDK (npm `railway`, pinned in the root
//! package-lock.json; Node 20 runs the TypeScript through `tsx`), its invariants asserted on
//! the evaluated graph with the same rules `verify --remote` holds the live service to.
//!
//! The evaluation does what the CLI's does (railwayapp 5.71.0, `src/iac/eval.rs`): the
//! context comes from the SDK's `createRailwayContext({environment})`, the default export is
//! called with it, `partial` is read from the module. Older CLIs passed an empty context
//! (`bare` below). What applying would change is computed with the engine's rules
//! (`src/iac/change_set.rs`): a variable on the service that the file does not list is
//! deleted; `source` is compared as a whole, after the engine's normalisation.

use std::collections::BTreeMap;
use std::path::Path;

use intowork_config::{Need, Status, VARIABLES};
use intowork_testkit::npm;
use serde_json::{Value, json};
use xshell::{Shell, cmd};

use super::settings::{self, Input, InstanceSettings, READINESS_PATH, Runtime};
use crate::util::config_source::project_root;

/// Mirrors the CLI's evaluation (see the module comment); prints `{partial, source, project}`.
const EVALUATE: &str = r#"
import { pathToFileURL } from "node:url";
import { createRailwayContext } from "railway/iac";
const [file, environment] = process.argv.slice(2);
const ctx = environment === "bare" ? {} : createRailwayContext({ environment });
const mod = await import(pathToFileURL(file).href);
const project = (name, definition = {}) => ({ name, ...definition, resources: (definition.resources ?? []).flat() });
const program = mod.default;
const graph = typeof program === "function" ? await program(ctx, project) : program;
process.stdout.write(JSON.stringify({ partial: mod.partial ?? null, source: mod.SOURCE ?? null, project: graph }));
"#;

/// The file's text evaluated for one environment (`bare`: the empty context of older CLIs).
fn evaluate(text: &str, environment: &str) -> Value {
    let packages = npm::install(&project_root());
    let dir = packages.scratch_dir("railway-ts");
    std::fs::write(dir.join("railway.ts"), text).unwrap();
    std::fs::write(dir.join("evaluate.mjs"), EVALUATE).unwrap();
    let node = npm::node();
    let sh = Shell::new().unwrap();
    sh.change_dir(&dir);
    let out = cmd!(
        sh,
        "{node} --import tsx evaluate.mjs railway.ts {environment}"
    )
    .quiet()
    .ignore_status()
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "evaluating .railway/railway.ts ({environment}) failed:\n{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stderr}"))
}

fn shipped() -> String {
    std::fs::read_to_string(project_root().join(".railway/railway.ts")).unwrap()
}

/// The `backend` service of the evaluated graph.
fn backend(evaluated: &Value) -> &Value {
    evaluated["project"]["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["address"] == "service.backend")
        .expect("the file declares service.backend")
}

fn settings_of(resource: &Value) -> InstanceSettings {
    let deploy = &resource["deploy"];
    let source = &resource["source"];
    InstanceSettings {
        source: source["repo"]
            .as_str()
            .map(|r| format!("github:{r}"))
            .or(source["image"].as_str().map(|i| format!("image:{i}"))),
        healthcheck_path: deploy["healthcheckPath"].as_str().map(str::to_owned),
        healthcheck_timeout: deploy["healthcheckTimeout"].as_u64(),
        draining_seconds: deploy["drainingSeconds"].as_u64(),
        overlap_seconds: deploy["overlapSeconds"].as_u64(),
        num_replicas: deploy["numReplicas"].as_u64().map(|n| n as u32),
        pre_deploy: deploy["preDeployCommand"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect(),
        restart_policy: deploy["restartPolicyType"].as_str().map(str::to_owned),
        sleep_application: deploy["sleepApplication"].as_bool(),
    }
}

/// A literal the file must decide itself (not `preserve()`d: the invariants depend on it).
fn literal<'a>(resource: &'a Value, name: &str) -> &'a str {
    let v = &resource["variables"][name];
    assert_eq!(v["type"], "literal", "{name} must be set in the file: {v}");
    v["value"].as_str().unwrap()
}

fn runtime_of(resource: &Value) -> Runtime {
    let migrate = literal(resource, "MIGRATE_ON_START").to_ascii_lowercase();
    Runtime {
        shutdown_grace_secs: Input::Value(
            literal(resource, "SHUTDOWN_GRACE_SECS").parse().unwrap(),
        ),
        migrate_on_start: Input::Value(matches!(migrate.as_str(), "true" | "1" | "yes" | "on")),
        pool_size: Input::Value(
            literal(resource, "DATABASE_MAX_CONNECTIONS")
                .parse()
                .unwrap(),
        ),
    }
}

/// The engine's normalisation of `source` before comparing (`normalize_for_diff`).
fn normalize_source(source: &Value) -> Value {
    let mut s = source.as_object().cloned().unwrap_or_default();
    if s.get("branch") == Some(&json!("main")) {
        s.remove("branch");
    }
    if s.get("checkSuites") == Some(&json!(false)) {
        s.remove("checkSuites");
    }
    if s.get("rootDirectory") == Some(&json!("")) {
        s.remove("rootDirectory");
    }
    s.remove("commitSha");
    s.remove("upstreamUrl");
    if s.is_empty() {
        Value::Null
    } else {
        Value::Object(s)
    }
}

/// What applying `desired` to the live service would destroy, by the engine's rules.
fn destroyed(live: &Value, desired: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if normalize_source(&live["source"]) != normalize_source(&desired["source"]) {
        out.push(format!("source {} → {}", live["source"], desired["source"]));
    }
    let declared = desired["variables"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for name in live["variables"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
    {
        if !declared.contains_key(name) {
            out.push(format!("variable.delete {name}"));
        }
    }
    out
}

/// The service as Railway has it: deployed from the repository the file names, with every
/// variable of the configuration registry set in the dashboard (the platform's own are not
/// stored on the service).
fn live_service(evaluated: &Value) -> Value {
    let variables: BTreeMap<&str, Value> = VARIABLES
        .iter()
        .filter(|v| v.need != Need::Platform)
        .map(|v| {
            (
                v.name,
                json!({"type": "literal", "value": "set in the dashboard"}),
            )
        })
        .collect();
    let source = &evaluated["source"];
    json!({
        "source": {"type": "github", "repo": source["repo"], "branch": source["branch"]},
        "variables": variables,
    })
}

#[test]
fn the_shipped_file_holds_the_invariants_in_every_environment() {
    let text = shipped();
    for environment in ["production", "staging", "bare"] {
        let evaluated = evaluate(&text, environment);
        assert_eq!(
            evaluated["partial"], "backend",
            "without a partial, apply deletes the Postgres service"
        );
        let service = backend(&evaluated);
        for check in settings::check(&settings_of(service), &runtime_of(service)) {
            assert_eq!(check.status, Status::Pass, "{environment}: {check:?}");
        }
        let declared = service["variables"].as_object().unwrap();
        for v in VARIABLES {
            let entry = declared.get(v.name);
            if v.need == Need::Platform {
                assert!(
                    entry.is_none(),
                    "{} is injected by Railway: the file must not touch it",
                    v.name
                );
                continue;
            }
            let kind = entry.map(|e| e["type"].as_str().unwrap_or_default());
            assert!(
                matches!(kind, Some("literal" | "preserve" | "reference")),
                "{}: every registry variable is set or preserve()d in .railway/railway.ts, or applying deletes it ({environment}: {entry:?})",
                v.name
            );
        }
        for name in declared.keys() {
            assert!(
                VARIABLES.iter().any(|v| v.name == name),
                "`{name}` is not in the configuration registry"
            );
        }
        let environment_value = &declared["ENVIRONMENT"];
        match environment {
            "production" => assert_eq!(environment_value["value"], "production"),
            "staging" => assert_eq!(environment_value["value"], "staging"),
            _ => assert_eq!(
                environment_value["type"], "preserve",
                "no environment named: leave it as it is"
            ),
        }
    }
}

#[test]
fn applying_the_shipped_file_plans_no_source_change_and_no_variable_deletion() {
    let evaluated = evaluate(&shipped(), "production");
    let live = live_service(&evaluated);
    assert_eq!(destroyed(&live, backend(&evaluated)), Vec::<String>::new());

    // The same rules catch what the file used to do: no source, a variable left out.
    let text = shipped();
    let source_line = "    source: github(SOURCE.repo, { branch: SOURCE.branch }),\n";
    let preserved = "      PGSSLROOTCERT: preserve(),\n";
    assert!(text.contains(source_line) && text.contains(preserved));
    let broken = text.replace(source_line, "").replace(preserved, "");
    let evaluated = evaluate(&broken, "production");
    let found = destroyed(&live, backend(&evaluated));
    assert!(found.iter().any(|d| d.starts_with("source ")), "{found:?}");
    assert!(
        found.contains(&"variable.delete PGSSLROOTCERT".to_owned()),
        "{found:?}"
    );
}

#[test]
fn the_health_check_path_is_the_backends_readiness_route() {
    let routes = std::fs::read_to_string(project_root().join("backend/src/routes/mod.rs")).unwrap();
    assert!(
        routes.contains(&format!(".route(\"{READINESS_PATH}\", get(health::ready))")),
        "backend/src/routes/mod.rs must serve readiness on {READINESS_PATH}"
    );
    let docker = std::fs::read_to_string(Path::new(&project_root()).join("Dockerfile")).unwrap();
    assert!(
        docker.contains("CMD [\"/app/backend\", \"serve\"]"),
        "exec-form CMD: the binary must be PID 1 to get SIGTERM (no start command in railway.ts)"
    );
}

/// The topology the file describes (issue 27): with `POOLER` set, the replicas reach the
/// database through the pooler in transaction mode and migrations go around it; the
/// configuration rules accept what Railway would render, and migrations connect directly.
/// As shipped (`POOLER = null`), DATABASE_URL is the database's own.
#[test]
fn the_pooler_topology_routes_the_replicas_through_pgbouncer_and_migrations_around_it() {
    let text = shipped();
    let off = "export const POOLER: string | null = null;";
    assert!(text.contains(off), "the file names its pooler in one place");
    let variants = [
        (text.clone(), "session", "${{Postgres.DATABASE_URL}}"),
        (
            text.replace(off, "export const POOLER: string | null = \"PgBouncer\";"),
            "transaction",
            "${{PgBouncer.DATABASE_URL}}",
        ),
    ];
    for (file, mode, url) in variants {
        let evaluated = evaluate(&file, "production");
        let vars = &backend(&evaluated)["variables"];
        let written = |name: &str| vars[name]["value"].as_str().map(str::to_owned);
        assert_eq!(written("DATABASE_URL").as_deref(), Some(url), "{vars:#}");
        assert_eq!(literal(backend(&evaluated), "DATABASE_POOL_MODE"), mode);
        if mode == "session" {
            assert_eq!(vars["DATABASE_DIRECT_URL"]["type"], "preserve", "{vars:#}");
            continue;
        }
        assert_eq!(
            written("DATABASE_DIRECT_URL").as_deref(),
            Some("${{Postgres.DATABASE_URL}}")
        );
        // What Railway renders, through the configuration rules as inside Railway.
        let render = |value: String| {
            value
                .replace(
                    "${{PgBouncer.DATABASE_URL}}",
                    "postgresql://postgres:pw-Fake1@pgbouncer.railway.internal:6432/railway",
                )
                .replace(
                    "${{Postgres.DATABASE_URL}}",
                    "postgresql://postgres:pw-Fake1@postgres.railway.internal:5432/railway",
                )
        };
        let pairs = [
            ("DATABASE_URL", render(written("DATABASE_URL").unwrap())),
            (
                "DATABASE_DIRECT_URL",
                render(written("DATABASE_DIRECT_URL").unwrap()),
            ),
            ("DATABASE_POOL_MODE", mode.to_owned()),
            (
                "NEXTAUTH_SECRET",
                "pooler-topology-test-secret-0123456789abcdef".to_owned(),
            ),
            ("RAILWAY_ENVIRONMENT_NAME", "production".to_owned()),
        ];
        let source =
            intowork_config::Source::from_pairs(pairs, intowork_config::ValueOrigin::Environment);
        let settings = intowork_config::Settings::load(&source).unwrap().settings;
        let db = settings.database();
        assert!(db.through_transaction_pooler());
        assert_eq!(
            db.direct().unwrap().target().endpoint(),
            "postgres.railway.internal:5432/railway"
        );
    }
}
