//! `cargo xtask <task>`: the same tasks on a laptop, in CI and for the release manager.
//! This file only dispatches; each task lives in its own module.

mod bench;
mod cargo;
mod checklist;
mod child;
mod config_source;
mod deploy;
mod dev;
mod diagnose;
mod exit;
mod flags;
mod follow;
mod health;
mod log_line;
mod logs;
mod mask;
mod migrate;
mod migrate_output;
mod prepare;
mod railway;
mod release;
mod remote;
mod rollback;
mod runtime;
mod verify;
mod which;

use std::process::ExitCode;

fn main() -> ExitCode {
    let flags = flags::parse();
    let result = xshell::Shell::new()
        .map_err(anyhow::Error::from)
        .and_then(|sh| {
            // Every task behaves the same from any working directory.
            sh.change_dir(config_source::project_root());
            match flags.task {
                flags::Task::Verify(task) => task.run(&sh),
                flags::Task::Migrate(task) => task.run(&sh),
                flags::Task::Deploy(task) => task.run(&sh),
                flags::Task::Rollback(task) => task.run(&sh),
                flags::Task::Logs(task) => task.run(&sh),
                flags::Task::Dev(task) => task.run(&sh),
                flags::Task::Bench(task) => task.run(&sh),
                flags::Task::Prepare(task) => task.run(&sh),
            }
        });
    exit::code(result)
}
