//! The small helpers every task shares: none of them is a task.

pub(crate) mod cargo;
pub(crate) mod checklist;
pub(crate) mod child;
pub(crate) mod config_source;
pub(crate) mod exit;
pub(crate) mod mask;
pub(crate) mod runtime;
pub(crate) mod which;
