//! Which build this process is: its version and the git commit it was built from. Shown on
//! `GET /health`, in the start-up log and by `backend --version`, so that `cargo xtask
//! deploy` can tell the build it deployed from an older one still answering.

use std::sync::OnceLock;

use serde::Serialize;

/// The commit compiled in by build.rs (`unknown` when none was found).
pub const BUILD_COMMIT: &str = env!("INTOWORK_GIT_COMMIT");

/// Where the commit came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitFrom {
    /// `RAILWAY_GIT_COMMIT_SHA`, which Railway injects at run time on GitHub deploys.
    Platform,
    /// Compiled in by build.rs.
    Build,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildInfo {
    pub version: &'static str,
    pub commit: String,
    pub commit_from: CommitFrom,
}

impl BuildInfo {
    /// The platform's commit when it names one, else the compiled-in one.
    pub fn new(railway_git_commit_sha: Option<&str>) -> BuildInfo {
        let platform = railway_git_commit_sha
            .map(str::trim)
            .filter(|c| !c.is_empty());
        BuildInfo {
            version: env!("CARGO_PKG_VERSION"),
            commit: platform.unwrap_or(BUILD_COMMIT).to_owned(),
            commit_from: if platform.is_some() {
                CommitFrom::Platform
            } else {
                CommitFrom::Build
            },
        }
    }

    /// This process's build, read once.
    pub fn current() -> &'static BuildInfo {
        static CURRENT: OnceLock<BuildInfo> = OnceLock::new();
        CURRENT
            .get_or_init(|| BuildInfo::new(std::env::var("RAILWAY_GIT_COMMIT_SHA").ok().as_deref()))
    }

    /// One start-up log line naming the build.
    pub fn log(&self) {
        tracing::info!(
            version = self.version,
            commit = %self.commit,
            commit_from = ?self.commit_from,
            "build {} (commit {})",
            self.version,
            self.commit
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_platform_commit_wins_over_the_compiled_one() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let b = BuildInfo::new(Some(sha));
        assert_eq!(
            (b.commit.as_str(), b.commit_from),
            (sha, CommitFrom::Platform)
        );
        for none in [None, Some(""), Some("  ")] {
            let b = BuildInfo::new(none);
            assert_eq!(
                (b.commit.as_str(), b.commit_from),
                (BUILD_COMMIT, CommitFrom::Build)
            );
        }
        assert_eq!(b.version, env!("CARGO_PKG_VERSION"));
    }
}
