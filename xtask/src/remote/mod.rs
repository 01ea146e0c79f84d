//! `verify --remote` (and `deploy`'s pre-flight): what will run on Railway, checked from
//! here. The platform's rendered variables go through the same configuration rules as if
//! inside Railway; references are checked where they are written; the live service
//! instance's settings are held to the invariants of [`settings`]; and, when the repository
//! has `.railway/railway.ts`, its plan must not destroy anything. No value is ever printed.

pub(crate) mod plan;
mod references;
pub(crate) mod settings;
mod variables;

#[cfg(test)]
mod railway_ts_tests;

use std::collections::{BTreeMap, BTreeSet};

use intowork_config::{Check, Report, Settings, Source, Status, ValueOrigin};
use xshell::Shell;

use crate::flags::{EnvFileArgs, RailwayArgs};
use crate::railway::{Ids, Railway, Target};
use settings::{Runtime, ServiceSettings};

/// Locates the CLI, checks its version and the credentials (`status --json`, which also
/// gives the ids the API needs).
pub(crate) fn railway_ready(sh: &Shell, args: &RailwayArgs) -> anyhow::Result<(Railway, Ids)> {
    let target = Target {
        service: args.service.clone(),
        environment: args.environment.clone(),
    };
    let (railway, note) = Railway::locate(sh, target)?;
    if let Some(note) = note {
        eprintln!("note: {note}");
    }
    let ids = railway.ids(sh)?;
    Ok((railway, ids))
}

/// What `verify --remote` found.
#[derive(Debug)]
pub(crate) struct Platform {
    pub(crate) report: Report,
    /// The service's variables, values included: for masking and the public domain only.
    pub(crate) variables: BTreeMap<String, String>,
}

pub(crate) fn check(
    sh: &Shell,
    railway: &Railway,
    ids: &Ids,
    frontend: Option<&str>,
    env: &EnvFileArgs,
) -> anyhow::Result<Platform> {
    let t = &railway.target;
    let variables = railway.variables(sh, &t.service)?;
    let mut report = Report::default();
    report.push(Check::new(
        "platform.source",
        Status::Pass,
        format!(
            "{} variables of Railway service `{}` ({}) checked as if inside Railway",
            variables.len(),
            t.service,
            t.environment
        ),
    ));
    let (config, runtime) = configuration(&variables, t);
    let already: BTreeSet<String> = config
        .failures()
        .filter_map(|c| c.variable.clone())
        .collect();
    report.extend(config);
    report
        .checks
        .extend(variables::unresolved(&variables, &already));
    let unrendered = railway.unrendered_variables(sh, ids, Some(&ids.service_id))?;
    report
        .checks
        .extend(references::check(sh, railway, ids, &unrendered)?);

    let instance = railway.service_instance(sh, ids)?;
    report
        .checks
        .extend(settings::check(&ServiceSettings::from(&instance), &runtime));
    report.checks.extend(plan::check(sh, railway));

    report.push(variables::local_only(&variables, env)?);
    if let Some(frontend) = frontend {
        let theirs = railway.variables(sh, frontend)?;
        report.push(variables::same_secret(
            &variables, &theirs, &t.service, frontend,
        ));
    }
    report.push(Check::new(
        "database.online",
        Status::Skip,
        "--remote: the database is reached from inside Railway (the backend's /health/ready proves it); from here use `cargo xtask verify` with DATABASE_PUBLIC_URL",
    ));
    Ok(Platform { report, variables })
}

/// The configuration rules on the rendered variables, and the values the settings'
/// invariants depend on (the defaults when the configuration is invalid: its report says why).
fn configuration(variables: &BTreeMap<String, String>, t: &Target) -> (Report, Runtime) {
    let mut rendered = variables.clone();
    // Railway injects it at run time; the rules must see what the service will see.
    rendered
        .entry("RAILWAY_ENVIRONMENT_NAME".into())
        .or_insert_with(|| t.environment.clone());
    let origin = ValueOrigin::Platform(format!("railway {}", t.service));
    let source = Source::from_pairs(&rendered, origin);
    match Settings::load(&source) {
        Ok(loaded) => {
            let runtime = Runtime {
                shutdown_grace_secs: loaded.settings.service().shutdown_grace.as_secs(),
                migrate_on_start: loaded.settings.service().migrate_on_start,
                pool_size: loaded.settings.database().max_connections(),
            };
            (loaded.report, runtime)
        }
        Err(invalid) => {
            let runtime = Runtime {
                shutdown_grace_secs: intowork_config::DEFAULT_SHUTDOWN_GRACE_SECS,
                migrate_on_start: true,
                pool_size: intowork_config::DEFAULT_MAX_CONNECTIONS,
            };
            (invalid.report, runtime)
        }
    }
}
