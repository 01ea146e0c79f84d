//! Which account runs `initdb` and `postgres`: both refuse to run as root, and CI runs as
//! root, so then they run as the `postgres` system user; otherwise as ourselves.

use std::fs;
use std::os::unix::fs::{MetadataExt, chown};
use std::path::Path;
use std::sync::OnceLock;

#[derive(Debug)]
struct Account {
    uid: u32,
    gid: u32,
}

/// `None` when we are not root (the server then runs as the current user).
fn server_account() -> Option<&'static Account> {
    static ACCOUNT: OnceLock<Option<Account>> = OnceLock::new();
    ACCOUNT
        .get_or_init(|| {
            (effective_uid() == 0).then(|| {
                postgres_account().expect(
                    "intowork-testkit: running as root, but there is no `postgres` user in \
                     /etc/passwd to run initdb/postgres as (they refuse root): \
                     `apt-get install -y postgresql` creates it",
                )
            })
        })
        .as_ref()
}

/// `setpriv` options that switch to the server account (empty when no switch is needed).
pub(crate) fn setpriv_switch_args() -> Vec<String> {
    match server_account() {
        Some(account) => vec![
            format!("--reuid={}", account.uid),
            format!("--regid={}", account.gid),
            "--init-groups".to_owned(),
        ],
        None => Vec::new(),
    }
}

/// Hands a file or directory we created to the server account, which must own its data
/// directory and key file.
pub(crate) fn give_to_server(path: &Path) {
    if let Some(account) = server_account() {
        chown(path, Some(account.uid), Some(account.gid)).unwrap_or_else(|e| {
            panic!(
                "intowork-testkit: cannot chown `{}` to the postgres user: {e}",
                path.display()
            )
        });
    }
}

/// Whether a directory can be traversed by the server account (always true when it is us).
pub(crate) fn server_can_traverse(dir: &Path) -> bool {
    match server_account() {
        None => true,
        Some(account) => fs::metadata(dir).is_ok_and(|m| {
            let mode = m.mode();
            (m.uid() == account.uid && mode & 0o100 != 0)
                || (m.gid() == account.gid && mode & 0o010 != 0)
                || mode & 0o001 != 0
        }),
    }
}

/// Read from /proc because the workspace forbids the `unsafe` a `geteuid()` call needs.
pub(crate) fn effective_uid() -> u32 {
    let status = fs::read_to_string("/proc/self/status")
        .expect("intowork-testkit: cannot read /proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .and_then(|euid| euid.parse().ok())
        .expect("intowork-testkit: no effective uid in /proc/self/status")
}

fn postgres_account() -> Option<Account> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        match fields.as_slice() {
            ["postgres", _, uid, gid, ..] => Some(Account {
                uid: uid.parse().ok()?,
                gid: gid.parse().ok()?,
            }),
            _ => None,
        }
    })
}
