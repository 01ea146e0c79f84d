//! Migrations that shipped before the lint existed. A production database may have applied
//! them, and sqlx stores each applied file's checksum: editing one — even to add a reviewed
//! `-- migrate-lint: allow` comment — makes every such database refuse the set as drift
//! (`verify --remote` reports it as `schema.applied`). So their reviews live here instead,
//! each pinned to the file's checksum: an edit makes the entry stale, which is a problem of
//! its own, and a new file can never hide behind this list.

use super::{Finding, MigrationFile, Problem};

/// One reviewed finding of a released file.
struct Released {
    version: i64,
    /// SHA-384 of the file as released (sqlx's checksum), in hex.
    sha384: &'static str,
    rule: &'static str,
    reason: &'static str,
}

const RELEASED: &[Released] = &[Released {
    version: 20261201000002,
    sha384: "535a785824c79118f39333fc53d33a7283091c12f7edf55c92f424c9b92f37358ad444542d54cdcafa652ac223c14330",
    rule: "require-concurrent-index-creation",
    reason: "released on 2026-11-30, before the lint, while `applications` was new and small (the build took milliseconds); databases have applied it, so the file stays as it was",
}];

/// Marks the findings a released file's review covers; a review whose file changed since
/// (checksum differs) is a problem.
pub(super) fn apply(file: &MigrationFile, findings: &mut [Finding]) -> Vec<Problem> {
    let mut problems = Vec::new();
    for r in RELEASED.iter().filter(|r| r.version == file.version) {
        if hex(&file.checksum) != r.sha384 {
            problems.push(Problem {
                rule: "released-file-edited",
                line: 1,
                message: format!(
                    "migration {} was released before the lint and is reviewed by checksum in xtask/src/migrate/lint/released.rs, but the file changed since: databases that applied it will refuse the set as drift; restore the released text (`git log -p -- {}`) and put the change in a new migration",
                    file.version, file.path
                ),
            });
            continue;
        }
        for f in findings.iter_mut().filter(|f| f.rule == r.rule) {
            f.excepted = Some(format!("(reviewed at release, by checksum) {}", r.reason));
        }
    }
    problems
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The checksum sqlx stores for `sql` (for the tests: the pins above must match).
#[cfg(test)]
fn checksum(sql: &str) -> String {
    use sha2::{Digest, Sha384};
    hex(&Sha384::digest(sql.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_review_pins_a_file_of_the_repository_as_released() {
        for r in RELEASED {
            let dir = crate::util::config_source::project_root().join("migrations");
            let name = std::fs::read_dir(&dir)
                .unwrap()
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .find(|n| n.starts_with(&format!("{}_", r.version)) && n.ends_with(".up.sql"))
                .unwrap_or_else(|| panic!("no up migration {} in migrations/", r.version));
            let sql = std::fs::read_to_string(dir.join(&name)).unwrap();
            assert_eq!(checksum(&sql), r.sha384, "{name} changed since its release");
            assert!(super::super::RULES.contains(&r.rule), "{}", r.rule);
        }
    }
}
