//! The backend as a supervised child of `dev`: built with cargo, run with the stack's env file
//! under the process environment, stopped with SIGTERM like Railway stops it.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use xshell::Shell;

use super::stack::Stack;
use crate::util::child::{STOP_BUDGET, sigterm, terminate};
use crate::util::config_source;

/// `cargo build` of the backend binary; returns its path.
pub(crate) fn build(sh: &Shell, quiet: bool) -> anyhow::Result<PathBuf> {
    let mut args = vec!["build", "--package", "intowork-backend", "--bin", "backend"];
    if quiet {
        args.push("--quiet");
    }
    let build = crate::util::cargo::cargo(sh, &args);
    build.quiet().run().context("failed to build the backend")?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| config_source::project_root().join("target"));
    Ok(target.join("debug").join("backend"))
}

pub(crate) struct Backend {
    child: Child,
    pid_file: PathBuf,
}

impl Backend {
    /// The child inherits the process environment (which wins, as in every task); the stack's
    /// env file fills in what the environment does not set.
    // A long-running child that must be signalled and waited for: xshell only runs commands to
    // completion, so this is where std::process::Command is right.
    #[allow(clippy::disallowed_methods)]
    pub(crate) fn spawn(
        bin: &Path,
        stack: &Stack,
        port: u16,
        to_log: bool,
    ) -> anyhow::Result<Backend> {
        let file = intowork_config::Source::from_env_file(&stack.env_file())?;
        let mut command = std::process::Command::new(bin);
        command
            .arg("serve")
            .env("PORT", port.to_string())
            .stdin(Stdio::null());
        for name in file.names().filter_map(|n| n.to_str()) {
            if let Some(v) = file.get(name).filter(|_| std::env::var_os(name).is_none()) {
                command.env(name, &v.value);
            }
        }
        if to_log {
            let log = std::fs::File::create(stack.backend_log())?;
            command
                .env("LOG_FORMAT", "json")
                .stdout(log.try_clone()?)
                .stderr(log);
        } else if std::env::var_os("LOG_FORMAT").is_none() {
            command.env("LOG_FORMAT", "pretty");
        }
        let child = command
            .spawn()
            .with_context(|| format!("failed to start `{}`", bin.display()))?;
        let pid_file = stack.backend_pid();
        std::fs::write(&pid_file, child.id().to_string())?;
        Ok(Backend { child, pid_file })
    }

    /// SIGTERM, then wait (kill after the budget); the exit code.
    pub(crate) fn stop(&mut self) -> anyhow::Result<Option<i32>> {
        let code = terminate(&mut self.child);
        let _ = std::fs::remove_file(&self.pid_file);
        code
    }

    /// Until the backend exits by itself or Ctrl-C: the terminal's SIGINT reaches the backend
    /// too (same process group) and it drains; from a non-terminal, it gets SIGTERM from here.
    pub(crate) fn wait_interactive(&mut self) -> anyhow::Result<()> {
        crate::util::runtime::block_on(async {
            loop {
                if self.child.try_wait()?.is_some() {
                    let _ = std::fs::remove_file(&self.pid_file);
                    return Ok::<_, anyhow::Error>(());
                }
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {
                        self.stop()?;
                        return Ok(());
                    }
                    () = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
            }
        })?
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.stop();
        }
    }
}

/// A backend left running by an earlier `dev` (killed hard): SIGTERM it. Returns whether one ran.
pub(crate) fn stop_leftover(stack: &Stack) -> anyhow::Result<bool> {
    let Ok(pid) = std::fs::read_to_string(stack.backend_pid()) else {
        return Ok(false);
    };
    let _ = std::fs::remove_file(stack.backend_pid());
    let Ok(pid) = pid.trim().parse::<u32>() else {
        return Ok(false);
    };
    let alive = Path::new("/proc").join(pid.to_string()).join("cmdline");
    let is_backend =
        std::fs::read(&alive).is_ok_and(|c| String::from_utf8_lossy(&c).contains("backend"));
    if !is_backend {
        return Ok(false);
    }
    sigterm(pid)?;
    let deadline = Instant::now() + STOP_BUDGET;
    while alive.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(true)
}
