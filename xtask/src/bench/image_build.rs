//! What a code-only change costs the image build: the Dockerfile's final `cargo build`, with
//! its `ENV`, run here on a copy of the repository's files — once from an empty target
//! directory (the image built with no layer cached) and once after a change to a workspace
//! crate (the dependency layer cached: only the workspace crates may compile).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use xshell::{Shell, cmd};

use super::report::{Row, TargetVerdict};
use super::rows::info;

/// The crate at the bottom of the workspace: changing it recompiles every workspace crate the
/// backend links, the most a code-only change can cost.
const CHANGED: &str = "crates/config/src/lib.rs";

/// The Dockerfile's build: its `ENV` pairs before the build, and the `cargo build` arguments.
#[derive(Debug, PartialEq)]
pub(crate) struct Recipe {
    pub(crate) env: Vec<(String, String)>,
    pub(crate) args: Vec<String>,
}

impl Recipe {
    pub(crate) fn parse(dockerfile: &str) -> Option<Recipe> {
        let joined = dockerfile
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
            .replace("\\\n", " ");
        let mut env = Vec::new();
        for line in joined.lines().map(str::trim) {
            if let Some(build) = line.strip_prefix("RUN cargo build ") {
                let args = build.split_whitespace().map(str::to_owned).collect();
                return Some(Recipe { env, args });
            }
            if let Some(pairs) = line.strip_prefix("ENV ") {
                env.extend(pairs.split_whitespace().filter_map(|p| {
                    let (k, v) = p.split_once('=')?;
                    Some((k.to_owned(), v.to_owned()))
                }));
            }
        }
        None
    }
}

/// The two builds, timed, and what the second one compiled.
pub(crate) fn rows(root: &Path, dir: &Path) -> anyhow::Result<Vec<Row>> {
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile"))?;
    let recipe = Recipe::parse(&dockerfile).context("the Dockerfile runs no `cargo build`")?;
    let (src, target) = (dir.join("image-src"), dir.join("image-target"));
    let _ = std::fs::remove_dir_all(&src);
    let _ = std::fs::remove_dir_all(&target);
    copy_tracked(root, &src)?;
    let measured = builds(&recipe, &src, &target);
    let _ = std::fs::remove_dir_all(&src);
    let _ = std::fs::remove_dir_all(&target);
    let (cold, cached, compiled) = measured?;
    let command = format!("cargo build {}", recipe.args.join(" "));
    let workspace_only = !compiled.is_empty() && compiled.iter().all(|c| is_workspace_crate(c));
    Ok(vec![
        info(
            &format!("image build, no layer cached (`{command}` from an empty target)"),
            format!("{:.0} s", cold.as_secs_f64()),
            "the Dockerfile's ENV, offline from Cargo.lock; in the image this is `cargo chef cook` plus the final build (installing cargo-chef, a layer of its own, not included)",
        ),
        Row {
            name: format!("image build after a code-only change (`{CHANGED}` edited)"),
            ours: format!("{:.0} s", cached.as_secs_f64()),
            anchor: format!("{:.0} s (no layer cached)", cold.as_secs_f64()),
            ratio: Some(cached.as_secs_f64() / cold.as_secs_f64()),
            target: "workspace crates only".into(),
            verdict: TargetVerdict::within(workspace_only),
            note: format!(
                "compiled: {} — the dependency layer's crates were reused",
                compiled.join(", ")
            ),
        },
    ])
}

/// The cold build's time, the rebuild's time, and the crates the rebuild compiled.
fn builds(
    recipe: &Recipe,
    src: &Path,
    target: &Path,
) -> anyhow::Result<(Duration, Duration, Vec<String>)> {
    let sh = Shell::new()?;
    sh.change_dir(src);
    let build = || {
        let mut c = crate::util::cargo::cargo(&sh, &["build", "--offline"])
            .args(&recipe.args)
            .env("CARGO_TARGET_DIR", target)
            .quiet()
            .ignore_status();
        for (k, v) in &recipe.env {
            c = c.env(k, v);
        }
        let t = Instant::now();
        let out = c.output()?;
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        anyhow::ensure!(out.status.success(), "the image's build failed:\n{stderr}");
        Ok((t.elapsed(), stderr))
    };
    println!("  image build, cold (minutes on 2 cores)");
    let (cold, _) = build()?;
    let changed = src.join(CHANGED);
    let mut text = std::fs::read_to_string(&changed)?;
    text.push_str("\n// a code-only change\n");
    std::fs::write(&changed, text)?;
    println!("  image build after a code-only change");
    let (cached, stderr) = build()?;
    Ok((cold, cached, compiled(&stderr)))
}

/// Crate names from cargo's `Compiling name vX (…)` lines.
fn compiled(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Compiling "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

fn is_workspace_crate(name: &str) -> bool {
    name.starts_with("intowork-")
}

/// The files git tracks, as they are in the working tree: what the image's context holds.
fn copy_tracked(root: &Path, dest: &Path) -> anyhow::Result<()> {
    let sh = Shell::new()?;
    sh.change_dir(root);
    let files = cmd!(sh, "git ls-files -z").quiet().read()?;
    for file in files.split('\0').filter(|f| !f.is_empty()) {
        let from = root.join(file);
        if !from.is_file() {
            continue; // deleted in the working tree
        }
        let to = dest.join(file);
        std::fs::create_dir_all(to.parent().context("a file has a parent")?)?;
        std::fs::copy(&from, &to).with_context(|| format!("cannot copy {file}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dockerfiles_build_is_read_with_the_env_before_it() {
        let dockerfile = "FROM x AS chef\n# comment \\\nENV A=1 \\\n    B=two\nFROM chef AS build\nRUN cargo chef cook --release\nRUN cargo build --release --locked \\\n    --package p --bin b\nFROM y\nENV PORT=8000\n";
        let recipe = Recipe::parse(dockerfile).unwrap();
        assert_eq!(
            recipe.env,
            [("A".into(), "1".into()), ("B".into(), "two".into())]
        );
        assert_eq!(
            recipe.args,
            ["--release", "--locked", "--package", "p", "--bin", "b"]
        );
        assert_eq!(Recipe::parse("FROM x\nRUN true\n"), None);
    }

    #[test]
    fn the_repositorys_dockerfile_has_a_recipe() {
        let root = crate::util::config_source::project_root();
        let recipe = Recipe::parse(&std::fs::read_to_string(root.join("Dockerfile")).unwrap())
            .expect("the Dockerfile runs `cargo build`");
        assert!(recipe.args.iter().any(|a| a == "--release"), "{recipe:?}");
        assert!(
            recipe
                .env
                .iter()
                .any(|(k, _)| k == "CARGO_PROFILE_RELEASE_STRIP"),
            "{recipe:?}"
        );
        assert!(!recipe.env.iter().any(|(k, _)| k == "PORT"), "{recipe:?}");
    }

    #[test]
    fn compiled_crates_are_read_from_cargos_output() {
        let stderr = "   Compiling intowork-config v0.1.0 (/s/crates/config)\n   Compiling intowork-backend v0.1.0 (/s/backend)\n    Finished `release` profile\n";
        let names = compiled(stderr);
        assert_eq!(names, ["intowork-config", "intowork-backend"]);
        assert!(names.iter().all(|n| is_workspace_crate(n)));
        assert!(!is_workspace_crate("serde"));
    }
}
