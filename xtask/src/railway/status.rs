//! The platform's deployment statuses, typed once. Every decision on a status (keep
//! waiting, probe, roll back, stop following logs, refuse a concurrent deploy) goes through
//! this enum; a status this tool does not know is carried as `Unknown` and reported, never
//! taken for success or failure.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// `DeploymentStatus` of Railway's GraphQL schema (railwayapp 5.71.0, src/gql/schema.json):
/// 13 values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum DeploymentStatus {
    Building,
    Crashed,
    Deploying,
    Failed,
    Initializing,
    NeedsApproval,
    Queued,
    Removed,
    Removing,
    Skipped,
    Sleeping,
    Success,
    Waiting,
    /// A value this tool was not built for (a newer platform), as printed.
    Unknown(String),
}

/// What a status means for someone waiting on that deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Not running yet: queued, waiting, initialising, building or deploying.
    InProgress,
    /// Stopped before running: someone must approve it (`deploymentApprove`).
    NeedsApproval,
    /// Serving (SUCCESS), or serving but asleep (SLEEPING: the next request wakes it).
    Active,
    /// Will never serve again: FAILED, CRASHED, REMOVED, REMOVING, SKIPPED.
    Failed,
    /// Not known to this tool: reported, and waited on until it changes or the timeout.
    Unknown,
}

impl DeploymentStatus {
    /// Every known value, for tests and documentation.
    pub(crate) const ALL: [DeploymentStatus; 13] = [
        DeploymentStatus::Building,
        DeploymentStatus::Crashed,
        DeploymentStatus::Deploying,
        DeploymentStatus::Failed,
        DeploymentStatus::Initializing,
        DeploymentStatus::NeedsApproval,
        DeploymentStatus::Queued,
        DeploymentStatus::Removed,
        DeploymentStatus::Removing,
        DeploymentStatus::Skipped,
        DeploymentStatus::Sleeping,
        DeploymentStatus::Success,
        DeploymentStatus::Waiting,
    ];

