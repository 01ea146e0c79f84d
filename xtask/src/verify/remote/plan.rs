//! `railway config plan` as checks: applying `.railway/railway.ts` must never delete a
//! variable, a service or the source. Destructive changes fail (and so stop `deploy`),
//! named by their summary; other pending changes warn.

use std::path::Path;

use intowork_config::{Check, Status};
use xshell::Shell;

use crate::railway::plan::Plan;
use crate::railway::{Railway, RailwayError};
use crate::util::config_source;

/// Where the service's configuration as code lives, relative to the repository root.
pub(crate) const CONFIG_FILE: &str = ".railway/railway.ts";

const REVIEW: &str = "run `railway config plan` to review; `railway config apply` writes it";

/// Whether the repository has `.railway/railway.ts` (then `verify --remote` plans it).
pub(crate) fn planned() -> bool {
    config_source::project_root().join(CONFIG_FILE).is_file()
}

/// The plan's checks; none when the repository has no `.railway/railway.ts`.
pub(crate) fn check(sh: &Shell, railway: &Railway) -> Vec<Check> {
    if !planned() {
        return Vec::new();
    }
    match railway.config_plan(sh, Path::new(CONFIG_FILE)) {
        Ok(plan) => checks(&plan),
        Err(e) => {
            let failed = Check::new(
                "config.plan",
                Status::Fail,
                format!("`railway config plan` could not run: {e}"),
            );
            // A diagnosed failure (login, token, link) says its own fix; an undiagnosed one
            // is most often the evaluation of the file.
            match e {
                RailwayError::Failed { .. }
                | RailwayError::Json { .. }
                | RailwayError::Unexpected { .. } => vec![failed.hint(install_hint())],
                _ => vec![failed],
            }
        }
    }
}

fn install_hint() -> String {
    format!(
        "the CLI evaluates {CONFIG_FILE} with Node ≥ 22.6 and the SDK pinned in package-lock.json: run `npm ci` at the repository root (or pass --skip-verify, loudly)"
    )
}

pub(crate) fn checks(plan: &Plan) -> Vec<Check> {
    if !plan.ok {
        return vec![
            Check::new(
                "config.plan",
                Status::Fail,
                format!(
                    "{CONFIG_FILE} cannot be planned: {}",
                    plan.errors.join("; ")
                ),
            )
            .hint(install_hint()),
        ];
    }
    let mut out: Vec<Check> = plan
        .destructive()
        .map(|c| {
            let label = c.destruction.map(|d| d.label()).unwrap_or_default();
            Check::new(
                "config.plan",
                Status::Fail,
                format!("applying {CONFIG_FILE} would destroy ({label}): {}", c.summary),
            )
            .hint(format!("declare it in {CONFIG_FILE} (a variable set in the dashboard: `preserve()`); nothing is deployed while the plan destroys; {REVIEW}"))
        })
        .collect();
    let pending: Vec<&str> = plan.pending().map(|c| c.summary.as_str()).collect();
    if !pending.is_empty() {
        out.push(
            Check::new(
                "config.plan",
                Status::Warn,
                format!(
                    "{} change{} pending (the live service differs from {CONFIG_FILE}): {}",
                    pending.len(),
                    if pending.len() == 1 { "" } else { "s" },
                    pending.join("; ")
                ),
            )
            .hint(REVIEW),
        );
    }
    for warning in &plan.warnings {
        out.push(Check::new("config.plan", Status::Warn, warning.clone()).hint(REVIEW));
    }
    if out.is_empty() {
        out.push(Check::new(
            "config.plan",
            Status::Pass,
            format!(
                "applying {CONFIG_FILE} changes nothing: the live service is what the file says"
            ),
        ));
    }
    out
}
