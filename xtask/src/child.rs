//! Stopping a supervised child the way Railway stops a deployment.

use std::process::Child;
use std::time::{Duration, Instant};

use xshell::{Shell, cmd};

/// How long a SIGTERMed child gets before it is killed.
pub(crate) const STOP_BUDGET: Duration = Duration::from_secs(30);

/// SIGTERM, as Railway stops a deployment, then wait; killed after [`STOP_BUDGET`]. The exit
/// code (`None` when it had to be killed).
pub(crate) fn terminate(child: &mut Child) -> anyhow::Result<Option<i32>> {
    let sh = Shell::new()?;
    let pid = child.id().to_string();
    let _ = cmd!(sh, "kill -TERM {pid}").quiet().ignore_stderr().run();
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
