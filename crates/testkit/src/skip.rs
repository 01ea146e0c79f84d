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
pub(crate) fn log_path() -> PathBuf {
    crate::once::target_dir().join("test-skips.log")
}

/// Says that the current test is skipped and why (call it, then `return`).
pub fn skip(reason: &str) {
    record(&log_path(), reason);
}

/// The line (libtest names each test's thread after the test), on stderr and in `path`.
fn record(path: &std::path::Path, reason: &str) {
    let test = std::thread::current()
        .name()
        .unwrap_or("<unnamed test>")
        .to_owned();
    let line = format!("{MARKER} {test}: {reason}");
    eprintln!("{line}");
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    // One short write in append mode: lines of parallel tests and binaries do not interleave.
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(format!("{line}\n").as_bytes()));
    if let Err(e) = appended {
        eprintln!(
            "intowork-testkit: cannot record the skip in `{}`: {e}",
            path.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skip_is_one_line_naming_the_test_and_the_reason_appended_to_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("nested").join("test-skips.log");
        record(&log, "no mount namespace here");
        record(&log, "no real CLI");
        let text = std::fs::read_to_string(&log).unwrap();
        let test =
            "skip::tests::a_skip_is_one_line_naming_the_test_and_the_reason_appended_to_the_log";
        assert_eq!(
            text,
            format!("skipped: {test}: no mount namespace here\nskipped: {test}: no real CLI\n")
        );
    }
}
