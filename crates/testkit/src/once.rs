//! Install-once directories under `target/`, shared by the helpers that bring tools from
//! other ecosystems ([`crate::npm`], [`crate::pypi`]).
//!
//! Test binaries run in parallel and several may ask for the same tools at once: an exclusive
//! lock file serialises the install, and a marker written last tells later callers that it
//! finished. Different inputs (a changed lockfile) get a different directory.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// `target/<kind>/<label>-<hash of inputs>/`, filled by `install` exactly once per machine.
/// `install` receives the (fresh, empty) directory and panics on failure: an interrupted
/// install leaves no marker and starts over next time.
pub(crate) fn install_once(
    kind: &str,
    label: &str,
    inputs: &[&[u8]],
    install: impl FnOnce(&Path),
) -> PathBuf {
    let mut digest = Sha256::new();
    for input in inputs {
        digest.update((input.len() as u64).to_le_bytes());
        digest.update(input);
    }
    let hash: String = digest.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let parent = target_dir().join(kind);
    let root = parent.join(format!("{label}-{hash}"));
    let done = root.join(".installed");
    if done.is_file() {
        return root;
    }
    fs::create_dir_all(&parent).unwrap_or_else(|e| {
        panic!(
            "intowork-testkit: cannot create `{}`: {e}",
            parent.display()
        )
    });
    // Held until the end of this function: other test processes wait here.
    let guard = File::create(parent.join(format!("{label}-{hash}.lock")))
        .and_then(|f| f.lock().map(|()| f))
        .unwrap_or_else(|e| panic!("intowork-testkit: cannot lock the {kind} install: {e}"));
    if !done.is_file() {
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap_or_else(|e| {
            panic!("intowork-testkit: cannot create `{}`: {e}", root.display())
        });
        install(&root);
        fs::write(&done, &hash).unwrap_or_else(|e| panic!("intowork-testkit: {e}"));
    }
    drop(guard);
    root
}

/// The workspace's `target/` (or `CARGO_TARGET_DIR`), where build products belong.
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            // crates/testkit → the workspace root, without `..` in paths that are printed.
            let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
            manifest
                .ancestors()
                .nth(2)
                .unwrap_or(manifest)
                .join("target")
        })
}

/// The first executable called `name` on `PATH` (the one lookup, pglocal's).
pub(crate) use intowork_pglocal::find_on_path as on_path;

/// A line on the test process's real stderr, past the test harness's capture: what a test
/// installs on the machine is said as it happens, also when the test passes.
pub(crate) fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "intowork-testkit: {line}");
}
