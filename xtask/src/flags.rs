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
    /// Deploy to Railway and wait for the truth: the deployment's final status, then the health probe.
    ///
    /// Exit codes: 0 deployed and healthy, 1 anything else (pre-flight, FAILED, CRASHED,
    /// REMOVED, SKIPPED, timeout, health), 2 usage error.
    Deploy(Deploy),
    /// Show or follow a Railway deployment's logs (through pipes and in CI), with diagnoses.
    ///
    /// Exit codes: 0 ok, 1 failure, 2 usage error.
    Logs(Logs),
    /// A local Railway-like stack: TLS-only PostgreSQL, verify, migrate, then the backend.
    ///
    /// Exit codes: 0 ok, 1 failure (missing prerequisites, a failed step), 2 usage error.
    Dev(Dev),
    /// Measure speed and cost against the tools users would pick instead; writes target/bench/report.{json,md}.
    ///
    /// Never fails on a missed target (exit 0); 1 only when a measurement could not run.
    Bench(Bench),
}

#[derive(Debug, Args)]
pub struct Bench {
    /// Seconds each load test runs.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub load_secs: u64,
    /// Concurrent keep-alive clients (and pgbench clients).
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub clients: usize,
    /// Skip the cold `cargo build -p xtask` measurement (it takes minutes on 2 cores).
    #[arg(long)]
    pub no_cold_build: bool,
}

#[derive(Debug, Args)]
pub struct Dev {
    #[command(subcommand)]
    pub action: Option<DevAction>,
    /// The backend's HTTP port (default: 8000 when free, else any free port).
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
    /// One-shot: bring everything up, probe /health/ready and the API, report, stop everything.
    #[arg(long)]
    pub check: bool,
    /// Delete the local database cluster and create a fresh one.
    #[arg(long)]
    pub reset: bool,
    /// Where the stack lives (default: target/dev in the repository).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum DevAction {
    /// Stop a stack left running (the backend and the database).
    Stop,
}

/// Which Railway service and environment (always passed explicitly to the CLI).
#[derive(Debug, Clone, Args)]
pub struct RailwayArgs {
    /// Railway service.
    #[arg(long, value_name = "NAME", default_value = "backend")]
    pub service: String,
    /// Railway environment.
    #[arg(long, value_name = "NAME", default_value = "production")]
    pub environment: String,
}

#[derive(Debug, Args)]
pub struct Deploy {
    #[command(flatten)]
    pub railway: RailwayArgs,
    /// Deploy the latest commit of the connected repository (default: redeploy the current image).
    #[arg(long, conflicts_with = "up")]
    pub from_source: bool,
    /// Upload and build this working tree (`railway up --detach`).
    #[arg(long)]
    pub up: bool,
    /// Give up waiting after this long (e.g. `10m`, `90s`).
    #[arg(long, value_name = "DUR", default_value = "10m", value_parser = humantime::parse_duration)]
    pub timeout: std::time::Duration,
    /// Probe this URL instead of https://$RAILWAY_PUBLIC_DOMAIN/health/ready.
    #[arg(long, value_name = "URL")]
    pub health_url: Option<String>,
    /// Deploy without checking the platform's variables first (printed loudly).
    #[arg(long)]
    pub skip_verify: bool,
    /// Run the read-only pre-flight, print the commands a deploy would run, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// End with one JSON summary document on stdout.
    #[arg(long)]
    pub json: bool,
    /// How often to poll the deployment's status and logs.
    #[arg(long, value_name = "DUR", default_value = "3s", value_parser = humantime::parse_duration)]
    pub poll_interval: std::time::Duration,
    /// Local env file whose variable names are compared with the platform's.
    #[command(flatten)]
    pub env: EnvFileArgs,
}

#[derive(Debug, Args)]
pub struct Logs {
    #[command(flatten)]
    pub railway: RailwayArgs,
    /// This deployment (default: the newest successful one, as the CLI does).
    #[arg(long, value_name = "ID", conflicts_with = "latest")]
    pub deployment: Option<String>,
    /// The newest deployment, whatever its status (e.g. one still building or just failed).
    #[arg(long)]
    pub latest: bool,
    /// Build logs instead of runtime logs.
    #[arg(long)]
    pub build: bool,
    /// Keep printing new lines (works through pipes and in CI) until Ctrl-C or the deployment ends.
    #[arg(long)]
    pub follow: bool,
    /// Only lines newer than this (e.g. `10m`, `2h`).
    #[arg(long, value_name = "DUR", value_parser = humantime::parse_duration)]
    pub since: Option<std::time::Duration>,
    /// Railway's log filter, e.g. `@level:error` or a word.
    #[arg(long, value_name = "QUERY")]
    pub filter: Option<String>,
    /// At most this many lines (without --follow).
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub lines: u32,
    /// One JSON object per line, with `hint` where a diagnosis applies.
    #[arg(long)]
    pub json: bool,
    /// How often --follow polls.
    #[arg(long, value_name = "DUR", default_value = "2s", value_parser = humantime::parse_duration)]
    pub poll_interval: std::time::Duration,
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
    /// Check the Railway service's variables instead of the local environment.
    #[arg(long)]
    pub remote: bool,
    #[command(flatten)]
    pub railway: RailwayArgs,
    /// Also check that this Railway service (the Next.js frontend) has the same NEXTAUTH_SECRET.
    #[arg(long, value_name = "NAME", requires = "remote")]
    pub frontend_service: Option<String>,
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
    /// A migrations directory read at run time instead of the embedded set (for trying
    /// migrations out and for benchmarks; deployments always use the embedded set).
    #[arg(long, value_name = "DIR")]
    pub source: Option<PathBuf>,
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
    /// A migrations directory read at run time instead of the embedded set (for trying
    /// migrations out and for benchmarks; deployments always use the embedded set).
    #[arg(long, value_name = "DIR")]
    pub source: Option<PathBuf>,
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
    /// A migrations directory read at run time instead of the embedded set (for trying
    /// migrations out and for benchmarks; deployments always use the embedded set).
    #[arg(long, value_name = "DIR")]
    pub source: Option<PathBuf>,
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
