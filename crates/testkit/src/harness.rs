//! What every server of a test binary shares, found once: the PostgreSQL installation, the
//! temp tree, the initdb template. Failures panic here, with the message a new machine needs.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use intowork_pglocal::{Pg, Server, Workdir};

/// `<tmp>/intowork-testkit/<pid>-<label>`: CI's leftover check looks for this name.
const TREE: &str = "intowork-testkit";

/// The installation, or a panic that says how to install it (the first thing a new machine hits).
pub(crate) fn pg() -> &'static Pg {
    static PG: OnceLock<Pg> = OnceLock::new();
    PG.get_or_init(|| {
        Pg::find().unwrap_or_else(|missing| {
            panic!(
                "intowork-testkit: {missing} (`cargo xtask dev --check` installs what is missing)"
            )
        })
    })
}

/// A fresh directory for one cluster (or the template).
pub(crate) fn new_dir(label: &str) -> PathBuf {
    static WORKDIR: OnceLock<Workdir> = OnceLock::new();
    WORKDIR
        .get_or_init(|| Workdir::open(TREE, pg().user).unwrap_or_else(|e| fail("", &e)))
        .new_dir(label)
        .unwrap_or_else(|e| fail("", &e))
}

/// `initdb` is the slow step (~0.6 s here, more on a loaded runner), so it runs once per test
/// binary into a template; each cluster starts as a copy of it.
pub(crate) fn template() -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let started = Instant::now();
        let data = Server::make_template(pg(), &new_dir("template"))
            .unwrap_or_else(|e| fail("initdb of the template: ", &e));
        eprintln!(
            "intowork-testkit: initdb of the template took {:.2?}",
            started.elapsed()
        );
        data
    })
}

/// Panics with the error and its causes, on one line each.
pub(crate) fn fail(context: &str, error: &dyn std::error::Error) -> ! {
    let mut message = format!("intowork-testkit: {context}{error}");
    let mut cause = error.source();
    while let Some(e) = cause {
        message.push_str(&format!(": {e}"));
        cause = e.source();
    }
    panic!("{message}")
}
