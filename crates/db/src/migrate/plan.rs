//! What a run did, or would do.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    Apply,
    Revert,
}

/// One object a dry run saw appear or disappear.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    pub added: bool,
    /// `table`, `index`, `column`, `type`, `constraint`, `sequence`, `view`, …
    pub kind: String,
    pub name: String,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {}",
            if self.added { "+" } else { "-" },
            self.kind,
            self.name
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    Done {
        took: Duration,
    },
    /// Dry run: executed inside a transaction that was rolled back.
    WouldDo {
        took: Duration,
        changes: Vec<Change>,
    },
    /// `-- no-transaction`: cannot run inside the dry run's transaction.
    NotDryRunnable,
    /// Dry run stopped before it (after a migration it could not dry-run).
    NotChecked,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub version: i64,
    pub description: String,
    pub kind: StepKind,
    pub outcome: StepOutcome,
}
