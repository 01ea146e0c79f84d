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

/// Parses the command line; usage errors exit 2 (clap's convention, kept by every task).
pub fn parse() -> Xtask {
    Xtask::parse()
}
