//! What persists between invocations: the deployment a redeploy created, how often it has
//! been polled, and how often each deployment's logs were read. Plus the call log.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

pub(crate) const CALLS_VAR: &str = "FAKE_RAILWAY_CALLS";

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct State {
    /// Deployments created by `redeploy`, `up`, `serviceInstanceDeployV2` or
    /// `deploymentRollback`, newest first.
    #[serde(default)]
    pub(crate) created: Vec<Created>,
    /// Deployment id → number of `logs` calls that read it.
    #[serde(default)]
    pub(crate) logs_calls: BTreeMap<String, u32>,
}

/// Which scripted progression a created deployment follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Origin {
    /// `redeploy`, `up`, `serviceInstanceDeployV2`: `progression`.
    Deploy,
    /// `deploymentRollback`: `rollback_progression`.
    Rollback,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Created {
    pub(crate) id: String,
    pub(crate) service: String,
    pub(crate) origin: Origin,
    pub(crate) created_at: DateTime<Utc>,
    /// Status reads (`deployment list`, `api deployments`) since creation.
    pub(crate) status_polls: usize,
    pub(crate) meta: Option<serde_json::Value>,
    /// `deploymentApprove` was called: the progression goes past NEEDS_APPROVAL.
    #[serde(default)]
    pub(crate) approved: bool,
}

impl State {
    /// `<scenario>.state.json`: next to the scenario, so each test's temporary directory
    /// holds its own state.
    pub(crate) fn path_for(scenario: &Path) -> PathBuf {
        let mut path = OsString::from(scenario.as_os_str());
        path.push(".state.json");
        PathBuf::from(path)
    }

    pub(crate) fn load(path: &Path) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text)
                .with_context(|| format!("invalid state file `{}`", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e).with_context(|| format!("failed to read `{}`", path.display())),
        }
    }

    pub(crate) fn save(&self, path: &Path) -> Result<()> {
        // Write then rename: a reader never sees half a file.
        let mut tmp = OsString::from(path.as_os_str());
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let text = serde_json::to_string_pretty(self).context("failed to encode the state")?;
        std::fs::write(&tmp, text)
            .with_context(|| format!("failed to write `{}`", tmp.display()))?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("failed to replace `{}`", path.display()))
    }

    /// A new deployment starts over, polls and logs alike (an id created again replaces
    /// the earlier one).
    pub(crate) fn create(
        &mut self,
        service: &str,
        id: &str,
        origin: Origin,
        meta: Option<serde_json::Value>,
    ) {
        self.created.retain(|c| c.id != id);
        self.created.insert(
            0,
            Created {
                id: id.to_owned(),
                service: service.to_owned(),
                origin,
                // Railway's API gives milliseconds.
                created_at: Utc::now().trunc_subsecs(3),
                status_polls: 0,
                meta,
                approved: false,
            },
        );
        self.logs_calls.remove(id);
    }

    /// A status read moves every created deployment one step along its progression.
    pub(crate) fn poll(&mut self) {
        for created in &mut self.created {
            created.status_polls += 1;
        }
    }

    /// Counts a `logs` call; returns how many came before it.
    pub(crate) fn count_logs_call(&mut self, deployment_id: &str) -> u32 {
        let calls = self.logs_calls.entry(deployment_id.to_owned()).or_default();
        let before = *calls;
        *calls += 1;
        before
    }
}

/// An exclusive lock on `<state>.lock`, held until dropped.
pub(crate) fn lock(state_path: &Path) -> Result<std::fs::File> {
    let mut path = OsString::from(state_path.as_os_str());
    path.push(".lock");
    let file = std::fs::File::create(&path)
        .with_context(|| format!("failed to create `{}`", PathBuf::from(&path).display()))?;
    file.lock().context("failed to lock the state")?;
    Ok(file)
}

/// Appends this invocation to the call log named by `FAKE_RAILWAY_CALLS`, if set.
/// Token values are never written, only whether they were set.
pub(crate) fn record_call(argv: &[String]) -> Result<()> {
    let Some(path) = std::env::var_os(CALLS_VAR) else {
        return Ok(());
    };
    let value = |name: &str| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
    let is_set = |name: &str| std::env::var_os(name).is_some();
    let line = serde_json::json!({
        "argv": argv,
        "env": {
            "RAILWAY_NO_AUTO_UPDATE": value("RAILWAY_NO_AUTO_UPDATE"),
            "RAILWAY_TOKEN_set": is_set("RAILWAY_TOKEN"),
            "RAILWAY_API_TOKEN_set": is_set("RAILWAY_API_TOKEN"),
            "CI": value("CI"),
        },
    });
    let path = PathBuf::from(path);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("failed to open the call log `{}`", path.display()))?;
    // One write per line: appends from overlapping invocations do not interleave.
    file.write_all(format!("{line}\n").as_bytes())
        .with_context(|| format!("failed to append to `{}`", path.display()))
}
