//! `cargo xtask prepare [--check] [--source DIR]`: the offline query data (`.sqlx/`) that lets
//! every build check its SQL without a database (`SQLX_OFFLINE=true` in `.cargo/config.toml`).
//!
//! What `cargo sqlx prepare --workspace [--check]` (sqlx-cli 0.8.6, `sqlx-cli/src/prepare.rs`)
//! does, without its 3.5-minute install: a throwaway TLS-only database gets the migrations, the
//! crates with query macros are forced to re-expand (their sources' mtimes are bumped, as
//! sqlx-cli's `minimal_project_recompile_action` does), and `cargo check` runs with
//! `SQLX_OFFLINE=false`, `DATABASE_URL` and `SQLX_OFFLINE_DIR`: sqlx's macros then describe
//! each query against the database and write `query-<hash>.json` there. That directory then
//! replaces `.sqlx/`, or, with `--check`, is compared with it (as JSON, like sqlx-cli).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context;
use intowork_config::{Settings, Source, ValueOrigin};
use intowork_db::migrate;
use intowork_pglocal::Server;
use xshell::{Shell, cmd};

use crate::util::exit::Reported;
use crate::{flags, util::config_source, util::runtime};

/// Macros that read the database at compile time; a crate using none needs no re-expansion.
const QUERY_MACROS: [&str; 4] = ["query!(", "query_as!(", "query_scalar!(", "query_file"];

impl flags::Prepare {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let root = config_source::project_root();
        let committed = root.join(".sqlx");
        let generated = root
            .join("target")
            .join("sqlx-prepare")
            .join(std::process::id().to_string());
        let db = Throwaway::start()?;
        let source = self.source.as_deref();
        apply_migrations(&db.settings()?, source)?;
        let compiled = expand_queries(sh, &root, &db.url, &generated);
        drop(db);
        let result = compiled.and_then(|()| {
            if self.check {
                compare(&root, &committed, &generated)
            } else {
                replace(&committed, &generated)
            }
        });
        let _ = fs::remove_dir_all(&generated);
        result
    }
}

/// A TLS-only cluster made for this run (`intowork_pglocal`'s throwaway, like Railway's),
/// stopped and deleted on drop.
struct Throwaway {
    /// Held for its drop.
    _server: Server,
    /// `postgres://…?sslmode=require` with its generated password: for `cargo`'s environment
    /// only, never a command line.
    url: String,
}

impl Throwaway {
    fn start() -> anyhow::Result<Throwaway> {
        let server = Server::throwaway().context("failed to start the throwaway database")?;
        let db = server
            .create_database("prepare")
            .context("failed to create the throwaway database")?;
        Ok(Throwaway {
            url: db.url("sslmode=require"),
            _server: server,
        })
    }

    /// What the migrations need: the URL, and a generated secret the configuration insists on.
    fn settings(&self) -> anyhow::Result<Settings> {
        let secret = crate::dev::dev_secret();
        let source = Source::from_pairs(
            [
                ("DATABASE_URL", self.url.as_str()),
                ("NEXTAUTH_SECRET", secret.as_str()),
            ],
            ValueOrigin::Environment,
        );
        Settings::load(&source)
            .map(|l| l.settings)
            .map_err(|e| anyhow::anyhow!("{e}"))
    }
}

fn apply_migrations(settings: &Settings, source: Option<&Path>) -> anyhow::Result<()> {
    let set = crate::migrate::MigrationSet::load(source)?;
    let limits = crate::migrate::limits(settings);
    runtime::block_on(migrate::run(settings.database(), set.get(), limits, false))?
        .context("the migrations failed on the throwaway database")?;
    Ok(())
}

