//! Records the git commit the backend is built from, for `backend --version`, `GET /health`
//! and the start-up log (see src/build_info.rs). Railway's builds have no `.git`, so, first
//! found wins:
//! 1. `RAILWAY_GIT_COMMIT_SHA` (GitHub deploys; the Dockerfile declares it as a build
//!    argument) or `GIT_COMMIT`;
//! 2. `.build-commit` at the workspace root, written by `cargo xtask deploy --up` for the
//!    duration of the upload (`<sha>` or `<sha>-dirty`);
//! 3. `git rev-parse HEAD` (worktrees included);
//! 4. `unknown`.

use std::path::Path;

use xshell::{Shell, cmd};

fn main() {
    println!("cargo:rerun-if-env-changed=RAILWAY_GIT_COMMIT_SHA");
    println!("cargo:rerun-if-env-changed=GIT_COMMIT");
    println!("cargo:rerun-if-changed=../.build-commit");
    let sh = Shell::new().ok();
    if let Some(sh) = &sh {
        watch_git(sh);
    }
    let from_env = std::env::var("RAILWAY_GIT_COMMIT_SHA")
        .or_else(|_| std::env::var("GIT_COMMIT"))
        .ok()
        .filter(|c| !c.trim().is_empty());
    let stamped = std::fs::read_to_string(Path::new("../.build-commit"))
        .ok()
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    let commit = from_env
        .or(stamped)
        .or_else(|| sh.as_ref().and_then(git_head))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=INTOWORK_GIT_COMMIT={}", commit.trim());
}

/// Rebuild when HEAD moves: `--git-path` finds HEAD and the refs in a worktree too (where
/// `.git` is a file).
fn watch_git(sh: &Shell) {
    for path in ["HEAD", "refs/heads", "packed-refs"] {
        if let Ok(p) = cmd!(sh, "git rev-parse --git-path {path}")
            .quiet()
            .ignore_stderr()
            .read()
        {
            let p = Path::new(&p);
            if p.exists() {
                println!("cargo:rerun-if-changed={}", p.display());
            }
        }
    }
}

fn git_head(sh: &Shell) -> Option<String> {
    cmd!(sh, "git rev-parse HEAD")
        .quiet()
        .ignore_stderr()
        .read()
        .ok()
        .filter(|s| !s.is_empty())
}
