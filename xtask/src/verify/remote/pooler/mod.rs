//! `verify --remote`: the pooler between the backend's replicas and the database, checked as
//! a pair with the backend. The pooler is the service `DATABASE_URL` references (as written:
//! `${{PgBouncer.DATABASE_URL}}`), or `--pooler-service`; it is PgBouncer when its image is
//! (railwayapp 5.71.0 `src/controllers/database_plugins.rs`, `is_pooler_service`: the image
//! name contains `pgbouncer`) or it has PgBouncer's `POOL_MODE` knob. Its knobs are read from
//! its variables ([`knobs`]), its replicas from its service instance. No value but the knobs
//! is printed.

mod knobs;

use intowork_config::{Check, PoolMode, Settings, Status};
use xshell::Shell;

use super::references::{Reference, parse};
use super::{Ready, platform_source};
use crate::railway::{Ids, Railway, ServiceInstance, Variables};
use knobs::{DEFAULT_POOL_SIZE, MAX_CLIENT_CONN, POOL_MODE, Pair, knob};

/// Every pooler check, and where migrations connect (`database.direct_route`).
pub(crate) fn check(
    sh: &Shell,
    ready: &Ready,
    pooler_service: Option<&str>,
) -> anyhow::Result<Vec<Check>> {
    let Ready {
        railway,
        ids,
        variables,
    } = ready;
    let settings = Settings::load(&platform_source(variables, &railway.target))
        .ok()
        .map(|l| l.settings);
    let mut checks: Vec<Check> = settings
        .iter()
        .map(|s| intowork_db::online::direct_route(s.database()))
        .collect();
    let declared = declared_mode(settings.as_ref(), variables);
    let unrendered = railway.unrendered_variables(sh, ids, Some(&ids.service_id))?;
    let named = pooler_service
        .map(str::to_owned)
        .or_else(|| referenced(&unrendered, "DATABASE_URL"));
    let Some((name, id)) = named.and_then(|n| service_id(ids, &n)) else {
        checks.push(no_pooler(railway, declared, pooler_service));
        return Ok(checks);
    };
    let pooler_ids = Ids {
        service_id: id,
        ..ids.clone()
    };
    let instance = railway.service_instance(sh, &pooler_ids)?;
    let theirs = railway.variables(sh, &name)?;
    let shown = railway.relay().text(&name);
    if pooler_service.is_none() && !is_pgbouncer(&instance, &theirs) {
        checks.push(no_pooler(railway, declared, None));
        return Ok(checks);
    }
    let backend = railway.service_instance(sh, ids)?;
    let pair = Pair {
        pooler: shown.clone(),
        pooler_replicas: instance.num_replicas.unwrap_or(1).max(1),
        declared,
        pool_size: settings
            .as_ref()
            .map_or(intowork_config::DEFAULT_MAX_CONNECTIONS, |s| {
                s.database().max_connections()
            }),
        replicas: backend.num_replicas.unwrap_or(1).max(1),
    };
    checks.push(Check::new(
        "pooler.service",
        Status::Pass,
        format!(
            "`{shown}` (PgBouncer, {} replica{}) stands between the backend and the database",
            pair.pooler_replicas,
            if pair.pooler_replicas == 1 { "" } else { "s" }
        ),
    ));
    checks.push(knobs::pool_mode(
        &pair,
        &knob(&theirs, POOL_MODE, "session"),
    ));
    checks.push(knobs::tls(
        &pair,
        &knob(&theirs, "CLIENT_TLS_SSLMODE", "disable"),
        &knob(&theirs, "SERVER_TLS_SSLMODE", "disable"),
    ));
    checks.push(knobs::max_client_conn(
        &pair,
        &knob(&theirs, MAX_CLIENT_CONN, "100"),
    ));
    checks.push(knobs::default_pool_size(
        &pair,
        &knob(&theirs, DEFAULT_POOL_SIZE, "20"),
    ));
    checks.extend(direct_through_pooler(&unrendered, &name, &shown));
    Ok(checks)
}

/// `DATABASE_POOL_MODE` as the backend declares it: from valid settings, else read as is.
fn declared_mode(settings: Option<&Settings>, variables: &Variables) -> Option<PoolMode> {
    match settings {
        Some(s) if s.database().pool_mode_declared() => Some(s.database().pool_mode()),
        Some(_) => None,
        None => variables.value("DATABASE_POOL_MODE")?.parse().ok(),
    }
}

/// The service the variable's written value references first (`${{Service.NAME}}`).
fn referenced(unrendered: &Variables, variable: &str) -> Option<String> {
    parse(unrendered.value(variable)?)
        .into_iter()
        .find_map(|r| match r {
            Reference::Service { service, .. } => Some(service),
            _ => None,
        })
}

/// The service's exact name and id (names match ignoring case, as the CLI matches them).
fn service_id(ids: &Ids, name: &str) -> Option<(String, String)> {
    ids.services
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(n, id)| (n.clone(), id.clone()))
}

fn is_pgbouncer(instance: &ServiceInstance, variables: &Variables) -> bool {
    let image = instance.source.as_ref().and_then(|s| s.image.as_deref());
    image.is_some_and(|i| i.to_ascii_lowercase().contains("pgbouncer"))
        || variables.contains(POOL_MODE)
}

/// No PgBouncer found: fine unless transaction pooling is declared.
fn no_pooler(railway: &Railway, declared: Option<PoolMode>, asked: Option<&str>) -> Check {
    if let Some(name) = asked {
        return Check::new(
            "pooler.service",
            Status::Fail,
            format!(
                "--pooler-service: this project has no service `{}`",
                railway.relay().text(name)
            ),
        )
        .hint("name the pooler's service as the project lists it (`railway status --json`)");
    }
    match declared {
        Some(PoolMode::Transaction) => Check::new(
            "pooler.service",
            Status::Warn,
            "DATABASE_POOL_MODE=transaction, but DATABASE_URL references no PgBouncer service: the pooler's POOL_MODE, MAX_CLIENT_CONN and DEFAULT_POOL_SIZE cannot be compared",
        )
        .variable("DATABASE_POOL_MODE")
        .hint("pass --pooler-service NAME, or reference the pooler's URL in DATABASE_URL (`${{PgBouncer.DATABASE_URL}}`)"),
        _ => Check::new(
            "pooler.service",
            Status::Pass,
            "no pooler: DATABASE_URL does not reference a PgBouncer service",
        ),
    }
}

/// Migrations must bypass the pooler: a direct URL written as a reference to it fails.
fn direct_through_pooler(unrendered: &Variables, pooler: &str, shown: &str) -> Option<Check> {
    let through = referenced(unrendered, "DATABASE_DIRECT_URL")?;
    through.eq_ignore_ascii_case(pooler).then(|| {
        Check::new(
            "pooler.direct_url",
            Status::Fail,
            format!("DATABASE_DIRECT_URL references `{shown}`, the pooler, which migrations must bypass"),
        )
        .variable("DATABASE_DIRECT_URL")
        .hint("reference the database service's own, unpooled URL (e.g. `${{Postgres.DATABASE_URL}}`)")
    })
}
