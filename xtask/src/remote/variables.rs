//! Names-only comparisons of the platform's rendered variables: set locally but not on the
//! platform, a `${{…}}` left unresolved, the frontend's NEXTAUTH_SECRET. No value is printed.
//! A sealed variable is set (it counts as present) and unreadable (no rule reads it).

use std::collections::BTreeSet;

use intowork_config::{Check, Status};

use crate::config_source;
use crate::flags::EnvFileArgs;
use crate::railway::Variables;

/// A value still holding `${{…}}` after rendering: the reference did not resolve.
pub(crate) fn unresolved(variables: &Variables, already: &BTreeSet<String>) -> Vec<Check> {
    variables
        .iter()
        .filter(|(name, value)| {
            value.is_some_and(|v| v.contains("${{")) && !already.contains(*name)
        })
        .map(|(name, _)| {
            Check::new("platform.unresolved_reference", Status::Fail, "contains an unresolved `${{…}}` reference")
                .variable(name)
                .hint("fix the reference in the service's Variables (the referenced service or variable does not exist)")
        })
        .collect()
}

/// Variables set locally but not on the platform: the seed's "`.env` is not deployed".
pub(crate) fn local_only(platform: &Variables, env: &EnvFileArgs) -> anyhow::Result<Check> {
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
        .filter(|n| managed.contains(n) && !platform.contains(n))
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

/// The frontend must sign sessions with the same secret; compared by fingerprint only. A
/// sealed value on either side cannot be compared: a warning naming both services, never a
/// pass.
pub(crate) fn same_secret(
    ours: &Variables,
    theirs: &Variables,
    service: &str,
    frontend: &str,
) -> Check {
    const NAME: &str = "NEXTAUTH_SECRET";
    let fp = |v: &str| intowork_config::secret_fingerprint(v);
    let check = |status, msg: String| {
        Check::new("platform.nextauth_secret_match", status, msg).variable(NAME)
    };
    if !theirs.contains(NAME) {
        return check(Status::Fail, format!("not set on `{frontend}`"))
            .hint("set NEXTAUTH_SECRET on the frontend service, identical to the backend's");
    }
    if !ours.contains(NAME) {
        return check(Status::Fail, format!("not set on `{service}`"))
            .hint("set NEXTAUTH_SECRET on the backend service, identical to the frontend's");
    }
    match (ours.value(NAME), theirs.value(NAME)) {
        (Some(a), Some(b)) if a == b => check(Status::Pass, format!("identical on `{service}` and `{frontend}` (sha256 {}…)", fp(a))),
        (Some(a), Some(b)) => check(
            Status::Fail,
            format!("differs between `{service}` (sha256 {}…) and `{frontend}` (sha256 {}…): sessions signed by one are rejected by the other", fp(a), fp(b)),
        )
        .hint("set the same value on both services; a shared variable referenced by both (`${{shared.NEXTAUTH_SECRET}}`) keeps them in step"),
        (a, b) => {
            let sealed: Vec<&str> = [(a, service), (b, frontend)]
                .into_iter()
                .filter(|(v, _)| v.is_none())
                .map(|(_, s)| s)
                .collect();
            check(
                Status::Warn,
                format!(
                    "sealed on `{}`: its value cannot be read back, so whether `{service}` and `{frontend}` sign sessions with the same secret cannot be checked from here (not a pass)",
                    sealed.join("` and `")
                ),
            )
            .hint(format!("make sure both services hold the same value (a shared variable referenced by both, `${{{{shared.NEXTAUTH_SECRET}}}}`, keeps them in step); after a deploy, `cargo xtask logs` shows the backend's \"does not decrypt with this service's NEXTAUTH_SECRET\" line if `{frontend}` signs with another"))
        }
    }
}
