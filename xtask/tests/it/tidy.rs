//! Repository rules, checked by `cargo test` like everything else.

use crate::common::{read, root};

#[test]
fn every_variable_is_documented_in_the_example_and_the_docs() {
    let example = read(".env.example");
    let doc = read("docs/configuration.md");
    for var in intowork_config::VARIABLES {
        assert_contains!(
            example,
            &format!("{}=", var.name),
            "`.env.example` does not mention {}: add it, commented",
            var.name
        );
        assert_contains!(
            doc,
            &format!("`{}`", var.name),
            "docs/configuration.md's variable table lacks {}",
            var.name
        );
    }
}

#[test]
fn the_readme_quickstart_and_ci_agree() {
    let readme = read("README.md");
    let ci = read(".ci/run");
    assert_contains!(
        readme,
        "cargo test --workspace",
        "README must state the test command"
    );
    assert_contains!(
        ci,
        "cargo test --workspace",
        ".ci/run must run the README's test command"
    );
    assert_contains!(
        ci,
        "cargo fmt --all --check",
        ".ci/run must check formatting and lints"
    );
    assert_contains!(ci, "-D warnings", ".ci/run must check formatting and lints");
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
        assert_lacks!(
            lock,
            banned,
            "Cargo.lock contains {banned}: TLS must go through rustls"
        );
    }
}

/// `.railway/railway.ts` itself is evaluated with the real SDK by the unit tests in
/// xtask/src/verify/remote/railway_ts_tests.rs; here, the image it builds.
#[test]
fn the_image_runs_the_backend_as_pid_1() {
    let docker = read("Dockerfile");
    assert_contains!(
        docker,
        "CMD [\"/app/backend\", \"serve\"]",
        "exec-form CMD: the binary must be PID 1 to get SIGTERM"
    );
    for line in docker
        .lines()
        .filter(|l| l.starts_with("CMD") || l.starts_with("ENTRYPOINT"))
    {
        assert_contains!(
            line,
            '[',
            "shell-form `{line}` would put a shell between Railway's SIGTERM and the backend"
        );
    }
}

/// "No function over ~80 lines" in the workspace's `src/` (test code excepted): long
/// functions are where the next change goes wrong. The scan is textual: strings, character
/// literals and comments are blanked, then each `fn` is measured from its signature to the
/// brace that closes its body; `#[cfg(test)]` modules and `tests.rs` files are skipped.
#[test]
fn no_function_in_src_is_longer_than_80_lines() {
    const LIMIT: usize = 80;
    let mut long = Vec::new();
    for file in rust_sources(&root()) {
        let relative = file.strip_prefix(root()).unwrap().display().to_string();
        let is_src = relative
            .split('/')
            .any(|c| c == "src" || c == "fake-railway");
        if !is_src || relative.ends_with("tests.rs") || relative.contains("/tests/") {
            continue;
        }
        let text = blank_literals(&std::fs::read_to_string(&file).unwrap());
        for (name, line, length) in functions(&text) {
            if length > LIMIT {
                long.push(format!("{relative}:{line} `{name}` is {length} lines"));
            }
        }
    }
    assert!(
        long.is_empty(),
        "split these into named steps (at most {LIMIT} lines each):\n{}",
        long.join("\n")
    );
}

pub(crate) fn rust_sources(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() && !name.starts_with('.') && name != "target" && name != "node_modules" {
            found.extend(rust_sources(&path));
        } else if name.ends_with(".rs") {
            found.push(path);
        }
    }
    found
}

/// The text with the contents of strings, raw strings, character literals and comments
/// replaced by spaces (newlines kept), so that braces inside them do not count.
fn blank_literals(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < chars.len() {
        let rest = &chars[i..];
        let starts = |s: &str| rest.iter().take(s.len()).copied().eq(s.chars());
        let end = if starts("//") {
            rest.iter().position(|&c| c == '\n').unwrap_or(rest.len())
        } else if starts("/*") {
            (2..rest.len())
                .find(|&k| rest[k - 1] == '*' && rest[k] == '/')
                .map_or(rest.len(), |k| k + 1)
        } else if starts("r\"") || starts("r#") {
            let hashes = rest[1..].iter().take_while(|&&c| c == '#').count();
            let close: String = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let body = 2 + hashes;
            let tail: String = rest[body..].iter().collect();
            tail.find(&close).map_or(rest.len(), |k| {
                body + tail[..k].chars().count() + close.len()
            })
        } else if rest[0] == '"' {
            let mut k = 1;
            while k < rest.len() && rest[k] != '"' {
                k += if rest[k] == '\\' { 2 } else { 1 };
            }
            k + 1
        } else if rest[0] == '\'' && rest.len() > 2 && (rest[2] == '\'' || rest[1] == '\\') {
            rest[1..]
                .iter()
                .skip(1)
                .position(|&c| c == '\'')
                .map_or(1, |k| k + 3)
        } else {
            out.push(rest[0]);
            i += 1;
            continue;
        };
        let end = end.min(rest.len());
        out.extend(rest[..end].iter().map(|&c| blank(c)));
        i += end;
    }
    out
}

/// `(name, first line, length in lines)` of every function with a body, outside test modules.
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == "#[cfg(test)]"
            && lines
                .get(i + 1)
                .is_some_and(|l| l.trim_start().starts_with("mod "))
        {
            i = closing_line(&lines, i + 1).map_or(lines.len(), |end| end + 1);
            continue;
        }
        let words: Vec<&str> = lines[i].split_whitespace().collect();
        let fn_at = words.iter().position(|w| *w == "fn");
        let is_item = fn_at.is_some_and(|at| {
            words[..at]
                .iter()
                .all(|w| w.starts_with("pub") || ["async", "const", "unsafe", "extern"].contains(w))
        });
        if let (true, Some(at)) = (is_item, fn_at) {
            let name: String = words[at + 1]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if let Some(end) = closing_line(&lines, i) {
                out.push((name, i + 1, end - i + 1));
            }
        }
        i += 1;
    }
    out
}

/// The line of the brace that closes the first block opened at or after line `from`; `None`
/// for a declaration without a body (`fn f();`).
fn closing_line(lines: &[&str], from: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut opened = false;
    for (k, line) in lines.iter().enumerate().skip(from) {
        for c in line.chars() {
            match c {
                '{' => {
                    depth += 1;
                    opened = true;
                }
                '}' => depth = depth.saturating_sub(1),
                ';' if !opened => return None,
                _ => {}
            }
            if opened && depth == 0 {
                return Some(k);
            }
        }
    }
    None
}

/// A test that skips goes through `intowork_testkit::skip`, which writes the line the CI
/// scripts count: a bare line on stderr would be seen only on failure.
#[test]
fn every_skip_goes_through_the_test_kit() {
    let mut offenders = Vec::new();
    let mut stack = vec![root()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if !name.starts_with('.') && !["target", "node_modules"].contains(&name.as_str()) {
                    stack.push(path);
                }
                continue;
            }
            if !name.ends_with(".rs") || path.ends_with("crates/testkit/src/skip.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let squashed: String = text.split_whitespace().collect();
            // Built here, so that this file does not hold what it looks for.
            let printed = format!("println!(\"{}", intowork_testkit::SKIP_MARKER);
            if squashed.contains(&printed) {
                offenders.push(path.display().to_string());
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "say a skip with `intowork_testkit::skip(reason)` (counted by .ci/run): {offenders:?}"
    );
}
