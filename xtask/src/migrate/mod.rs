//! `cargo xtask migrate run|status|revert|add|lint`: the backend's embedded migrations, from
//! here, and ([`lint`]) every migration judged before it ships.

pub(crate) mod guard;
pub(crate) mod lint;
mod output;

use std::path::Path;

use anyhow::Context;
use intowork_config::{Settings, escape_control, escape_path};
use intowork_db::migrate::{self, Limits, MIGRATOR, Status};
use sqlx::migrate::Migrator;
use xshell::Shell;

use self::output as out;
use crate::flags::{self, MigrateAction};
use crate::util::exit::{Reported, Usage};
use crate::{util::config_source, util::runtime};
use lint::class::Class;

impl flags::Migrate {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        match self.action {
            MigrateAction::Run(a) => with_json(a.json, "run", || {
                let settings = config_source::settings(&a.env)?;
                let set = MigrationSet::load(a.source.as_deref())?;
                let steps = runtime::block_on(migrate::run(
                    settings.database(),
                    set.get(),
                    limits(&settings),
                    a.dry_run,
                ))??;
                Ok(if a.json {
                    out::steps_json("run", a.dry_run, &steps).to_string()
                } else {
                    out::steps_text(&steps, a.dry_run, "apply")
                })
            }),
            MigrateAction::Revert(a) => with_json(a.json, "revert", || {
                let settings = config_source::settings(&a.env)?;
                let set = MigrationSet::load(a.source.as_deref())?;
                let target = match a.target {
                    Some(t) => t,
                    None => newest_but_one(&settings, set.get())?,
                };
                let steps = runtime::block_on(migrate::revert(
                    settings.database(),
                    set.get(),
                    limits(&settings),
                    target,
                    a.dry_run,
                ))??;
                Ok(if a.json {
                    out::steps_json("revert", a.dry_run, &steps).to_string()
                } else {
                    out::steps_text(&steps, a.dry_run, "revert")
                })
            }),
            MigrateAction::Status(a) => {
                let mut stale = None;
                with_json(a.json, "status", || {
                    let settings = config_source::settings(&a.env)?;
                    let set = MigrationSet::load(a.source.as_deref())?;
                    let st = status(&settings, set.get())?;
                    if a.check && !st.up_to_date() {
                        stale = Some(out::stale_summary(&st));
                    }
                    let classes = classes(set.get());
                    Ok(if a.json {
                        out::status_json(&st, &classes).to_string()
                    } else {
                        out::status_text(&st, &classes)
                    })
                })?;
                match stale {
                    Some(why) => Err(Reported(format!("migrate status --check: {why}")).into()),
                    None => Ok(()),
                }
            }
            MigrateAction::Add(a) => add(sh, &a.name, a.dir.as_deref()),
            MigrateAction::Lint(a) => lint_files(a.source.as_deref(), a.json),
        }
    }
}

/// `migrate lint`: exit 1 when a finding has no reviewed exception.
fn lint_files(source: Option<&Path>, json: bool) -> anyhow::Result<()> {
    let root = config_source::project_root();
    let dir = match source {
        Some(dir) => std::path::absolute(dir)?,
        None => root.join("migrations"),
    };
    if !dir.is_dir() {
        return Err(Usage(format!(
            "`{}` is not a directory of migrations",
            dir.display()
        ))
        .into());
    }
    let judged = lint::judge_all(&lint::files::from_dir(&dir, &rel(&dir))?);
    if json {
        println!("{}", lint::output::json(&judged));
    } else {
        print!("{}", lint::output::text(&judged));
    }
    let failing: usize = judged.iter().map(lint::Judged::failures).sum();
    if failing > 0 {
        return Err(Reported(format!(
            "migrate lint: {failing} finding{} to fix (each names its rewrite; a reviewed exception is `-- migrate-lint: allow <rule> — <why>` above the statement)",
            if failing == 1 { "" } else { "s" }
        ))
        .into());
    }
    Ok(())
}

/// Each migration's class (expand or contract), by version.
pub(crate) fn classes(migrator: &Migrator) -> std::collections::BTreeMap<i64, Class> {
    lint::judge_all(&lint::files::from_migrator(migrator, "migrations"))
        .into_iter()
        .map(|j| (j.file.version, j.class))
        .collect()
}

/// The embedded set, or one read from `--source DIR` at run time.
pub(crate) enum MigrationSet {
    Embedded,
    Loaded(Migrator),
}

