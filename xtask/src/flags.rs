//! The whole command line. Doc comments are the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "IntoWork project tasks", version)]
pub struct Xtask {
    #[command(subcommand)]
    pub task: Task,
}

#[derive(Debug, Subcommand)]
pub enum Task {
    /// Check the configuration (and, unless --offline, the database connection).
    ///
    /// Exit codes: 0 no failed check (warnings allowed), 1 a check failed, 2 usage error.
    Verify(Verify),
    /// Apply, inspect, revert or create database migrations (the set embedded in the backend).
    ///
    /// Exit codes: 0 ok, 1 failure (with the diagnosis; `status --check`: something pending
    /// or drifted), 2 usage error.
    Migrate(Migrate),
}

/// Where the configuration comes from: the process environment, layered over an env file.
#[derive(Debug, Args)]
pub struct EnvFileArgs {
    /// Env file under the environment (default: `.env` at the repository root, when it exists).
    #[arg(long, value_name = "PATH", conflicts_with = "no_env_file")]
    pub env_file: Option<PathBuf>,
    /// Read the process environment only.
    #[arg(long)]
    pub no_env_file: bool,
}

#[derive(Debug, Args)]
pub struct Verify {
    #[command(flatten)]
    pub env: EnvFileArgs,
    /// Skip the checks that connect to the database.
    #[arg(long)]
    pub offline: bool,
    /// Print exactly one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
    /// How many replicas share the database (for the max_connections check).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub replicas: u32,
}

#[derive(Debug, Args)]
pub struct Migrate {
    #[command(subcommand)]
    pub action: MigrateAction,
}

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration (under the migration lock, with lock and statement timeouts).
    Run(MigrateRun),
    /// List applied and pending migrations, and any drift, without changing anything.
    Status(MigrateStatus),
    /// Revert applied migrations newer than --target (default: only the newest), newest first.
    Revert(MigrateRevert),
    /// Create a reversible pair `migrations/<timestamp>_<name>.{up,down}.sql` (sqlx-cli's naming).
    Add(MigrateAdd),
}

#[derive(Debug, Args)]
pub struct MigrateRun {
    #[command(flatten)]
    pub env: EnvFileArgs,
    /// Run the pending SQL in a transaction that is rolled back, and report what would change.
    #[arg(long)]
    pub dry_run: bool,
    /// Print exactly one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct MigrateStatus {
    #[command(flatten)]
    pub env: EnvFileArgs,
    /// Exit 1 when anything is pending or drifted (for CI).
    #[arg(long)]
    pub check: bool,
    /// Print exactly one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct MigrateRevert {
    #[command(flatten)]
    pub env: EnvFileArgs,
    /// Keep migrations up to this version applied (0: revert everything).
    #[arg(long, value_name = "VERSION")]
    pub target: Option<i64>,
    /// Run the down SQL in a transaction that is rolled back, and report what would change.
    #[arg(long)]
    pub dry_run: bool,
    /// Print exactly one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct MigrateAdd {
    /// What the migration does, e.g. `add_job_offer_tags` (spaces become underscores).
    pub name: String,
    /// Where to write the pair (default: `migrations/` at the repository root, the embedded set).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Parses the command line; usage errors exit 2 (clap's convention, kept by every task).
pub fn parse() -> Xtask {
    Xtask::parse()
}
