//! npm packages for tests: a tool from another ecosystem (the `railway` SDK, NextAuth's
//! `encode`, …) used as itself, installed from a committed `package-lock.json`.
//!
//! [`install`] runs `npm ci` once per lockfile into `target/npm/<dir name>-<lock hash>/` and
//! returns the ready install (see [`crate::once`] for the locking between concurrent test
//! processes). A changed lockfile gets a new directory.
//!
//! Node.js and npm must be installed; when they are not, or `npm ci` fails, the caller
//! panics with the command to run. A test that needs them never passes silently.
//!
//! ```no_run
//! use xshell::{Shell, cmd};
//!
//! let packages = intowork_testkit::npm::install(std::path::Path::new("."));
//! let node = intowork_testkit::npm::node();
//! let sh = Shell::new().unwrap();
//! sh.change_dir(&packages.root);
//! let script = r#"console.log(typeof (await import("railway/iac")).service)"#;
//! let kind = cmd!(sh, "{node} --input-type=module -e {script}").read().unwrap();
//! assert_eq!(kind, "function");
//! ```

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use xshell::{Shell, cmd};

use crate::once::{install_once, on_path};

/// The oldest Node.js these helpers are tested with (the machines have 20).
pub const MIN_NODE_MAJOR: u32 = 20;

const INSTALL_NODE: &str = "install Node.js (≥ 20) and npm: `apt-get install -y nodejs npm` \
     (Debian/Ubuntu; Debian's nodejs may be older: see https://nodejs.org for current \
     packages) or `brew install node` (macOS)";

/// A finished `npm ci`: `root` holds the copied `package.json`, `package-lock.json` and
/// `node_modules/`. Put files that import the packages under `root` (or a directory inside
/// it): Node resolves bare imports by walking up to `root/node_modules`.
#[derive(Debug, Clone)]
pub struct Installed {
    pub root: PathBuf,
}

impl Installed {
    pub fn node_modules(&self) -> PathBuf {
        self.root.join("node_modules")
    }

    /// An executable a package installs (`node_modules/.bin/NAME`).
    pub fn bin(&self, name: &str) -> PathBuf {
        self.node_modules().join(".bin").join(name)
    }

    /// A fresh, empty directory inside the install, for files that import the packages.
    pub fn scratch_dir(&self, label: &str) -> PathBuf {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = self
            .root
            .join("scratch")
            .join(format!("{label}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("intowork-testkit: cannot create `{}`: {e}", dir.display()));
        dir
    }
}

/// `npm ci` of `dir/package.json` + `dir/package-lock.json`, once per lockfile and machine.
/// Panics, naming the command, when Node.js/npm are missing or the install fails.
pub fn install(dir: &Path) -> Installed {
    let lock = read(&dir.join("package-lock.json"));
    let manifest = read(&dir.join("package.json"));
    // The package's own npm settings (e.g. `legacy-peer-deps`), part of what `npm ci` does.
    let npmrc = fs::read(dir.join(".npmrc")).unwrap_or_default();
    let label = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "packages".to_owned());
    let root = install_once("npm", &label, &[&manifest, &lock, &npmrc], |root| {
        node();
        run_npm_ci(dir, root, &manifest, &lock, &npmrc);
    });
    Installed { root }
}

/// The `node` executable, checked once to be ≥ [`MIN_NODE_MAJOR`]; panics with the install
/// command otherwise.
pub fn node() -> PathBuf {
    static NODE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    NODE.get_or_init(find_node)
        .clone()
        .unwrap_or_else(|message| panic!("{message}"))
}

fn find_node() -> Result<PathBuf, String> {
    let node = on_path("node").ok_or_else(|| {
        format!(
            "intowork-testkit: this test needs Node.js, and `node` is not on PATH: {INSTALL_NODE}"
        )
    })?;
    on_path("npm").ok_or_else(|| {
        format!("intowork-testkit: this test needs npm, and `npm` is not on PATH: {INSTALL_NODE}")
    })?;
    let sh = Shell::new().map_err(|e| e.to_string())?;
    let version = cmd!(sh, "{node} --version")
        .quiet()
        .read()
        .map_err(|e| format!("intowork-testkit: `node --version` failed: {e}"))?;
    let major: Option<u32> = version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok());
    match major {
        Some(m) if m >= MIN_NODE_MAJOR => Ok(node),
        _ => Err(format!(
            "intowork-testkit: Node.js {} is too old (≥ {MIN_NODE_MAJOR} needed): {INSTALL_NODE}",
            version.trim()
        )),
    }
}

fn run_npm_ci(dir: &Path, root: &Path, manifest: &[u8], lock: &[u8], npmrc: &[u8]) {
    fs::write(root.join("package.json"), manifest)
        .and_then(|()| fs::write(root.join("package-lock.json"), lock))
        .and_then(|()| fs::write(root.join(".npmrc"), npmrc))
        .unwrap_or_else(|e| panic!("intowork-testkit: cannot prepare `{}`: {e}", root.display()));
    let sh = Shell::new().unwrap_or_else(|e| panic!("intowork-testkit: {e}"));
    sh.change_dir(root);
    // Lifecycle scripts stay off: the packages used here need none, and a test has no
    // business running a dependency's install hooks.
    let out = cmd!(sh, "npm ci --ignore-scripts --no-audit --no-fund")
        .quiet()
        .ignore_status()
        .output()
        .unwrap_or_else(|e| panic!("intowork-testkit: cannot run `npm ci`: {e}; {INSTALL_NODE}"));
    if !out.status.success() {
        panic!(
            "intowork-testkit: `npm ci` for `{}` failed (run it by hand in `{}` to see why: \
             `npm ci --ignore-scripts`):\n{}",
            dir.display(),
            root.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| {
        panic!(
            "intowork-testkit: cannot read `{}` ({e}): npm packages for tests need a committed \
             package.json and package-lock.json (`npm install --package-lock-only` writes the lock)",
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_lockfile_is_named() {
        let dir = std::env::temp_dir().join(format!("npm-no-lock-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let panic = std::panic::catch_unwind(|| install(&dir)).unwrap_err();
        let message = panic.downcast_ref::<String>().unwrap();
        assert!(
            message.contains("package-lock.json")
                && message.contains("npm install --package-lock-only"),
            "{message}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
