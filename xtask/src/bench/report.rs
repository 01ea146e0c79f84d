//! The benchmark's table, and its JSON and Markdown copies under target/bench/.

use std::fmt::Write as _;

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub name: String,
    pub ours: String,
    pub anchor: String,
    /// ours / anchor where both are numbers of the same kind.
    pub ratio: Option<f64>,
    pub target: String,
    /// `pass`, `miss`, `skip` or `info`.
    pub verdict: &'static str,
    pub note: String,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub generated_at: String,
    pub machine: String,
    pub rows: Vec<Row>,
}

impl Report {
    pub fn table(&self) -> String {
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

    pub fn markdown(&self) -> String {
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
