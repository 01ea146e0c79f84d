//! What the xtask CLI tests share.

pub mod backend;
pub mod fake_cli;
pub mod health;

/// A finished run of a binary under test: its exit code and its output as text.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<std::process::Output> for Run {
    fn from(out: std::process::Output) -> Run {
        Run {
            code: out.status.code().expect("exited, not killed by a signal"),
            stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
        }
    }
}

/// The repository's root directory.
pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ lives in the repository")
        .to_path_buf()
}

/// A file of the repository, as text.
pub fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path))
        .unwrap_or_else(|e| panic!("failed to read `{path}`: {e}"))
}

/// The check `id` of `verify --json`'s document, if it reported one (a document without a
/// `checks` array panics).
pub fn find_check<'a>(doc: &'a serde_json::Value, id: &str) -> Option<&'a serde_json::Value> {
    let checks = doc["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("no `checks` array in {doc:#}"));
    checks.iter().find(|c| c["id"] == id)
}

/// The check `id` of `verify --json`'s document; panics naming it when absent.
pub fn check<'a>(doc: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    find_check(doc, id).unwrap_or_else(|| panic!("no check {id} in {doc:#}"))
}
