//! How the backend process runs: migrations at start-up, shutdown grace, log format.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::problem::Problem;

/// `LOG_FORMAT`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human on a terminal in development, JSON otherwise.
    #[default]
    Auto,
    /// One JSON object per line (Railway's log explorer parses the fields).
    Json,
    /// Human-readable.
    Pretty,
}

impl FromStr for LogFormat {
    type Err = Problem;

    fn from_str(s: &str) -> Result<LogFormat, Problem> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(LogFormat::Auto),
            "json" => Ok(LogFormat::Json),
            "pretty" | "human" | "text" => Ok(LogFormat::Pretty),
            _ => Err(
                Problem::error("value", format!("`{}` is not a log format", s.trim()))
                    .hint("use `json`, `pretty` or `auto`"),
            ),
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::Auto => "auto",
            LogFormat::Json => "json",
            LogFormat::Pretty => "pretty",
        })
    }
}

/// `true`/`false` and the usual spellings of them.
pub fn parse_bool(s: &str) -> Result<bool, Problem> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(
            Problem::error("value", format!("`{}` is not a boolean", s.trim()))
                .hint("use `true` or `false`"),
        ),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceSettings {
    /// `MIGRATE_ON_START`: run pending migrations before serving (default true); false when the
    /// platform runs `backend migrate` as a pre-deploy command.
    pub migrate_on_start: bool,
    /// `SHUTDOWN_GRACE_SECS`: how long in-flight requests may finish after SIGTERM.
    pub shutdown_grace: Duration,
    pub log_format: LogFormat,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!("JSON".parse::<LogFormat>().unwrap(), LogFormat::Json);
        assert_eq!("human".parse::<LogFormat>().unwrap(), LogFormat::Pretty);
        assert!("xml".parse::<LogFormat>().is_err());
        for (s, b) in [("true", true), ("0", false), ("Off", false), ("YES", true)] {
            assert_eq!(parse_bool(s).unwrap(), b, "{s}");
        }
        assert!(parse_bool("maybe").is_err());
    }
}
