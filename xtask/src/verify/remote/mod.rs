//! `verify --remote` (and `deploy`'s pre-flight): what will run on Railway, checked from
//! here. The platform's rendered variables go through the same configuration rules as if
//! inside Railway; references are checked where they are written; the live service
//! instance's settings are held to the invariants of [`settings`]; when the repository
//! has `.railway/railway.ts`, its plan must not destroy anything; with a frontend
//! service, [`frontend`] checks that it reaches this service and is allowed to; and
//! [`pooler`] checks the PgBouncer between the replicas and the database. No secret
//! value is ever printed (the frontend checks name URLs and domains: not secrets, and relayed).

mod frontend;
pub(crate) mod plan;
pub(crate) mod pooler;
mod references;
pub(crate) mod sealed;
pub(crate) mod settings;
mod variables;

#[cfg(test)]
mod railway_ts_tests;

use std::collections::BTreeSet;

use intowork_config::{Check, Report, Settings, Source, Status, ValueOrigin};
use xshell::Shell;

use crate::flags::{EnvFileArgs, FrontendArgs, RailwayArgs};
use crate::railway::{Feature, Ids, Needs, Railway, Target, Variables};
use settings::{Input, InstanceSettings, Runtime};

/// A CLI every task can drive: version checked, credentials proven, and the target
/// service's variables read — first, so that every later error of the CLI that echoes one
/// of their values is masked by value.
#[derive(Debug)]
pub(crate) struct Ready {
    pub(crate) railway: Railway,
    pub(crate) ids: Ids,
    /// Values included: for checks, masking and the public domain only; never printed.
    pub(crate) variables: Variables,
}

/// Locates the CLI, refuses one older than `needs` says before anything else, checks the
/// credentials (`status --json`, which also gives the ids the API needs) and reads the
/// service's variables.
pub(crate) fn railway_ready(
    sh: &Shell,
    args: &RailwayArgs,
    needs: &Needs,
) -> anyhow::Result<Ready> {
    let target = Target {
        service: args.service.clone(),
        environment: args.environment.clone(),
    };
    let railway = Railway::locate(sh, target, needs)?;
    let ids = railway.ids(sh)?;
    let variables = railway.variables(sh, &args.service)?;
    Ok(Ready {
        railway,
        ids,
        variables,
    })
}

/// What [`check`] asks of the CLI (`verify --remote`, and `deploy`'s pre-flight).
pub(crate) fn features() -> Vec<Feature> {
    let mut features = vec![
        Feature::Status,
        Feature::VariableList,
        Feature::SealedAsNull,
        Feature::Api,
    ];
    if plan::planned() {
        features.push(Feature::ConfigPlan);
    }
    features
}

/// What `verify --remote` checks (and `deploy`'s pre-flight).
pub(crate) fn check(
    sh: &Shell,
    ready: &Ready,
    frontend: &FrontendArgs,
    env: &EnvFileArgs,
    pooler_service: Option<&str>,
) -> anyhow::Result<Report> {
    let Ready {
        railway,
        ids,
        variables,
    } = ready;
    let t = &railway.target;
    let mut report = Report::default();
    let sealed = variables.sealed().len();
    report.push(Check::new(
        "platform.source",
        Status::Pass,
        format!(
            "{} variables of Railway service `{}` ({}) checked as if inside Railway{}",
            variables.len(),
            t.service,
            t.environment,
            if sealed > 0 {
                format!(" ({sealed} sealed: present, value unknown)")
            } else {
                String::new()
            }
        ),
    ));
    let (config, runtime) = configuration(variables, t);
    let already: BTreeSet<String> = config
        .failures()
        .filter_map(|c| c.variable.clone())
        .collect();
    report.extend(config);
    report
        .checks
        .extend(variables::unresolved(variables, &already));
    let unrendered = railway.unrendered_variables(sh, ids, Some(&ids.service_id))?;
    report
        .checks
        .extend(references::check(sh, railway, ids, &unrendered)?);

    let instance = railway.service_instance(sh, ids)?;
    report.checks.extend(settings::check(
        &InstanceSettings::from(&instance),
        &runtime,
    ));
    report.checks.extend(plan::check(sh, railway));

    report.push(variables::local_only(variables, env)?);
    if let Some(name) = frontend.frontend_service.as_deref() {
        let theirs = railway.variables(sh, name)?;
        report.checks.extend(frontend::check(
            sh,
            railway,
            ids,
            (variables, &unrendered),
            &theirs,
            frontend,
        )?);
    }
    report
        .checks
        .extend(pooler::check(sh, ready, pooler_service)?);
    report.push(Check::new(
        "database.online",
        Status::Skip,
        "--remote: the database is reached from inside Railway (the backend's /health/ready proves it); from here use `cargo xtask verify` with DATABASE_PUBLIC_URL",
    ));
    Ok(report)
}

/// The configuration rules on the rendered variables (sealed ones as [`sealed`] says), and
/// the values the settings' invariants depend on (the defaults when the configuration is
/// invalid: its report says why; a sealed variable's name when it holds one).
fn configuration(variables: &Variables, t: &Target) -> (Report, Runtime) {
    let (report, (grace, migrate, pool)) = match Settings::load(&platform_source(variables, t)) {
        Ok(loaded) => {
            let service = loaded.settings.service();
            let values = (
                service.shutdown_grace.as_secs(),
                service.migrate_on_start,
                loaded.settings.database().max_connections(),
            );
            (loaded.report, values)
        }
        Err(invalid) => {
            let defaults = (
                intowork_config::DEFAULT_SHUTDOWN_GRACE_SECS,
                true,
                intowork_config::DEFAULT_MAX_CONNECTIONS,
            );
            (invalid.report, defaults)
        }
    };
    let runtime = Runtime {
        shutdown_grace_secs: input(variables, "SHUTDOWN_GRACE_SECS", grace),
        migrate_on_start: input(variables, "MIGRATE_ON_START", migrate),
        pool_size: input(variables, "DATABASE_MAX_CONNECTIONS", pool),
    };
    (sealed::replace_checks(report, variables), runtime)
}

/// The rendered variables as the service will see them: sealed ones as [`sealed`] stands
/// in for them, `RAILWAY_ENVIRONMENT_NAME` as Railway injects it at run time.
fn platform_source(variables: &Variables, t: &Target) -> Source {
    let mut rendered = sealed::rendered(variables);
    rendered
        .entry("RAILWAY_ENVIRONMENT_NAME".into())
        .or_insert_with(|| t.environment.clone());
    let origin = ValueOrigin::Platform(format!("railway {}", t.service));
    Source::from_pairs(&rendered, origin)
}

/// `value`, unless the variable it comes from is sealed.
fn input<T>(variables: &Variables, name: &'static str, value: T) -> Input<T> {
    if variables.sealed().contains(&name) {
        Input::Sealed(name)
    } else {
        Input::Value(value)
    }
}
