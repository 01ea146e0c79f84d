//! A test that cannot run on this machine says so, and the CI scripts count it: libtest
//! reports a test that returned early as *passed*, and shows its stderr only when it fails.
//!
//! [`skip`] prints `skipped: <test>: <reason>` (the fixed marker, on stderr) and appends the
//! same line to `target/test-skips.log` (or under `CARGO_TARGET_DIR`), which `.ci/run` and
//! `.ci/fresh-debian` empty before `cargo test` and summarise after it. Every test that skips
//! goes through it (a tidy test keeps the `skipped:` marker here).

use std::io::Write;
use std::path::PathBuf;

/// The marker of a skip's line.
pub const MARKER: &str = "skipped:";

/// Where the skips of a `cargo test` run are written, one line each.
pub fn log_path() -> PathBuf {
    crate::once::target_dir().join("test-skips.log")
}

/// Says that the current test is skipped and why (call it, then `return`).
pub fn skip(reason: &str) {
    let test = std::thread::current()
        .name()
        .unwrap_or("<unnamed test>")
        .to_owned();
    let line = format!("{MARKER} {test}: {reason}");
    eprintln!("{line}");
    let path = log_path();
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    // One short write in append mode: lines of parallel tests and binaries do not interleave.
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(format!("{line}\n").as_bytes()));
    if let Err(e) = appended {
        eprintln!(
            "intowork-testkit: cannot record the skip in `{}`: {e}",
            path.display()
        );
    }
}
