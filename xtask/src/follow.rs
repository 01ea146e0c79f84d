//! Following a deployment's logs by polling `railway logs <id> --json --since …`: the CLI
//! streams only when its stdout is a terminal, so through a pipe or in CI we poll, and drop
//! lines already seen (same timestamp and message).

use std::collections::HashSet;

use chrono::{DateTime, Duration as ChronoDuration, SecondsFormat, Utc};
use xshell::Shell;

use crate::log_line::LogLine;
use crate::mask::Masker;
use crate::railway::{Call, Railway, RailwayError};

/// A poll fetches at most this many lines (the CLI's own cap is 500).
const PAGE: u32 = 500;

#[derive(Debug)]
pub(crate) struct Follower {
    deployment: String,
    build: bool,
    filter: Option<String>,
    since: DateTime<Utc>,
    seen: HashSet<(String, String)>,
}

impl Follower {
    pub(crate) fn new(
        deployment: &str,
        build: bool,
        filter: Option<String>,
        since: DateTime<Utc>,
    ) -> Follower {
        Follower {
            deployment: deployment.to_owned(),
            build,
            filter,
            since,
            seen: HashSet::new(),
        }
    }

    /// New lines since the last poll, oldest first, masked and diagnosed.
    pub(crate) fn poll(
        &mut self,
        sh: &Shell,
        railway: &Railway,
        masker: &Masker,
    ) -> Result<Vec<LogLine>, RailwayError> {
        // A second of overlap: `--since` precision and clock skew must not lose lines; the
        // seen-set drops the repeats.
        let since =
            (self.since - ChronoDuration::seconds(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
        let call = Call::Logs {
            deployment: Some(self.deployment.clone()),
            build: self.build,
            since: Some(since),
            lines: Some(PAGE),
            filter: self.filter.clone(),
        };
        let mut fresh = Vec::new();
        for raw in railway.logs(sh, &call)? {
            let line = LogLine::from_json(raw, masker);
            if !self.seen.insert(line.key()) {
                continue;
            }
            if let Ok(ts) = DateTime::parse_from_rfc3339(&line.timestamp) {
                self.since = self.since.max(ts.with_timezone(&Utc));
            }
            fresh.push(line);
        }
        fresh.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
        Ok(fresh)
    }
}
