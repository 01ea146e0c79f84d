//! Following a deployment's logs by polling `railway logs <id> --json --since …`: the CLI
//! streams only when its stdout is a terminal, so through a pipe or in CI we poll, and drop
//! lines already seen (same timestamp and message).

use std::collections::HashSet;

use chrono::{DateTime, Duration as ChronoDuration, SecondsFormat, Utc};
use xshell::Shell;

use crate::logs::log_line::LogLine;
use crate::railway::{Call, DeploymentStatus, Railway, RailwayError};
use crate::util::mask::Masker;

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

/// A deployment's logs streamed while waiting on it: build logs until the image runs, then
/// runtime logs; the last lines are kept for the failure report.
#[derive(Debug)]
pub(crate) struct LogStream {
    build: Follower,
    runtime: Follower,
    pub(crate) tail: Vec<LogLine>,
}

/// Lines kept for the failure report.
const TAIL: usize = 15;

impl LogStream {
    pub(crate) fn new(deployment: &str) -> LogStream {
        let since = Utc::now() - ChronoDuration::minutes(5);
        LogStream {
            build: Follower::new(deployment, true, None, since),
            runtime: Follower::new(deployment, false, None, since),
            tail: Vec::new(),
        }
    }

    /// New lines of the logs `status` makes interesting, each handed to `show`.
    pub(crate) fn poll(
        &mut self,
        sh: &Shell,
        railway: &Railway,
        masker: &Masker,
        status: Option<&DeploymentStatus>,
        show: &mut dyn FnMut(&LogLine),
    ) -> Result<(), RailwayError> {
        let follower = if status.is_none_or(DeploymentStatus::shows_build_logs) {
            &mut self.build
        } else {
            &mut self.runtime
        };
        for line in follower.poll(sh, railway, masker)? {
            show(&line);
            self.tail.push(line);
        }
        if self.tail.len() > TAIL {
            self.tail.drain(..self.tail.len() - TAIL);
        }
        Ok(())
    }

    /// The lines worth showing after a failure: the diagnosed and error lines, else all kept.
    pub(crate) fn relevant(&self) -> Vec<&LogLine> {
        let relevant: Vec<&LogLine> = self
            .tail
            .iter()
            .filter(|l| l.diagnosis.is_some() || l.level == "error")
            .collect();
        if relevant.is_empty() {
            self.tail.iter().collect()
        } else {
            relevant
        }
    }
}
