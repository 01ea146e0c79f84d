//! `cargo xtask <task>`: the same tasks on a laptop, in CI and for the release manager.
//! This file only dispatches; each task lives in its own module.

// One module per task…
mod bench;
mod deploy;
mod dev;
mod logs;
mod migrate;
mod prepare;
mod rollback;
mod verify;
// …the command line, and what the tasks share: the Railway CLI wrapper (`railway`), what
// deploy and rollback have in common (`release`), and the small helpers (`util`).
mod flags;
mod railway;
mod release;
mod util;

use std::process::ExitCode;

fn main() -> ExitCode {
    let flags = flags::parse();
    let result = xshell::Shell::new()
        .map_err(anyhow::Error::from)
        .and_then(|sh| {
            // Every task behaves the same from any working directory.
            sh.change_dir(util::config_source::project_root());
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
    util::exit::code(result)
}
