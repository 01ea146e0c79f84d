//! Which account runs `initdb`, `pg_ctl` and `postgres`: they refuse to run as root, and CI
//! runs as root, so then they run as the `postgres` system user (switched to with `setpriv`),
//! otherwise as ourselves. Files they must own are handed over with `chown(2)`.

use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, chown};
use std::path::Path;

use crate::error::{Component, Missing};

/// The system account the server runs as when we are root.
pub const SERVER_ACCOUNT: &str = "postgres";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerUser {
    /// We are not root: the server runs as us.
    Current,
    /// We are root: the server runs as the `postgres` system user.
    Account { uid: u32, gid: u32 },
}

impl ServerUser {
    /// The account for this process, or what is missing (root without a `postgres` user).
    pub fn detect() -> Result<ServerUser, Missing> {
        if !is_root() {
            return Ok(ServerUser::Current);
        }
        postgres_account().ok_or_else(|| Missing {
            component: Component::ServerAccount,
            detail: format!(
                "running as root, but there is no `{SERVER_ACCOUNT}` system user to run initdb/postgres as (they refuse root)"
            ),
        })
    }

    /// `setpriv` options that switch to the server account (empty when no switch is needed).
    pub fn setpriv_args(&self) -> Vec<String> {
        match self {
            ServerUser::Current => Vec::new(),
            ServerUser::Account { uid, gid } => vec![
                format!("--reuid={uid}"),
                format!("--regid={gid}"),
                "--init-groups".to_owned(),
            ],
        }
    }

    /// Hands a file or directory we created to the server account, which must own its data
    /// directory and key file.
    pub fn give(&self, path: &Path) -> io::Result<()> {
        match self {
            ServerUser::Current => Ok(()),
            ServerUser::Account { uid, gid } => chown(path, Some(*uid), Some(*gid)),
        }
    }

    /// Whether the server account can enter `dir` (always true when it is us).
    pub fn can_traverse(&self, dir: &Path) -> bool {
        match self {
            ServerUser::Current => true,
            ServerUser::Account { uid, gid } => fs::metadata(dir).is_ok_and(|m| {
                let mode = m.mode();
                (m.uid() == *uid && mode & 0o100 != 0)
                    || (m.gid() == *gid && mode & 0o010 != 0)
                    || mode & 0o001 != 0
            }),
        }
    }

    /// Whether the server account can reach `path`: every directory above it can be entered.
    pub fn can_reach(&self, path: &Path) -> bool {
        path.ancestors().skip(1).all(|dir| self.can_traverse(dir))
    }
}

/// Read from /proc because the workspace forbids the `unsafe` a `geteuid()` call needs.
/// `None` where there is no /proc (not Linux).
pub(crate) fn effective_uid() -> Option<u32> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .and_then(|euid| euid.parse().ok())
}

pub fn is_root() -> bool {
    effective_uid() == Some(0)
}

fn postgres_account() -> Option<ServerUser> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        match fields.as_slice() {
            [name, _, uid, gid, ..] if *name == SERVER_ACCOUNT => Some(ServerUser::Account {
                uid: uid.parse().ok()?,
                gid: gid.parse().ok()?,
            }),
            _ => None,
        }
    })
}
