//! What is there and what is not: PostgreSQL through pglocal's lookup, every other entry of
//! the package list through its programs on PATH (or in the entry's own directories).

use intowork_pglocal::{MissingPrerequisites, Pg};
use intowork_prereqs::{Lookup, PACKAGES, Package};

use super::plan::Missing;

/// What the lookups found: PostgreSQL (pglocal's lookup) and every other package of the list
/// (its programs on PATH, or in its own directories).
pub(super) struct Survey {
    pg: Result<Pg, MissingPrerequisites>,
    /// Packages with a program not found, and that program.
    off_path: Vec<(&'static Package, &'static str)>,
}

impl Survey {
    pub(super) fn take() -> Survey {
        let off_path = PACKAGES
            .iter()
            .filter_map(|p| {
                let absent = match p.lookup {
                    Lookup::Pglocal => None,
                    // Any Chromium-family browser will do (the test kit's own lookup).
                    Lookup::Browser => intowork_prereqs::find_browser(crate::util::which::find)
                        .err()
                        .map(|_| &p.programs[0]),
                    Lookup::Path | Lookup::PathOr(_) => p
                        .programs
                        .iter()
                        .find(|&&name| intowork_pglocal::find_program(p, name).is_none()),
                };
                absent.map(|&name| (p, name))
            })
            .collect();
        Survey {
            pg: Pg::find(),
            off_path,
        }
    }

    pub(super) fn missing(&self) -> Missing {
        let components = self
            .pg
            .as_ref()
            .err()
            .map(|m| m.components())
            .unwrap_or_default();
        let off_path: Vec<&'static Package> = self.off_path.iter().map(|(p, _)| *p).collect();
        Missing::new(&components, &off_path)
    }

    /// PostgreSQL, when nothing at all is missing.
    pub(super) fn complete(self) -> Result<Pg, Box<Survey>> {
        match self.pg {
            Ok(pg) if self.off_path.is_empty() => Ok(pg),
            pg => Err(Box::new(Survey { pg, ..self })),
        }
    }
}

/// What is missing, each with what it is for.
impl std::fmt::Display for Survey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts: Vec<String> = self
            .pg
            .as_ref()
            .err()
            .map(ToString::to_string)
            .into_iter()
            .collect();
        parts.extend(self.off_path.iter().map(|(package, program)| {
            match package.lookup {
                Lookup::Browser => intowork_prereqs::find_browser(crate::util::which::find)
                    .err()
                    .unwrap_or_default(),
                _ => format!(
                    "`{program}` is not installed (needed for {})",
                    package.needed_for
                ),
            }
        }));
        f.write_str(&parts.join("; "))
    }
}
