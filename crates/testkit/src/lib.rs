//! Test harness: real PostgreSQL servers started from the system binaries, plus a few
//! misbehaving network peers. A dev-dependency only.
//!
//! - [`PgServer`] runs one cluster in one of three [`Flavor`]s (TLS only with a Railway-like
//!   self-signed certificate, TLS with a certificate signed by a test CA, plaintext only).
//!   [`PgServer::shared`] gives one lazily started cluster per flavour and test binary;
//!   [`PgServer::start`] gives a dedicated one that stops and disappears when dropped;
//!   [`PgServer::start_with_cert_expiring_in_days`] one whose certificate is about to expire.
//! - [`TestDb`] is a fresh database and login role with a random SCRAM password;
//!   [`PgServer::log_ddl`] logs which session ran each DDL command in it.
//! - [`ResetServer`], [`RailwayProxy`] and [`DowngradeServer`] reproduce network failures;
//!   [`TlsTerminatingProxy`] a middlebox that gives the client TLS and the server plaintext.
//! - [`PgBouncer`] is a real PgBouncer (Debian's package) in front of one of those servers:
//!   transaction pooling by default, TLS to clients and to the server, its admin console's
//!   `SHOW` answers as rows ([`PgBouncer::show`]).
//! - [`npm::install`] installs a committed `package-lock.json` once (`npm ci` into `target/npm/`)
//!   for tests that use a tool from the npm registry as itself.
//! - [`chromium::Browser`] runs a headless Chromium-family browser on a page that [`chromium::Page`]
//!   serves from its own origin and that reports what the browser decided (CORS included).
//! - [`resend::ResendStandIn`] plays Resend's HTTP API (records requests, de-duplicates by
//!   `Idempotency-Key`, can fail N times, rate-limit, hang or reject) for email tests.
//!
//! ```no_run
//! use intowork_testkit::{Flavor, PgServer};
//!
//! let server = PgServer::shared(Flavor::TlsOnly);
//! let db = server.create_database();
//! let url = db.url("sslmode=require");
//! assert_eq!(server.psql(&db.name, "SELECT current_database()"), db.name);
//! # let _ = url;
//! ```
//!
//! - [`process`] signals processes (`kill(2)`) and reads the process table from `/proc`, so
//!   no test needs procps (`kill`, `pkill`, `pgrep`, `ps`), which minimal Debian lacks.
//! - [`skip`] is how a test that cannot run here says so: a `skipped:` line on stderr and in
//!   `target/test-skips.log`, which the CI scripts count (libtest counts it as passed).
//! - [`assert_contains!`], [`assert_lacks!`] and [`assert_no_secrets!`] ([`assert`]) say what
//!   was expected, what came, and where they differ; [`ValidEnv`] is the one valid configuration
//!   every crate's tests start from, and knows the secrets it holds.
//! - [`pypi`] installs tools from PyPI (linters, Docker's SDK) once under `target/`, from a
//!   committed requirements file with hashes; [`npm`] does the same for npm packages.
//!
//! The servers are `intowork_pglocal::Server`s (that crate finds the binaries, runs them as
//! the `postgres` user when we are root, writes the certificates and `pg_hba.conf`); this
//! crate adds the flavours, one `initdb` per test binary (every cluster is a copy of that
//! template), shared servers, and panics that say what to fix. Linux only (util-linux
//! `setpriv`/`setsid`).
//!
//! Teardown does not depend on destructors: every server is a direct child started through
//! `setpriv --pdeathsig`, from a thread that lives as long as the process, so the kernel
//! stops it when the test binary exits — normally, by panic, or by SIGKILL. Dedicated servers
//! also stop and delete their files on drop; directories left by dead test processes are
//! removed by the next run. All calls block: from async tests, use `spawn_blocking` or call
//! them before entering the runtime.

pub mod assert;
pub mod chromium;
mod cluster;
mod ddl;
mod harness;
pub mod hostile;
mod once;
mod peers;
mod pgbouncer;
pub mod process;
pub mod pypi;
mod skip;
mod sql;
mod valid_env;

pub mod npm;
pub mod resend;

pub use cluster::{Flavor, PgServer};
pub use ddl::DdlCommand;
pub use peers::{DowngradeServer, RailwayProxy, ResetServer, TlsTerminatingProxy};
pub use pgbouncer::{BouncerOptions, PgBouncer, PoolMode, Row};
pub use skip::{MARKER as SKIP_MARKER, skip};
pub use sql::TestDb;
pub use valid_env::ValidEnv;
/// The fake secrets and values [`ValidEnv`] is made of.
pub mod fake {
    pub use crate::valid_env::{
        DB_PASSWORD, FROM_EMAIL, FRONTEND, NEXTAUTH_SECRET, RESEND_API_KEY,
    };
}

/// A TCP port free on 127.0.0.1 (and on ::1 when the machine has IPv6 loopback, because the
/// servers listen there too and `localhost` may resolve to it).
///
/// The port is released before returning, so another process could take it in between:
/// [`PgServer::start`] retries with a new port when that happens.
pub fn free_port() -> u16 {
    intowork_pglocal::free_port().unwrap_or_else(|e| harness::fail("", &e))
}

/// Whether this process may make a private mount namespace (`unshare -m`: root, or a
/// container that allows it); tests that hide files or rewrite `/etc/hosts` skip without one.
pub fn mount_namespaces() -> bool {
    let Ok(sh) = xshell::Shell::new() else {
        return false;
    };
    xshell::cmd!(sh, "unshare -m true")
        .quiet()
        .ignore_stderr()
        .run()
        .is_ok()
}
