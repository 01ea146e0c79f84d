//! Processes, through the kernel's own interfaces: signals by `kill(2)` and the process table
//! from `/proc` — never procps' `kill`, `pkill`, `pgrep` or `ps`, which minimal Debian lacks.
//!
//! ```no_run
//! use intowork_testkit::process::{self, Signal};
//!
//! let pid = std::process::id();
//! for child in process::children(pid) {
//!     process::signal(child, Signal::STOP);
//! }
//! ```

use std::fs;

use rustix::io::Errno;
pub use rustix::process::Signal;
use rustix::process::{Pid, kill_process};

/// Sends `signal` to `pid`; panics when it cannot (a process that already exited included:
/// a test that signals expects its target alive).
pub fn signal(pid: u32, signal: Signal) {
    if let Err(e) = try_signal(pid, signal) {
        panic!("intowork-testkit: cannot send {signal:?} to process {pid}: {e}");
    }
}

/// A signal by the name `kill -NAME` takes (`TERM`, `INT`, `KILL`, `HUP`, `QUIT`, `STOP`,
/// `CONT`, `USR1`, `USR2`); panics on any other.
pub fn named(name: &str) -> Signal {
    match name.trim_start_matches("SIG") {
        "TERM" => Signal::TERM,
        "INT" => Signal::INT,
        "KILL" => Signal::KILL,
        "HUP" => Signal::HUP,
        "QUIT" => Signal::QUIT,
        "STOP" => Signal::STOP,
        "CONT" => Signal::CONT,
        "USR1" => Signal::USR1,
        "USR2" => Signal::USR2,
        _ => panic!("intowork-testkit: `{name}` is not a signal name this helper knows"),
    }
}

/// [`signal`] without the panic; `Errno::SRCH` when the process is gone.
pub fn try_signal(pid: u32, signal: Signal) -> Result<(), Errno> {
    let target = i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .ok_or(Errno::INVAL)?;
    kill_process(target, signal)
}

/// The process ids whose parent is `pid` (what `pkill -P` matches), read from `/proc`.
pub fn children(pid: u32) -> Vec<u32> {
    processes()
        .into_iter()
        .filter(|p| p.parent == pid)
        .map(|p| p.pid)
        .collect()
}

/// One row of the process table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub pid: u32,
    pub parent: u32,
    /// The arguments joined with spaces (what `pgrep -a` shows); empty for kernel threads.
    pub command_line: String,
}

/// Every process visible in `/proc` now; one that exits while being read is left out.
pub fn processes() -> Vec<Process> {
    let Ok(entries) = fs::read_dir("/proc") else {
        panic!("intowork-testkit: cannot read /proc (Linux only)");
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(read_process)
        .collect()
}

fn read_process(pid: u32) -> Option<Process> {
    let dir = format!("/proc/{pid}");
    let stat = fs::read_to_string(format!("{dir}/stat")).ok()?;
    let command_line = fs::read(format!("{dir}/cmdline")).ok()?;
    Some(Process {
        pid,
        parent: parent_from_stat(&stat)?,
        command_line: command_line
            .split(|&b| b == 0)
            .filter(|arg| !arg.is_empty())
            .map(String::from_utf8_lossy)
            .collect::<Vec<_>>()
            .join(" "),
    })
}

/// `/proc/<pid>/stat` is `pid (comm) state ppid …`; `comm` may hold spaces and parentheses,
/// so the fields start after the last `)`.
fn parent_from_stat(stat: &str) -> Option<u32> {
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parent_is_read_past_a_command_name_with_parentheses() {
        assert_eq!(parent_from_stat("42 (a) b (c)) S 7 42 42 0"), Some(7));
        assert_eq!(parent_from_stat("1 (init) S 0 1 1"), Some(0));
        assert_eq!(parent_from_stat("garbage"), None);
    }

    #[test]
    fn this_process_is_in_the_table_with_its_parent() {
        let me = std::process::id();
        let table = processes();
        let row = table.iter().find(|p| p.pid == me).expect("this process");
        assert_eq!(row.parent, std::os::unix::process::parent_id());
        assert!(children(row.parent).contains(&me));
    }
}
