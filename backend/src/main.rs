//! `backend`: parses the command line and dispatches.

use std::process::ExitCode;

fn main() -> ExitCode {
    intowork_backend::cli::run()
}