/// Re-expands every query macro against the database; query data lands in `out`. A query
/// that no longer compiles fails here, its location named.
fn expand_queries(sh: &Shell, root: &Path, url: &str, out: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(out)?;
    let tmp = root.join("target").join("sqlx-tmp");
    fs::create_dir_all(&tmp)?;
    let crates = crates_with_queries(sh)?;
    for file in &crates.roots {
        touch(file)?;
    }
    println!("checking every query against the migrated database (cargo check)…");
    // Only the packages whose macros expand queries: their dependents (xtask, testkit) hold
    // no query, and re-checking them would double the time.
    let mut args = vec!["check", "--lib", "--bins", "--message-format", "short"];
    for name in &crates.packages {
        args.extend(["--package", name.as_str()]);
    }
    let output = crate::util::cargo::cargo(sh, &args)
        .env("SQLX_OFFLINE", "false")
        .env("SQLX_OFFLINE_DIR", out)
        .env("SQLX_TMP", &tmp)
        .env("DATABASE_URL", url)
        .ignore_status()
        .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() {
        return Ok(());
    }
    eprint!("{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains(": error")).collect();
    Err(Reported(format!(
        "prepare: {} quer{} no longer compile against the migrations:\n  {}\nfix the query or the migration, then run `cargo xtask prepare`",
        errors.len(),
        if errors.len() == 1 { "y" } else { "ies" },
        errors.join("\n  ")
    ))
    .into())
}

/// The workspace members that depend on sqlx and use its query macros.
struct QueryCrates {
    packages: Vec<String>,
    /// Their targets' root files, touched so that cargo re-expands every macro.
    roots: Vec<PathBuf>,
}

fn crates_with_queries(sh: &Shell) -> anyhow::Result<QueryCrates> {
    let metadata = cmd!(sh, "cargo metadata --no-deps --format-version 1")
        .quiet()
        .read()
        .context("cargo metadata failed")?;
    let doc: serde_json::Value = serde_json::from_str(&metadata)?;
    let mut found = QueryCrates {
        packages: Vec::new(),
        roots: Vec::new(),
    };
    for package in doc["packages"].as_array().into_iter().flatten() {
        let uses_sqlx = package["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|d| d["name"] == "sqlx");
        let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap_or_default());
        let src = manifest.with_file_name("src");
        if uses_sqlx && sources(&src).iter().any(|f| uses_query_macros(f)) {
            let targets = package["targets"].as_array().into_iter().flatten();
            found.roots.extend(
                targets
                    .filter_map(|t| t["src_path"].as_str())
                    .map(PathBuf::from),
            );
            found
                .packages
                .extend(package["name"].as_str().map(str::to_owned));
        }
    }
    Ok(found)
}

fn uses_query_macros(file: &Path) -> bool {
    fs::read_to_string(file).is_ok_and(|text| QUERY_MACROS.iter().any(|m| text.contains(m)))
}

/// `.rs` and `.sql` files under `dir`, recursively.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return found;
    };
    for path in entries.filter_map(|e| e.ok()).map(|e| e.path()) {
        if path.is_dir() {
            found.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs" || e == "sql") {
            found.push(path);
        }
    }
    found
}

fn touch(file: &Path) -> anyhow::Result<()> {
    fs::File::options()
        .append(true)
        .open(file)
        .and_then(|f| f.set_modified(SystemTime::now()))
        .with_context(|| format!("failed to touch `{}`", file.display()))
}

fn query_files(dir: &Path) -> anyhow::Result<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    if !dir.exists() {
        return Ok(names);
    }
    for entry in fs::read_dir(dir).with_context(|| format!("failed to read `{}`", dir.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.starts_with("query-") && name.ends_with(".json") {
            names.insert(name);
        }
    }
    Ok(names)
}

/// `.sqlx/` becomes exactly the generated set.
fn replace(committed: &Path, generated: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(committed)?;
    let (old, new) = (query_files(committed)?, query_files(generated)?);
    for name in old.difference(&new) {
        fs::remove_file(committed.join(name))?;
    }
    for name in &new {
        fs::copy(generated.join(name), committed.join(name))?;
    }
    println!(
        "query data for {} queries written to .sqlx/ ({} removed); commit it",
        new.len(),
        old.difference(&new).count()
    );
    Ok(())
}

/// Compared as JSON (sqlx-cli's `prepare_check`), each difference named by its query's place.
fn compare(root: &Path, committed: &Path, generated: &Path) -> anyhow::Result<()> {
    let (old, new) = (query_files(committed)?, query_files(generated)?);
    let mut problems = Vec::new();
    for name in &new {
        let fresh = read_json(&generated.join(name))?;
        let what = match old.contains(name) {
            false => "missing from .sqlx/",
            true if read_json(&committed.join(name))? != fresh => "out of date in .sqlx/",
            true => continue,
        };
        let place = locate(root, fresh["query"].as_str().unwrap_or_default());
        problems.push(format!("{place}: query data {what} ({name})"));
    }
    for name in old.difference(&new) {
        println!(
            "note: .sqlx/{name} belongs to no query any more (`cargo xtask prepare` removes it)"
        );
    }
    if problems.is_empty() {
        println!(
            "ok: .sqlx/ matches every query ({} checked against the migrations)",
            new.len()
        );
        return Ok(());
    }
    Err(Reported(format!(
        "prepare --check: .sqlx/ does not match the queries:\n  {}\nrun `cargo xtask prepare` and commit .sqlx/",
        problems.join("\n  ")
    ))
    .into())
}

fn read_json(path: &Path) -> anyhow::Result<serde_json::Value> {
    let text =
        fs::read_to_string(path).with_context(|| format!("failed to read `{}`", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("`{}` is not JSON", path.display()))
}

/// `file:line` of the source that holds this query (matched on its first line).
fn locate(root: &Path, query: &str) -> String {
    let first = query
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let dirs = ["backend", "crates", "xtask"].map(|d| root.join(d));
    for file in dirs.iter().flat_map(|d| sources(d)) {
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        if let Some(n) = text
            .lines()
            .position(|l| !first.is_empty() && l.contains(first))
        {
            let shown = file
                .strip_prefix(root)
                .unwrap_or(&file)
                .display()
                .to_string();
            return format!("{shown}:{}", n + 1);
        }
    }
    format!("(query `{first}`)")
}
