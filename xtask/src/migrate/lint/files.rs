//! Migration files as sqlx reads them (version, description, `-- no-transaction`, checksum),
//! from a directory, from the embedded set, or from git at a commit.

use std::path::Path;

use anyhow::Context;
use sqlx::migrate::Migrator;
use xshell::{Shell, cmd};

use crate::util::exit::Reported;
use crate::util::runtime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MigrationFile {
    pub(crate) version: i64,
    pub(crate) description: String,
    /// Where it is, for `file:line` (e.g. `migrations/20261201000002_x.up.sql`).
    pub(crate) path: String,
    pub(crate) sql: String,
    pub(crate) no_tx: bool,
    /// sqlx's checksum (SHA-384 of the file), as `_sqlx_migrations` stores it.
    pub(crate) checksum: Vec<u8>,
}

/// The up migrations of a set, oldest first; `dir` names them (`migrations`).
pub(crate) fn from_migrator(migrator: &Migrator, dir: &str) -> Vec<MigrationFile> {
    let mut files: Vec<MigrationFile> = migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| MigrationFile {
            version: m.version,
            description: m.description.to_string(),
            // sqlx turned `_` into spaces; the file name is the other way round.
            path: format!(
                "{dir}/{}_{}{}",
                m.version,
                m.description.replace(' ', "_"),
                m.migration_type.suffix()
            ),
            sql: m.sql.to_string(),
            no_tx: m.no_tx,
            checksum: m.checksum.to_vec(),
        })
        .collect();
    files.sort_by_key(|f| f.version);
    files
}

/// The migrations in `dir`, read now (not the set embedded at build time), named by their
/// real file names.
pub(crate) fn from_dir(dir: &Path, label: &str) -> anyhow::Result<Vec<MigrationFile>> {
    let migrator = runtime::block_on(Migrator::new(dir.to_path_buf()))?
        .with_context(|| format!("failed to read migrations from `{}`", dir.display()))?;
    let mut files = from_migrator(&migrator, label);
    let names: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("failed to read `{}`", dir.display()))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    for f in &mut files {
        let real = names.iter().find(|n| {
            !n.ends_with(".down.sql")
                && n.split_once('_')
                    .is_some_and(|(v, _)| v.parse::<i64>().ok() == Some(f.version))
        });
        if let Some(real) = real {
            f.path = format!("{label}/{real}");
        }
    }
    Ok(files)
}

/// Whether this clone has `commit`.
pub(crate) fn has_commit(sh: &Shell, commit: &str) -> bool {
    let spec = format!("{commit}^{{commit}}");
    cmd!(sh, "git cat-file -e {spec}")
        .quiet()
        .ignore_stderr()
        .run()
        .is_ok()
}

/// The migrations `migrations/` held at `commit`, read from git. A commit this clone does not
/// have is a refusal that says why (a shallow clone, a commit never fetched).
pub(crate) fn at_commit(sh: &Shell, commit: &str) -> anyhow::Result<Migrator> {
    if !has_commit(sh, commit) {
        let shallow = cmd!(sh, "git rev-parse --is-shallow-repository")
            .quiet()
            .ignore_stderr()
            .read()
            .is_ok_and(|s| s.trim() == "true");
        return Err(Reported(if shallow {
            format!("commit {commit} is not in this clone, which is shallow: run `git fetch --unshallow` (CI: `fetch-depth: 0`) so its migrations can be read")
        } else {
            format!("commit {commit} is not in this clone: `git fetch` the branch that has it, so its migrations can be read")
        })
        .into());
    }
    let names = cmd!(sh, "git ls-tree --name-only {commit} -- migrations/")
        .quiet()
        .read()
        .with_context(|| format!("failed to list migrations/ at {commit}"))?;
    let dir = tempfile::tempdir().context("failed to create a temporary directory")?;
    for name in names.lines().filter(|n| n.ends_with(".sql")) {
        let spec = format!("{commit}:{name}");
        // Bytes as committed: the checksum is over the exact file.
        let bytes = cmd!(sh, "git show {spec}")
            .quiet()
            .output()
            .with_context(|| format!("failed to read {name} at {commit}"))?
            .stdout;
        let file = Path::new(name).file_name().context("a file name")?;
        std::fs::write(dir.path().join(file), bytes)
            .with_context(|| format!("failed to write {name} to a temporary directory"))?;
    }
    runtime::block_on(Migrator::new(dir.path().to_path_buf()))?
        .with_context(|| format!("failed to read the migrations of {commit}"))
}
