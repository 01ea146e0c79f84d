//! The benchmark's table, and its JSON and Markdown copies under target/bench/.

use std::fmt::Write as _;

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Row {
    pub(crate) name: String,
    pub(crate) ours: String,
    pub(crate) anchor: String,
    /// ours / anchor where both are numbers of the same kind.
    pub(crate) ratio: Option<f64>,
    pub(crate) target: String,
    /// `pass`, `miss`, `skip` or `info`.
    pub(crate) verdict: &'static str,
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
