//! Records the git commit for `backend --version`. Railway's builds may have no `.git`:
//! `RAILWAY_GIT_COMMIT_SHA` (injected at build time on GitHub deploys) or `GIT_COMMIT` win.

use xshell::{Shell, cmd};

fn main() {
    println!("cargo:rerun-if-env-changed=RAILWAY_GIT_COMMIT_SHA");
    println!("cargo:rerun-if-env-changed=GIT_COMMIT");
    println!("cargo:rerun-if-changed=../.git/HEAD");
    println!("cargo:rerun-if-changed=../.git/refs/heads");
    let from_env = std::env::var("RAILWAY_GIT_COMMIT_SHA")
        .or_else(|_| std::env::var("GIT_COMMIT"))
        .ok();
    let commit = from_env
        .filter(|c| !c.is_empty())
        .or_else(git_head)
        .unwrap_or_else(|| "unknown".to_owned());
    let short: String = commit.chars().take(12).collect();
    println!("cargo:rustc-env=INTOWORK_GIT_COMMIT={short}");
}

fn git_head() -> Option<String> {
    let sh = Shell::new().ok()?;
    cmd!(sh, "git rev-parse HEAD")
        .quiet()
        .ignore_stderr()
        .read()
        .ok()
        .filter(|s| !s.is_empty())
}
