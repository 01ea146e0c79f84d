//! `backend`: parses the command line and dispatches.

use std::process::ExitCode;

/// Per-request allocations (rows, JSON bodies) were 12-20 % of the CPU under glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    intowork_backend::cli::run()
}
