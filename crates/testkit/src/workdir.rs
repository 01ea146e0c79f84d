//! The temp tree: `<tmp>/intowork-testkit/<pid>-<label>`, one directory per cluster (and one
//! for the initdb template). Directories of dead processes are removed at start-up, because a
//! killed test binary — or the shared servers, which live in statics that are never dropped —
//! cannot clean up after themselves.

use std::env;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::server_user::{effective_uid, give_to_server, server_can_traverse};

const DIR_NAME: &str = "intowork-testkit";

/// A unix socket path holds at most 107 bytes, and `/<pid>-<n>/s/.s.PGSQL.<port>` adds up to
/// ~40 to the base: a longer base makes the server fail with a confusing error.
const MAX_BASE_LEN: usize = 60;

/// A fresh, empty directory for one cluster.
pub(crate) fn next_cluster_dir() -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    new_dir(&NEXT.fetch_add(1, Ordering::Relaxed).to_string())
}

/// A fresh directory `<base>/<pid>-<label>`, traversable by the server account.
pub(crate) fn new_dir(label: &str) -> PathBuf {
    let dir = base().join(format!("{}-{label}", process::id()));
    fs::create_dir(&dir)
        .unwrap_or_else(|e| panic!("intowork-testkit: cannot create `{}`: {e}", dir.display()));
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755))
        .expect("chmod a new test directory");
    give_to_server(&dir);
    dir
}

fn base() -> &'static Path {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        let base = choose_base();
        fs::create_dir_all(&base).unwrap_or_else(|e| {
            panic!("intowork-testkit: cannot create `{}`: {e}", base.display())
        });
        // Sticky and world-writable like /tmp, so root (CI) and a developer's account can both
        // use it; only the owner can change the mode.
        if fs::metadata(&base).is_ok_and(|m| m.uid() == effective_uid()) {
            let _ = fs::set_permissions(&base, fs::Permissions::from_mode(0o1777));
        }
        remove_stale(&base);
        base
    })
}

/// `$TMPDIR/intowork-testkit`, unless that path is too long for unix sockets or, when the
/// server runs as another user, not traversable by it (e.g. TMPDIR under /root).
fn choose_base() -> PathBuf {
    let preferred = env::temp_dir().join(DIR_NAME);
    let short_enough = preferred.as_os_str().len() <= MAX_BASE_LEN;
    let reachable = preferred.ancestors().skip(1).all(server_can_traverse);
    if short_enough && reachable {
        preferred
    } else {
        Path::new("/tmp").join(DIR_NAME)
    }
}

/// Removes `<pid>-*` directories whose process is gone, and our own pid's (a recycled pid:
/// nothing of ours exists yet). Errors are ignored: another user's leftovers are theirs.
fn remove_stale(base: &Path) {
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    let own_pid = process::id();
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == own_pid || !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}
