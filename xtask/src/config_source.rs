//! Where tasks read configuration: the process environment over an env file.

use std::path::{Path, PathBuf};

use anyhow::Context;
use intowork_config::{Settings, Source, SourceError};

use crate::exit::Usage;
use crate::flags::EnvFileArgs;

/// The repository root, wherever the task is run from.
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the root")
        .to_path_buf()
}

/// The env file in use (if any) and the layered source.
pub fn load(args: &EnvFileArgs) -> anyhow::Result<(Option<PathBuf>, Source)> {
    let env = Source::from_process_env();
    let path = match (&args.env_file, args.no_env_file) {
        (_, true) => None,
        // Relative to where the user stands, not to the repository root.
        (Some(path), false) => Some(
            std::path::absolute(path)
                .with_context(|| format!("failed to resolve `{}`", path.display()))?,
        ),
        (None, false) => Some(project_root().join(".env")).filter(|p| p.is_file()),
    };
    let Some(path) = path else {
        return Ok((None, env));
    };
    match Source::from_env_file(&path) {
        Ok(file) => Ok((Some(path), env.over(file))),
        Err(e @ SourceError::FileMissing { .. }) => Err(Usage(e.to_string()).into()),
        Err(e) => Err(e.into()),
    }
}

/// Valid settings, or every configuration problem as the error (exit 1).
pub fn settings(args: &EnvFileArgs) -> anyhow::Result<Settings> {
    let (_, source) = load(args)?;
    // The error lists every problem (`cargo xtask verify` shows the whole checklist).
    Ok(Settings::load(&source)?.settings)
}
