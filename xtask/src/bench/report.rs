//! The benchmark's table, and its JSON and Markdown copies under target/bench/.

use std::fmt::{self, Write as _};

use serde::Serialize;

/// How a row compares with its target; decided on numbers, never on this text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum TargetVerdict {
    Pass,
    Miss,
    /// Not measured (a missing anchor tool, a skipped step).
    Skip,
    /// Reported, with no target.
    Info,
}

impl TargetVerdict {
    /// `Pass` when the measure is within its limit.
    pub(crate) fn within(ok: bool) -> TargetVerdict {
        if ok {
            TargetVerdict::Pass
        } else {
            TargetVerdict::Miss
        }
    }
}

impl fmt::Display for TargetVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TargetVerdict::Pass => "pass",
            TargetVerdict::Miss => "miss",
            TargetVerdict::Skip => "skip",
            TargetVerdict::Info => "info",
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Row {
    pub(crate) name: String,
    pub(crate) ours: String,
    pub(crate) anchor: String,
    /// ours / anchor where both are numbers of the same kind.
    pub(crate) ratio: Option<f64>,
    pub(crate) target: String,
    pub(crate) verdict: TargetVerdict,
    pub(crate) note: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Report {
    pub(crate) generated_at: String,
    pub(crate) machine: String,
    pub(crate) rows: Vec<Row>,
}

impl Report {
    pub(crate) fn table(&self) -> String {
        let mut out = String::from(
            "| measure | ours | anchor | ratio | target | result |\n|---|---|---|---|---|---|\n",
        );
        for r in &self.rows {
            let ratio = r
                .ratio
                .map(|x| format!("{x:.2}×"))
                .unwrap_or_else(|| "—".into());
            let _ = writeln!(
                out,
                "| {} | {} | {} | {ratio} | {} | {} |",
                r.name, r.ours, r.anchor, r.target, r.verdict
            );
        }
        out
    }

    pub(crate) fn markdown(&self) -> String {
        let mut out = format!(
            "# Benchmark report\n\n{} — {}\n\n{}\n",
            self.generated_at,
            self.machine,
            self.table()
        );
        let notes: Vec<&Row> = self.rows.iter().filter(|r| !r.note.is_empty()).collect();
        if !notes.is_empty() {
            out.push_str("\nNotes:\n");
            for r in notes {
                let _ = writeln!(out, "- {}: {}", r.name, r.note);
            }
        }
        out
    }
}

/// The document `--readme` writes the table into (it moved there from README.md).
pub(crate) const TABLE_DOC: &str = "docs/performance.md";

/// Where that document's generated table starts and ends.
const BEGIN: &str = "<!-- bench:begin";
const END: &str = "<!-- bench:end -->";

impl Report {
    /// The performance doc's copy: how it was made, on what, then the table.
    pub(crate) fn readme_block(&self, command: &str) -> String {
        format!(
            "{BEGIN} (written by `cargo xtask bench --readme`: do not edit by hand) -->\n\
             `{command}`, {} — {}\n\n{}{END}",
            self.generated_at,
            self.machine,
            self.table()
        )
    }
}

/// `doc` with its block between the bench markers replaced by `block`.
pub(crate) fn splice(doc: &str, block: &str) -> anyhow::Result<String> {
    let begin = doc.find(BEGIN);
    let end = doc.find(END).map(|e| e + END.len());
    match (begin, end) {
        (Some(b), Some(e)) if b < e => Ok(format!("{}{block}{}", &doc[..b], &doc[e..])),
        _ => anyhow::bail!(
            "{TABLE_DOC} has no `{BEGIN} … -->` … `{END}` block: add the two markers where the table goes"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_read_the_same_in_the_table_and_the_json() {
        for (verdict, word) in [
            (TargetVerdict::Pass, "pass"),
            (TargetVerdict::Miss, "miss"),
            (TargetVerdict::Skip, "skip"),
            (TargetVerdict::Info, "info"),
        ] {
            assert_eq!(verdict.to_string(), word);
            assert_eq!(
                serde_json::to_string(&verdict).unwrap(),
                format!("\"{word}\"")
            );
        }
    }

    #[test]
    fn the_readme_block_is_replaced_and_nothing_else() {
        let report = Report {
            generated_at: "2026-12-06 08:00 UTC".into(),
            machine: "2 cores".into(),
            rows: vec![],
        };
        let block = report.readme_block("cargo xtask bench --readme");
        let readme = format!("intro\n{BEGIN} old -->\nold table\n{END}\noutro\n");
        let new = splice(&readme, &block).unwrap();
        assert!(new.starts_with("intro\n<!-- bench:begin"), "{new}");
        assert!(new.ends_with(&format!("{END}\noutro\n")), "{new}");
        assert!(new.contains("`cargo xtask bench --readme`, 2026-12-06 08:00 UTC — 2 cores"));
        assert!(!new.contains("old table"));
        assert_eq!(splice(&new, &block).unwrap(), new, "idempotent");
        assert!(splice("no markers", &block).is_err());
    }

    /// `bench --readme` writes into docs/performance.md: its markers are there, once.
    #[test]
    fn the_performance_doc_has_the_bench_markers() {
        let root = crate::util::config_source::project_root();
        let doc = std::fs::read_to_string(root.join(TABLE_DOC)).unwrap();
        assert_eq!(doc.matches(BEGIN).count(), 1, "{TABLE_DOC}");
        assert_eq!(doc.matches(END).count(), 1, "{TABLE_DOC}");
        let block = Report {
            generated_at: "2026-12-06 08:00 UTC".into(),
            machine: "2 cores".into(),
            rows: vec![],
        }
        .readme_block("cargo xtask bench --readme");
        assert!(splice(&doc, &block).unwrap().contains(&block));
        let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
        assert!(
            !readme.contains(BEGIN),
            "the table lives in {TABLE_DOC}, not README.md"
        );
    }
}
