//! The backend image: the Dockerfile linted by the real hadolint, and what it builds, built
//! the same way from exactly the context `.dockerignore` lets through (no Docker engine runs
//! here, so the layers themselves are not executed; see docs/ci.md).

use std::path::Path;

use xshell::{Shell, cmd};

use crate::common::{Run, root};
use crate::workflows::tools;

fn hadolint(dockerfile: &Path) -> Run {
    let tools = tools();
    let sh = Shell::new().unwrap();
    let bin = tools.bin("hadolint");
    Run::from(
        cmd!(sh, "{bin} --no-color {dockerfile}")
            .quiet()
            .ignore_status()
            .output()
            .unwrap(),
    )
}

#[test]
fn the_dockerfile_passes_hadolint() {
    let run = hadolint(&root().join("Dockerfile"));
    assert_eq!(run.code, 0, "hadolint:\n{}{}", run.stdout, run.stderr);
}

#[test]
fn hadolint_rejects_a_broken_dockerfile() {
    let run = hadolint(&root().join("xtask/tests/fixtures/broken-image/Dockerfile"));
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    for (rule, what) in [
        ("DL3007", "an unpinned `latest` base image"),
        ("DL3008", "unpinned apt packages"),
        ("DL3025", "a shell-form CMD that swallows SIGTERM"),
    ] {
        assert_contains!(run.stdout, rule, "hadolint missed {what}:\n{}", run.stdout);
    }
}

/// The Dockerfile's instructions, continuation lines joined, comments dropped.
fn instructions(dockerfile: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => current.push_str(part),
            None => {
                current.push_str(line);
                out.push(std::mem::take(&mut current));
            }
        }
    }
    out
}

/// The layer order that makes a code-only change rebuild only the workspace crates: the
/// dependency layer sees nothing but the recipe, and the per-commit argument comes after it.
#[test]
fn the_dependency_layer_comes_before_the_source_and_the_commit() {
    let steps = instructions(&std::fs::read_to_string(root().join("Dockerfile")).unwrap());
    let position = |needle: &str| {
        steps
            .iter()
            .position(|s| s.contains(needle))
            .unwrap_or_else(|| panic!("the Dockerfile has no `{needle}` step"))
    };
    let build_stage = position("AS build");
    let recipe = position("COPY --from=planner /src/recipe.json");
    let cook = position("cargo chef cook --release --locked");
    let source = build_stage
        + steps[build_stage..]
            .iter()
            .position(|s| s == "COPY . .")
            .unwrap();
    let commit = position("ARG RAILWAY_GIT_COMMIT_SHA");
    let build = position("cargo build --release --locked");
    assert!(
        build_stage < recipe && recipe < cook && cook < source && source < commit && commit < build,
        "build stage order must be: recipe → cook (dependencies) → source → commit → build:\n{steps:#?}"
    );
}

/// What `.dockerignore` lets into the context, decided by Docker's own matcher (the
/// `docker` Python SDK's `exclude_paths`, which mirrors the CLI's), files only.
fn context_files() -> Vec<String> {
    let script = r##"
import os, sys
from docker.utils.build import exclude_paths
root = sys.argv[1]
with open(os.path.join(root, ".dockerignore")) as f:
    patterns = [l.strip() for l in f if l.strip() and not l.lstrip().startswith("#")]
for p in sorted(exclude_paths(root, patterns)):
    if os.path.isfile(os.path.join(root, p)) and not os.path.islink(os.path.join(root, p)):
        print(p)
"##;
    let sh = Shell::new().unwrap();
    let root = root();
    let root = root.to_str().unwrap();
    let listing = tools().python(&sh, script, &[root]).quiet().read().unwrap();
    listing.lines().map(str::to_owned).collect()
}

#[test]
fn the_context_keeps_secrets_and_build_outputs_out() {
    let files = context_files();
    for needed in [
        "Cargo.lock",
        "Cargo.toml",
        "backend/src/main.rs",
        "migrations",
    ] {
        assert!(
            files.iter().any(|f| f.starts_with(needed)),
            "the image context lacks `{needed}`: check .dockerignore"
        );
    }
    for file in &files {
        let name = file.rsplit('/').next().unwrap();
        assert!(
            !file.starts_with("target/")
                && !file.starts_with(".git/")
                && !file.contains("node_modules/")
                && name != ".env"
                && !name.ends_with(".pem")
                && !name.ends_with(".key"),
            "`{file}` must not reach the image context: add it to .dockerignore"
        );
    }
}

/// The Dockerfile's `ENV` values of the build stages and its final `cargo build` command.
fn build_recipe() -> (Vec<(String, String)>, Vec<String>) {
    let steps = instructions(&std::fs::read_to_string(root().join("Dockerfile")).unwrap());
    let runtime = steps.iter().rposition(|s| s.starts_with("FROM ")).unwrap();
    let env = steps[..runtime]
        .iter()
        .filter_map(|s| s.strip_prefix("ENV "))
        .flat_map(|s| s.split_whitespace())
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let build = steps[..runtime]
        .iter()
        .rev()
        .find_map(|s| s.strip_prefix("RUN cargo build "))
        .expect("the build stage runs `cargo build`");
    let args = build.split_whitespace().map(str::to_owned).collect();
    (env, args)
}

/// Copies the context into `dest` and runs the Dockerfile's build there (same command, same
/// `ENV`, target directory kept under `target/` so later runs are incremental).
fn build_context(files: &[String], dest: &Path) -> Run {
    for file in files {
        let to = dest.join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root().join(file), &to).unwrap();
    }
    let (env, args) = build_recipe();
    let sh = Shell::new().unwrap();
    sh.change_dir(dest);
    let mut build = cmd!(sh, "cargo build {args...}")
        .env("CARGO_TARGET_DIR", root().join("target/image-context"))
        .quiet()
        .ignore_status();
    for (key, value) in env {
        build = build.env(key, value);
    }
    // Variables `cargo test` gives this process: build scripts watch some of them.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("CARGO_") && name != "CARGO_HOME" || name == "RUSTFLAGS" {
            build = build.env_remove(name);
        }
    }
    Run::from(build.output().unwrap())
}

#[test]
fn the_context_builds_the_backend_as_the_dockerfile_does() {
    let files = context_files();
    let dir = tempfile::tempdir().unwrap();
    let run = build_context(&files, dir.path());
    assert_eq!(
        run.code, 0,
        "the backend does not build from the image context (a file .dockerignore drops?):\n{}",
        run.stderr
    );
    let binary = root().join("target/image-context/release/backend");
    let sh = Shell::new().unwrap();
    let version = cmd!(sh, "{binary} --version").read().unwrap();
    assert!(version.starts_with("backend "), "{version}");

    // The same build without the migrations (a context that lost a file the build embeds)
    // fails: the check above can fail.
    let broken = tempfile::tempdir().unwrap();
    let without: Vec<String> = files
        .into_iter()
        .filter(|f| !f.starts_with("migrations/"))
        .collect();
    let run = build_context(&without, broken.path());
    assert_ne!(run.code, 0, "a context without migrations/ must not build");
    assert_contains!(run.stderr, "migrations");
}
