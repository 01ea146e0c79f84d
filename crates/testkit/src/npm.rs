//! npm packages for tests, from a committed `package.json` + `package-lock.json`: installed
//! with `npm ci` once into the target directory, guarded against concurrent test processes
//! (a file lock), and loud when Node is missing.
//!
//! ```no_run
//! let dir = intowork_testkit::npm::ci(std::path::Path::new("backend/tests/nextauth"));
//! // run `node <dir>/mint.mjs`
//! # let _ = dir;
//! ```

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use xshell::{Shell, cmd};

/// Copies the package at `package_dir` (its manifest, lockfile, `.npmrc` and scripts) under
/// the target directory, runs `npm ci` there unless the same lockfile is already installed,
/// and returns that directory (run its scripts from there: `node <dir>/script.mjs`).
pub fn ci(package_dir: &Path) -> PathBuf {
    let sh = Shell::new().unwrap();
    for tool in ["node", "npm"] {
        if cmd!(sh, "{tool} --version")
            .quiet()
            .ignore_stdout()
            .ignore_stderr()
            .run()
            .is_err()
        {
            panic!(
                "`{tool}` is not on PATH: these tests mint NextAuth tokens with the real npm packages; install Node.js 20+ (`apt-get install -y nodejs npm`)"
            );
        }
    }
    let name = package_dir
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let root = target.join("npm");
    fs::create_dir_all(&root).unwrap();
    let lock = File::create(root.join(format!("{name}.lock"))).unwrap();
    // Other test binaries may install the same package at the same moment.
    lock.lock().unwrap();
    let dir = root.join(&name);
    fs::create_dir_all(&dir).unwrap();
    for entry in fs::read_dir(package_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
    }
    let lockfile = fs::read(dir.join("package-lock.json")).expect("a committed package-lock.json");
    let stamp = dir.join("node_modules").join(".intowork-installed");
    if fs::read(&stamp).ok().as_deref() != Some(&lockfile[..]) {
        let _dir = sh.push_dir(&dir);
        cmd!(sh, "npm ci --no-audit --no-fund")
            .quiet()
            .ignore_stdout()
            .run()
            .unwrap_or_else(|e| panic!("`npm ci` in {} failed: {e}", dir.display()));
        fs::write(&stamp, &lockfile).unwrap();
    }
    drop(lock);
    dir
}
