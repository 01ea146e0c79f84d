//! The command line: `backend [serve] [--port N]`, `backend migrate`, `backend --version`.
//! Exit codes: 0 success, 1 runtime failure (database, migration, bind), 2 invalid configuration.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use intowork_config::{Settings, Source, escape_args, escape_lines};

use crate::{startup, telemetry};

#[derive(Debug, Parser)]
#[command(name = "backend", version = crate::VERSION, about = "IntoWork backend: configure, connect, migrate, serve")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Connect, migrate (unless MIGRATE_ON_START=false), then serve HTTP on $PORT (the default).
    Serve {
        /// Listen on this port instead of $PORT (0: any free port, printed in the logs).
        #[arg(long)]
        port: Option<u16>,
    },
    /// Connect and apply pending migrations, then exit: Railway's pre-deploy command.
    Migrate,
}

pub fn run() -> ExitCode {
    let cli = parse();
    // Configuration first: nothing is bound or connected with an invalid one.
    let settings = match Settings::load(&Source::from_process_env()) {
        Ok(loaded) => loaded.settings,
        Err(invalid) => {
            eprintln!("backend: {invalid}");
            eprintln!(
                "backend: fix the variables above (run `cargo xtask verify` for the full checklist); nothing was started"
            );
            return ExitCode::from(2);
        }
    };
    if let Err(e) = telemetry::init(&settings) {
        // The filter's own error may quote the directive: escaped like everything from input.
        eprintln!("backend: {}", escape_lines(&format!("{e:#}")));
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "failed to start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Serve { port: None }) {
            Command::Serve { port } => startup::serve(settings, port).await,
            Command::Migrate => startup::migrate_only(settings).await,
        }
    });
    // An email send stuck in its blocking HTTP call must not keep the process up after the
    // grace period: the row it was sending stays pending and is re-sent with the same key.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "backend stopped on an error");
            ExitCode::FAILURE
        }
    }
}

/// The command line. clap quotes a refused argument verbatim, so its message is rendered from
/// the arguments with their control characters escaped; usage errors exit 2.
fn parse() -> Cli {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    Cli::try_parse_from(&args).unwrap_or_else(|raw| {
        let err = Cli::try_parse_from(escape_args(&args)).err().unwrap_or(raw);
        let text = escape_lines(&err.render().to_string());
        if err.use_stderr() {
            eprint!("{text}");
        } else {
            print!("{text}");
        }
        std::process::exit(err.exit_code())
    })
}
