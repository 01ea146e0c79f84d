//! The IntoWork HTTP service: configure → connect → migrate → serve.
//!
//! [`startup::Application`] is what `main` runs and what the tests build in-process.

pub mod api_error;
pub mod applications;
pub mod auth;
pub mod build_info;
pub mod cli;
pub mod email;
pub mod extract;
pub mod http;
pub mod pagination;
pub mod routes;
pub mod shutdown;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod throttle;
pub mod users;

pub use startup::Application;

/// `0.1.0 (commit 0123456789abcdef…)`: the compiled-in commit (see [`build_info`]).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("INTOWORK_GIT_COMMIT"),
    ")"
);
