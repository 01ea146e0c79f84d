//! Nested cargo invocations from a task started by `cargo run` (the xtask alias).

use xshell::{Cmd, Shell, cmd};

/// `cargo ARGS` without the variables `cargo run` gave this process (CARGO_PKG_*,
/// CARGO_MANIFEST_DIR, …): build scripts watch some of them (ring's does), so passing them on
/// would rebuild half the dependency tree on every run.
pub(crate) fn cargo<'a>(sh: &'a Shell, args: &[&str]) -> Cmd<'a> {
    let mut c = cmd!(sh, "cargo {args...}");
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        let injected = [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
        ]
        .iter()
        .any(|p| name.starts_with(p))
            || name == "CARGO_PRIMARY_PACKAGE"
            || name == "OUT_DIR";
        if injected {
            c = c.env_remove(name);
        }
    }
    c
}
