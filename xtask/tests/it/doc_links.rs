//! Tidy: README.md and docs/ link to each other; every relative link must land on a file that
//! exists and, when it names a `#section`, on a heading that exists (GitHub's anchors).

use crate::common::{read, root};

/// README.md and every Markdown file under docs/, as paths relative to the root.
fn documents() -> Vec<String> {
    let mut docs = vec!["README.md".to_owned()];
    let dir = root().join("docs");
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("failed to read docs/: {e}"));
    for entry in entries {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".md") {
            docs.push(format!("docs/{name}"));
        }
    }
    docs.sort();
    docs
}

/// The targets of `[text](target)` links outside code blocks and code spans.
fn links(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        }
        if fenced {
            continue;
        }
        // Code spans may hold `](`: drop them first.
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let mut rest = prose.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            if let Some(end) = rest.find(')') {
                found.push(rest[..end].to_owned());
                rest = &rest[end..];
            }
        }
    }
    found
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c.to_lowercase().next().unwrap()),
            _ => None,
        })
        .collect()
}

/// The anchors of a document's headings (outside code blocks).
fn anchors(markdown: &str) -> Vec<String> {
    let mut fenced = false;
    let mut out = Vec::new();
    for line in markdown.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        }
        if !fenced && line.starts_with('#') {
            out.push(anchor(line.trim_start_matches('#')));
        }
    }
    out
}

#[test]
fn the_anchor_of_a_heading_is_githubs() {
    assert_eq!(
        anchor(" `cargo xtask migrate run|status|revert|add|lint`"),
        "cargo-xtask-migrate-runstatusrevertaddlint"
    );
    assert_eq!(
        anchor(" Changing the schema safely: two releases"),
        "changing-the-schema-safely-two-releases"
    );
}

#[test]
fn every_relative_link_in_the_readme_and_docs_resolves() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for doc in documents() {
        let text = read(&doc);
        let dir = std::path::Path::new(&doc).parent().unwrap().to_path_buf();
        for target in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (file, fragment) = target.split_once('#').unwrap_or((&target, ""));
            let path = if file.is_empty() {
                std::path::PathBuf::from(&doc)
            } else {
                dir.join(file)
            };
            let Ok(linked) = std::fs::read_to_string(root().join(&path)) else {
                if !root().join(&path).is_dir() {
                    broken.push(format!("{doc}: ({target}): no file {}", path.display()));
                }
                continue;
            };
            if !fragment.is_empty() && !anchors(&linked).iter().any(|a| a == fragment) {
                broken.push(format!(
                    "{doc}: ({target}): no heading #{fragment} in {}",
                    path.display()
                ));
            }
        }
    }
    assert!(
        checked >= 12,
        "only {checked} relative links found: is the parser broken?"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}
