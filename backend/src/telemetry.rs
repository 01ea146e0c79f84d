//! Logs on stdout: Railway shows every stderr line as an error, and parses one JSON object
//! per line into searchable fields. Human-readable on a terminal in development.

use std::io::IsTerminal;

use anyhow::Context;
use intowork_config::{LogFormat, Settings, escape_control};
use tracing_subscriber::EnvFilter;

const DEFAULT_FILTER: &str = "info,sqlx=warn";

/// JSON lines, one object per event, its fields flattened (the access log puts method, path,
/// request id, status and latency on its own line).
pub fn init(settings: &Settings) -> anyhow::Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::try_new(&spec).with_context(|| {
            format!(
                "RUST_LOG=`{}` is not a valid log filter (e.g. `info,sqlx=warn`)",
                escape_control(&spec)
            )
        })?,
        _ => EnvFilter::new(DEFAULT_FILTER),
    };
    let json = match settings.service().log_format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => {
            !(std::io::stdout().is_terminal()
                && settings.environment() == intowork_config::Environment::Development)
        }
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stdout);
    let result = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init()
    } else {
        builder
            .with_ansi(std::io::stdout().is_terminal())
            .try_init()
    };
    result.map_err(|e| anyhow::anyhow!("failed to set up logging: {e}"))
}