impl MigrationSet {
    pub(crate) fn load(source: Option<&Path>) -> anyhow::Result<MigrationSet> {
        let Some(dir) = source else {
            return Ok(MigrationSet::Embedded);
        };
        let migrator = runtime::block_on(Migrator::new(dir.to_path_buf()))?
            .with_context(|| format!("failed to read migrations from `{}`", dir.display()))?;
        Ok(MigrationSet::Loaded(migrator))
    }

    pub(crate) fn get(&self) -> &Migrator {
        match self {
            MigrationSet::Embedded => &MIGRATOR,
            MigrationSet::Loaded(m) => m,
        }
    }
}

pub(crate) fn limits(settings: &Settings) -> Limits {
    Limits::from_settings(settings.migrations())
}

fn status(settings: &Settings, migrator: &Migrator) -> anyhow::Result<Status> {
    runtime::block_on(async {
        // Where the migrations run: the database itself, never a transaction pooler.
        let mut conn = migrate::connect(settings.database()).await?;
        let st = migrate::status(&mut conn, migrator).await;
        intowork_db::close(conn).await;
        Ok::<_, anyhow::Error>(st?)
    })?
}

/// Without `--target`, revert only the newest applied migration (sqlx-cli's behaviour).
fn newest_but_one(settings: &Settings, migrator: &Migrator) -> anyhow::Result<i64> {
    let st = status(settings, migrator)?;
    let applied: Vec<i64> = st
        .with_state(|s| matches!(s, migrate::State::Applied { .. }))
        .iter()
        .map(|e| e.version)
        .collect();
    match applied.as_slice() {
        [] => Err(Reported("nothing to revert: no migration is applied".into()).into()),
        [.., before, _] => Ok(*before),
        [_] => Ok(0),
    }
}

/// Prints the action's text; in JSON mode, a failure is printed as one JSON document too.
fn with_json(
    json: bool,
    action: &str,
    body: impl FnOnce() -> anyhow::Result<String>,
) -> anyhow::Result<()> {
    match body() {
        Ok(text) => {
            println!("{}", text.trim_end());
            Ok(())
        }
        Err(e) if json && e.downcast_ref::<Usage>().is_none() => {
            println!("{}", out::error_json(action, &e));
            Err(e)
        }
        Err(e) => Err(e),
    }
}

/// Writes an empty reversible pair named as `sqlx migrate add -r NAME` would. What it
/// echoes (the name as given, paths) is escaped: it came from the command line.
fn add(sh: &Shell, given: &str, dir: Option<&Path>) -> anyhow::Result<()> {
    let name = given.trim().replace(' ', "_");
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(Usage(format!(
            "`{}` is not a migration name: use letters, digits, `_` and `-`",
            escape_control(given)
        ))
        .into());
    }
    let dir = match dir {
        Some(dir) => std::path::absolute(dir)
            .with_context(|| format!("failed to resolve `{}`", escape_path(dir)))?,
        None => config_source::project_root().join("migrations"),
    };
    let newest = newest_version(&dir)?;
    let mut version: i64 = chrono::Utc::now()
        .format("%Y%m%d%H%M%S")
        .to_string()
        .parse()?;
    // Two adds in one second, or a clock behind the newest file: stay strictly increasing.
    if version <= newest {
        version = newest + 1;
    }
    let up = dir.join(format!("{version}_{name}.up.sql"));
    let down = dir.join(format!("{version}_{name}.down.sql"));
    for path in [&up, &down] {
        anyhow::ensure!(!path.exists(), "`{}` already exists", escape_path(path));
    }
    sh.write_file(
        &up,
        format!("-- {name}: what this migration changes, and why.\n"),
    )?;
    sh.write_file(&down, format!("-- Undo {version}_{name}.up.sql.\n"))?;
    println!("created {}\ncreated {}", rel(&up), rel(&down));
    println!("edit both, then `cargo xtask migrate run --dry-run` and `cargo xtask migrate run`");
    Ok(())
}

fn newest_version(dir: &Path) -> anyhow::Result<i64> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("failed to read `{}`", escape_path(dir)))?;
    let mut newest = 0;
    for entry in entries {
        let name = entry?.file_name();
        if let Some(v) = name
            .to_str()
            .and_then(|n| n.split('_').next())
            .and_then(|v| v.parse::<i64>().ok())
        {
            newest = newest.max(v);
        }
    }
    Ok(newest)
}

fn rel(path: &Path) -> String {
    escape_path(
        path.strip_prefix(config_source::project_root())
            .unwrap_or(path),
    )
}
