//! Repository rules, checked by `cargo test` like everything else.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path))
        .unwrap_or_else(|e| panic!("failed to read `{path}`: {e}"))
}

#[test]
fn every_variable_is_documented_in_the_example_and_the_readme() {
    let example = read(".env.example");
    let readme = read("README.md");
    for var in intowork_config::VARIABLES {
        assert!(
            example.contains(&format!("{}=", var.name)),
            "`.env.example` does not mention {}: add it, commented",
            var.name
        );
        assert!(
            readme.contains(&format!("`{}`", var.name)),
            "README.md's variable table lacks {}",
            var.name
        );
    }
}

#[test]
fn the_readme_quickstart_and_ci_agree() {
    let readme = read("README.md");
    let ci = read(".ci/run");
    assert!(
        readme.contains("cargo test --workspace"),
        "README must state the test command"
    );
    assert!(
        ci.contains("cargo test --workspace"),
        ".ci/run must run the README's test command"
    );
    assert!(
        ci.contains("cargo fmt --all --check") && ci.contains("-D warnings"),
        ".ci/run must check formatting and lints"
    );
}

#[test]
fn sql_files_are_pinned_to_lf() {
    // sqlx checksums raw bytes: a CRLF checkout would look like an edited migration.
    let attrs = std::fs::read_to_string(root().join(".gitattributes")).unwrap_or_default();
    assert!(
        attrs.lines().any(|l| l.trim() == "*.sql text eol=lf"),
        "add `*.sql text eol=lf` to .gitattributes"
    );
}

#[test]
fn no_openssl_in_the_dependency_graph() {
    let lock = read("Cargo.lock");
    for banned in ["name = \"openssl-sys\"", "name = \"native-tls\""] {
        assert!(
            !lock.contains(banned),
            "Cargo.lock contains {banned}: TLS must go through rustls"
        );
    }
}

/// `.railway/railway.ts` itself is evaluated with the real SDK by the unit tests in
/// xtask/src/remote/railway_ts_tests.rs; here, the image it builds.
#[test]
fn the_image_runs_the_backend_as_pid_1() {
    let docker = read("Dockerfile");
    assert!(
        docker.contains("CMD [\"/app/backend\", \"serve\"]"),
        "exec-form CMD: the binary must be PID 1 to get SIGTERM"
    );
    for line in docker
        .lines()
        .filter(|l| l.starts_with("CMD") || l.starts_with("ENTRYPOINT"))
    {
        assert!(
            line.contains('['),
            "shell-form `{line}` would put a shell between Railway's SIGTERM and the backend"
        );
    }
}
