//! `verify --remote`: the platform's rendered variables through the same configuration rules,
//! as if inside Railway, plus names-only comparisons. No value is ever printed.

use std::collections::{BTreeMap, BTreeSet};

use intowork_config::{Check, Report, Settings, Source, Status, ValueOrigin};
use xshell::Shell;

use crate::config_source;
use crate::flags::{EnvFileArgs, RailwayArgs};
use crate::railway::{Railway, Target};

/// Locates the CLI, checks its version and the credentials (`status --json`).
pub(crate) fn railway_ready(sh: &Shell, args: &RailwayArgs) -> anyhow::Result<Railway> {
    let target = Target {
        service: args.service.clone(),
        environment: args.environment.clone(),
    };
    let (railway, note) = Railway::locate(sh, target)?;
    if let Some(note) = note {
        eprintln!("note: {note}");
    }
    railway.check_auth(sh)?;
    Ok(railway)
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

    let mut rendered = variables.clone();
    // Railway injects it at run time; the rules must see what the service will see.
    rendered
        .entry("RAILWAY_ENVIRONMENT_NAME".into())
        .or_insert_with(|| t.environment.clone());
    let source = Source::from_pairs(
        &rendered,
        ValueOrigin::Platform(format!("railway {}", t.service)),
    );
    let config = match Settings::load(&source) {
        Ok(loaded) => loaded.report,
        Err(invalid) => invalid.report,
    };
    let already: BTreeSet<String> = config
        .failures()
        .filter_map(|c| c.variable.clone())
        .collect();
    report.extend(config);

    for (name, value) in &variables {
        if value.contains("${{") && !already.contains(name) {
            report.push(
                Check::new("platform.unresolved_reference", Status::Fail, "contains an unresolved `${{…}}` reference")
                    .variable(name)
                    .hint("fix the reference in the service's Variables (the referenced service or variable does not exist)"),
            );
        }
    }

    report.push(local_only(&variables, env)?);

    if let Some(frontend) = frontend {
        let theirs = railway.variables(sh, frontend)?;
        report.push(same_secret(&variables, &theirs, &t.service, frontend));
    }
    report.push(Check::new(
        "database.online",
        Status::Skip,
        "--remote: the database is reached from inside Railway (the backend's /health/ready proves it); from here use `cargo xtask verify` with DATABASE_PUBLIC_URL",
    ));
    Ok(Platform { report, variables })
}

/// Variables set locally but not on the platform: the seed's "`.env` is not deployed".
fn local_only(platform: &BTreeMap<String, String>, env: &EnvFileArgs) -> anyhow::Result<Check> {
    let root = config_source::project_root();
    let path = config_source::env_file(env, &[root.join(".env"), root.join(".env.example")])?;
    let Some(path) = path else {
        return Ok(Check::new(
            "platform.local_only",
            Status::Skip,
            "no local env file to compare with",
        ));
    };
    let local = config_source::read_env_file(&path)?;
    let managed: BTreeSet<&str> = intowork_config::VARIABLES.iter().map(|v| v.name).collect();
    let missing: Vec<String> = local
        .names()
        .filter_map(|n| n.to_str())
        .filter(|n| managed.contains(n) && !platform.contains_key(*n))
        // Railway injects these itself.
        .filter(|n| !n.starts_with("RAILWAY_") && *n != "PORT")
        .map(str::to_owned)
        .collect();
    let shown = path
        .strip_prefix(&root)
        .unwrap_or(&path)
        .display()
        .to_string();
    Ok(if missing.is_empty() {
        Check::new(
            "platform.local_only",
            Status::Pass,
            format!("every variable set in {shown} is also set on the platform"),
        )
    } else {
        Check::new(
            "platform.local_only",
            Status::Warn,
            format!("set in {shown} but not on the platform (a local env file is not deployed): {}", missing.join(", ")),
        )
        .hint("set them in the service's Variables (`railway variable set NAME=…`), or drop them locally if the default is intended")
    })
}

/// The frontend must sign sessions with the same secret; compared by fingerprint only.
fn same_secret(
    ours: &BTreeMap<String, String>,
    theirs: &BTreeMap<String, String>,
    service: &str,
    frontend: &str,
) -> Check {
    let fp = |v: &String| intowork_config::secret_fingerprint(v);
    let check = |status, msg: String| {
        Check::new("platform.nextauth_secret_match", status, msg).variable("NEXTAUTH_SECRET")
    };
    match (ours.get("NEXTAUTH_SECRET"), theirs.get("NEXTAUTH_SECRET")) {
        (Some(a), Some(b)) if a == b => check(Status::Pass, format!("identical on `{service}` and `{frontend}` (sha256 {}…)", fp(a))),
        (Some(a), Some(b)) => check(
            Status::Fail,
            format!("differs between `{service}` (sha256 {}…) and `{frontend}` (sha256 {}…): sessions signed by one are rejected by the other", fp(a), fp(b)),
        )
        .hint("set the same value on both services; a shared variable referenced by both (`${{shared.NEXTAUTH_SECRET}}`) keeps them in step"),
        (_, None) => check(Status::Fail, format!("not set on `{frontend}`")).hint("set NEXTAUTH_SECRET on the frontend service, identical to the backend's"),
        (None, Some(_)) => check(Status::Fail, format!("not set on `{service}`")).hint("set NEXTAUTH_SECRET on the backend service, identical to the frontend's"),
    }
}
