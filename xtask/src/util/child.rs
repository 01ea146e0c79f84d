//! Stopping a supervised child the way Railway stops a deployment.

use std::process::Child;
use std::time::{Duration, Instant};

use anyhow::Context;
use rustix::io::Errno;
use rustix::process::{Pid, Signal, kill_process};

/// How long a SIGTERMed child gets before it is killed.
pub(crate) const STOP_BUDGET: Duration = Duration::from_secs(30);

/// SIGTERM, as Railway stops a deployment, then wait; killed after [`STOP_BUDGET`]. The exit
/// code (`None` when it had to be killed).
pub(crate) fn terminate(child: &mut Child) -> anyhow::Result<Option<i32>> {
    if let Err(e) = sigterm(child.id()) {
        // Never leave it running: it gets SIGKILL, and the error says why not SIGTERM.
        let _ = child.kill();
        let _ = child.wait();
        return Err(e);
    }
    let deadline = Instant::now() + STOP_BUDGET;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status.code());
        }
        if Instant::now() >= deadline {
            child.kill()?;
            child.wait()?;
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `kill(2)` with SIGTERM; a process that is already gone is not an error.
pub(crate) fn sigterm(pid: u32) -> anyhow::Result<()> {
    let target = i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .with_context(|| format!("`{pid}` is not a process id"))?;
    match kill_process(target, Signal::TERM) {
        Ok(()) | Err(Errno::SRCH) => Ok(()),
        Err(e) => Err(e).with_context(|| format!("failed to send SIGTERM to process {pid}")),
    }
}
