//! Temp trees for throwaway clusters: `<tmp>/<name>/<pid>-<label>`, one directory per
//! cluster. Directories of dead processes are removed when a tree is opened, because a
//! killed process — or a server in a static, which is never dropped — cannot clean up
//! after itself.

use std::env;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process;
use std::sync::{Mutex, PoisonError};

use crate::error::Error;
use crate::server_user::{ServerUser, effective_uid};

/// A unix socket path holds at most 107 bytes, and `/<pid>-<n>/s/.s.PGSQL.<port>` adds up to
/// ~40 to the base: a longer base makes the server fail with a confusing error.
const MAX_BASE_LEN: usize = 60;

/// `<tmp>/<name>`, shared by every process that uses the same name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workdir {
    base: PathBuf,
    user: ServerUser,
}

impl Workdir {
    /// Creates (or opens) the tree and, the first time in this process, removes what dead
    /// processes left in it.
    pub fn open(name: &str, user: ServerUser) -> Result<Workdir, Error> {
        static CLEANED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
        let base = choose_base(name, user);
        fs::create_dir_all(&base).map_err(Error::io("create", &base))?;
        // Sticky and world-writable like /tmp, so root (CI) and a developer's account can both
        // use it; only the owner can change the mode.
        if fs::metadata(&base).is_ok_and(|m| Some(m.uid()) == effective_uid()) {
            let _ = fs::set_permissions(&base, fs::Permissions::from_mode(0o1777));
        }
        let mut cleaned = CLEANED.lock().unwrap_or_else(PoisonError::into_inner);
        if !cleaned.contains(&base) {
            remove_stale(&base);
            cleaned.push(base.clone());
        }
        Ok(Workdir { base, user })
    }

    /// A fresh, empty directory `<base>/<pid>-<label>`, traversable by the server account.
    pub fn new_dir(&self, label: &str) -> Result<PathBuf, Error> {
        let dir = self.base.join(format!("{}-{label}", process::id()));
        fs::create_dir(&dir).map_err(Error::io("create", &dir))?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755))
            .map_err(Error::io("chmod", &dir))?;
        self.user.give(&dir).map_err(Error::io("chown", &dir))?;
        Ok(dir)
    }
}

/// `$TMPDIR/<name>`, unless that path is too long for unix sockets or, when the server runs
/// as another user, not traversable by it (e.g. TMPDIR under /root).
fn choose_base(name: &str, user: ServerUser) -> PathBuf {
    let preferred = env::temp_dir().join(name);
    let short_enough = preferred.as_os_str().len() <= MAX_BASE_LEN;
    if short_enough && user.can_reach(&preferred) {
        preferred
    } else {
        Path::new("/tmp").join(name)
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
