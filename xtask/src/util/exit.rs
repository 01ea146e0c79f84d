//! Exit codes CI can trust: 0 success, 1 failure, 2 usage error.

use std::process::ExitCode;

/// The task failed and already said why (a checklist with failures): exit 1, print nothing more.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Reported(pub(crate) String);

/// The task failed and printed its summary (with `--json`, its one JSON document): exit 1,
/// and the sentence once more on stderr.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Summarised(pub(crate) String);

/// The command line asked for something impossible (a missing `--env-file`): exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Usage(pub(crate) String);

pub(crate) fn code(result: anyhow::Result<()>) -> ExitCode {
    let Err(err) = result else {
        return ExitCode::SUCCESS;
    };
    if let Some(usage) = err.downcast_ref::<Usage>() {
        eprintln!("error: {usage}");
        return ExitCode::from(2);
    }
    if let Some(reported) = err.downcast_ref::<Reported>() {
        eprintln!("{reported}");
        return ExitCode::from(1);
    }
    if let Some(summarised) = err.downcast_ref::<Summarised>() {
        eprintln!("{summarised}");
        return ExitCode::from(1);
    }
    // The cause chain, once, on one line.
    eprintln!("error: {err:#}");
    ExitCode::from(1)
}
