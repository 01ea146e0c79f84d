//! Names-only comparisons of the platform's rendered variables: set locally but not on the
//! platform, a `${{…}}` left unresolved. No value is printed.
//! A sealed variable is set (it counts as present) and unreadable (no rule reads it).

use std::collections::BTreeSet;

use intowork_config::{Check, Status};

use crate::flags::EnvFileArgs;
use crate::railway::Variables;
use crate::util::config_source;

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
