//! The report `--check` prints: each step with its duration.

use std::time::Duration;

pub(crate) struct Steps {
    quiet_until_summary: bool,
    lines: Vec<String>,
    pub(crate) failed: bool,
}

impl Steps {
    pub(crate) fn new(check: bool) -> Steps {
        Steps {
            quiet_until_summary: check,
            lines: Vec::new(),
            failed: false,
        }
    }

    pub(crate) fn pass(&mut self, step: &str, what: &str, took: Duration) {
        self.push(format!("ok    {step:<13} {what} ({} ms)", took.as_millis()));
    }

    pub(crate) fn fail(&mut self, step: &str, why: &str) {
        self.failed = true;
        self.push(format!("FAIL  {step:<13} {why}"));
    }

    fn push(&mut self, line: String) {
        if !self.quiet_until_summary {
            println!("{line}");
        }
        self.lines.push(line);
    }

    pub(crate) fn print_summary(&self) {
        println!("dev --check:");
        for l in &self.lines {
            println!("  {l}");
        }
        println!(
            "dev --check {}",
            if self.failed { "FAILED" } else { "passed" }
        );
    }
}
