//! Where tasks read configuration: the process environment over an env file.

use std::path::{Path, PathBuf};

use anyhow::Context;
use intowork_config::{Settings, Source, escape_path};

use crate::flags::EnvFileArgs;
use crate::util::exit::Usage;

/// The repository root, wherever the task is run from.
pub(crate) fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the root")
        .to_path_buf()
}

/// The env file in use (if any) and the layered source.
pub(crate) fn load(args: &EnvFileArgs) -> anyhow::Result<(Option<PathBuf>, Source)> {
    let env = Source::from_process_env();
    match env_file(args, &[project_root().join(".env")])? {
        Some(path) => Ok((Some(path.clone()), env.over(read_env_file(&path)?))),
        None => Ok((None, env)),
    }
}

/// The env file `args` name: none with `--no-env-file`; an explicit `--env-file`, relative to
/// where the user stands (not to the repository root); else the first of `defaults` that exists.
pub(crate) fn env_file(
    args: &EnvFileArgs,
    defaults: &[PathBuf],
) -> anyhow::Result<Option<PathBuf>> {
    Ok(match (&args.env_file, args.no_env_file) {
        (_, true) => None,
        (Some(path), false) => Some(
            std::path::absolute(path)
                .with_context(|| format!("failed to resolve `{}`", escape_path(path)))?,
        ),
        (None, false) => defaults.iter().find(|p| p.is_file()).cloned(),
    })
}

/// Reads an env file. One that cannot be used at all — missing, not a regular file (a FIFO
/// would block forever), over the size limit, unreadable, a symlink loop — was asked for by
/// name: a usage error (exit 2), with the OS's reason once. A file whose content is wrong is
/// a failure (exit 1).
pub(crate) fn read_env_file(path: &Path) -> anyhow::Result<Source> {
    match Source::from_env_file(path) {
        Ok(file) => Ok(file),
        Err(e) if e.is_unusable_file() => {
            let cause = std::error::Error::source(&e)
                .map(|c| format!(": {c}"))
                .unwrap_or_default();
            Err(Usage(format!("{e}{cause}")).into())
        }
        Err(e) => Err(e.into()),
    }
}

/// Valid settings, or every configuration problem as the error (exit 1).
pub(crate) fn settings(args: &EnvFileArgs) -> anyhow::Result<Settings> {
    let (_, source) = load(args)?;
    // The error lists every problem (`cargo xtask verify` shows the whole checklist).
    Ok(Settings::load(&source)?.settings)
}
