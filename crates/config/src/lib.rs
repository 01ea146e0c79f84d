//! IntoWork's runtime configuration, typed and validated once, at the edge.
//!
//! [`Settings::load`] reads a [`Source`] (the process environment, optionally layered over an
//! env file) and either returns valid settings with the checklist that proved them, or every
//! problem at once. Secrets (the database password, `NEXTAUTH_SECRET`, `RESEND_API_KEY`) are
//! wrapped in [`secrecy::SecretString`] from the moment they are read; URLs are only shown
//! with every secret as `****` (see [`DatabaseUrl::masked`] and [`SECRET_PARAMS`]), and text
//! from input is escaped before it reaches a terminal ([`escape_control`]).

mod auth;
mod checker;
mod database;
mod echo;
mod email;
mod env_file;
mod environment;
mod escape;
mod http;
mod problem;
mod report;
mod secrets;
mod service;
mod settings;
mod source;
mod variables;

pub use auth::{EXAMPLE_NEXTAUTH_SECRET, secret_fingerprint};
pub use database::{
    DatabaseSettings, DatabaseUrl, DbHost, Fingerprint, HostClass, NoDirectRoute, PoolMode,
    SECRET_PARAMS, TargetChoice, TlsMode, TlsSource, UrlContext, authority_ends, url_secrets,
    userinfo_password,
};
pub use echo::shown_url;
pub use email::{EmailSettings, Mailbox};
pub use env_file::MAX_ENV_FILE_BYTES;
pub use environment::Environment;
pub use escape::{Escaped, escape_args, escape_control, escape_lines, escape_path};
pub use http::{AllowedOrigins, Origin, carries_credentials};
pub use problem::{Problem, Severity};
pub use report::{Check, Report, Status, Summary};
pub use secrets::{MASK, SecretSet};
pub use service::{LogFormat, ServiceSettings};
pub use settings::{
    DEFAULT_MAX_CONNECTIONS, DEFAULT_SHUTDOWN_GRACE_SECS, Invalid, Loaded, MigrationSettings,
    Settings,
};
pub use source::{Lookup, Source, SourceError, Sourced, ValueOrigin};
pub use variables::{Need, VARIABLES, Variable, is_secret_name, markdown_table};

/// Re-exported so callers name the same secret type.
pub use secrecy;