    /// Parses the CLI's spelling. `deployment list --json` prints the schema's name; a value
    /// the CLI's own generated enum does not know comes out as `Other("…")` (graphql_client's
    /// catch-all, printed with `{:?}` by railwayapp's `deployment list`): unwrapped here, and
    /// kept relayed (masked, escaped): it is printed as it came.
    pub(crate) fn parse(text: &str) -> DeploymentStatus {
        let text = text.trim();
        let bare = text
            .strip_prefix("Other(\"")
            .and_then(|t| t.strip_suffix("\")"))
            .unwrap_or(text);
        Self::ALL
            .iter()
            .find(|s| s.as_str() == bare)
            .cloned()
            .unwrap_or_else(|| DeploymentStatus::Unknown(super::relayed(bare)))
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            DeploymentStatus::Building => "BUILDING",
            DeploymentStatus::Crashed => "CRASHED",
            DeploymentStatus::Deploying => "DEPLOYING",
            DeploymentStatus::Failed => "FAILED",
            DeploymentStatus::Initializing => "INITIALIZING",
            DeploymentStatus::NeedsApproval => "NEEDS_APPROVAL",
            DeploymentStatus::Queued => "QUEUED",
            DeploymentStatus::Removed => "REMOVED",
            DeploymentStatus::Removing => "REMOVING",
            DeploymentStatus::Skipped => "SKIPPED",
            DeploymentStatus::Sleeping => "SLEEPING",
            DeploymentStatus::Success => "SUCCESS",
            DeploymentStatus::Waiting => "WAITING",
            DeploymentStatus::Unknown(text) => text,
        }
    }

    pub(crate) fn phase(&self) -> Phase {
        match self {
            DeploymentStatus::Queued
            | DeploymentStatus::Waiting
            | DeploymentStatus::Initializing
            | DeploymentStatus::Building
            | DeploymentStatus::Deploying => Phase::InProgress,
            DeploymentStatus::NeedsApproval => Phase::NeedsApproval,
            DeploymentStatus::Success | DeploymentStatus::Sleeping => Phase::Active,
            DeploymentStatus::Failed
            | DeploymentStatus::Crashed
            | DeploymentStatus::Removed
            | DeploymentStatus::Removing
            | DeploymentStatus::Skipped => Phase::Failed,
            DeploymentStatus::Unknown(_) => Phase::Unknown,
        }
    }

    /// Someone is deploying: a second deploy or rollback must not start now.
    pub(crate) fn is_in_progress(&self) -> bool {
        self.phase() == Phase::InProgress
    }

    /// Build logs are the interesting ones until the image runs.
    pub(crate) fn shows_build_logs(&self) -> bool {
        matches!(
            self,
            DeploymentStatus::Queued
                | DeploymentStatus::Waiting
                | DeploymentStatus::Initializing
                | DeploymentStatus::Building
        )
    }

    /// What a release manager reads next to the status.
    pub(crate) fn meaning(&self) -> &'static str {
        match self {
            DeploymentStatus::Queued => "queued behind other builds",
            DeploymentStatus::Waiting => "waiting (for a build slot or a dependency)",
            DeploymentStatus::Initializing => "initialising",
            DeploymentStatus::Building => "building the image",
            DeploymentStatus::Deploying => "starting and passing the platform's health check",
            DeploymentStatus::NeedsApproval => "waiting for someone to approve it",
            DeploymentStatus::Success => "serving",
            DeploymentStatus::Sleeping => {
                "serving but asleep (app sleeping is on): the next request wakes it"
            }
            DeploymentStatus::Failed => "failed (build or pre-deploy command)",
            DeploymentStatus::Crashed => "crashed after starting",
            DeploymentStatus::Removed => "removed (replaced by a newer deployment, or stopped)",
            DeploymentStatus::Removing => "being removed",
            DeploymentStatus::Skipped => "skipped (no change for the watch patterns?)",
            DeploymentStatus::Unknown(_) => {
                "a status this tool does not know (a newer platform?): check the dashboard"
            }
        }
    }
}

impl fmt::Display for DeploymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DeploymentStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| DeploymentStatus::parse(&s))
    }
}

impl serde::Serialize for DeploymentStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_value_round_trips_and_has_a_phase() {
        for status in DeploymentStatus::ALL {
            assert_eq!(DeploymentStatus::parse(status.as_str()), status);
            assert_ne!(status.phase(), Phase::Unknown, "{status}");
        }
        let phases = |p: Phase| {
            DeploymentStatus::ALL
                .iter()
                .filter(|s| s.phase() == p)
                .map(DeploymentStatus::as_str)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            phases(Phase::InProgress),
            ["BUILDING", "DEPLOYING", "INITIALIZING", "QUEUED", "WAITING"]
        );
        assert_eq!(phases(Phase::Active), ["SLEEPING", "SUCCESS"]);
        assert_eq!(phases(Phase::NeedsApproval), ["NEEDS_APPROVAL"]);
        assert_eq!(
            phases(Phase::Failed),
            ["CRASHED", "FAILED", "REMOVED", "REMOVING", "SKIPPED"]
        );
    }

    #[test]
    fn an_unknown_value_is_kept_as_printed() {
        assert_eq!(
            DeploymentStatus::parse("HIBERNATING"),
            DeploymentStatus::Unknown("HIBERNATING".into())
        );
        // graphql_client's catch-all as railwayapp prints it with `{:?}`.
        assert_eq!(
            DeploymentStatus::parse("Other(\"HIBERNATING\")"),
            DeploymentStatus::Unknown("HIBERNATING".into())
        );
        assert_eq!(
            DeploymentStatus::Unknown("HIBERNATING".into()).phase(),
            Phase::Unknown
        );
        assert_eq!(
            DeploymentStatus::parse("NEW\x1b[2J\rSUCCESS").to_string(),
            "NEW\\x1b[2J\\rSUCCESS"
        );
    }
}
