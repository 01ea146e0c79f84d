//! Local PostgreSQL clusters from the system binaries, TLS only like Railway's — the one
//! implementation behind `cargo xtask dev`, `bench` and `prepare` and the test harness
//! (`intowork-testkit`, which adds its panicking helpers and per-binary shared servers).
//!
//! - [`Pg::find`] finds the programs ([`candidate_bindirs`] is the one lookup order:
//!   `INTOWORK_PG_BINDIR`, `pg_config --bindir`, `/usr/lib/postgresql/*/bin` newest first,
//!   Homebrew's `postgresql@*`, then `PATH`) and the account the server runs as (the
//!   `postgres` system user when we are root: `initdb` and `postgres` refuse root). What is
//!   missing comes back typed, by [`Component`], for an installer to act on.
//! - [`Server`] is a throwaway cluster, our supervised child: it dies with this process,
//!   even on SIGKILL, and is deleted on drop.
//! - [`Persistent`] is a cluster kept in a directory across runs and left running until
//!   stopped.
//! - [`certs`] is the one certificate generator; [`free_port`] the one port picker (127.0.0.1
//!   and, where the machine has it, ::1).
//!
//! "Start a throwaway TLS-only cluster, create a database, give me its URL, stop it":
//!
//! ```no_run
//! let server = intowork_pglocal::Server::throwaway()?;
//! let db = server.create_database("prepare")?;
//! let url = db.url("sslmode=require");
//! # let _ = url;
//! server.stop()?; // or drop it: stopped and deleted either way
//! # Ok::<(), intowork_pglocal::Error>(())
//! ```
//!
//! Linux only: util-linux's `setpriv` (account switch, parent-death signal) and `setsid`
//! (a session of its own for persistent clusters). Every call blocks.

mod binaries;
pub mod certs;
mod conf;
mod error;
mod persistent;
mod pg;
mod ports;
mod postmaster;
mod psql;
mod server;
mod server_user;
mod spawner;
mod workdir;

pub use binaries::{Binaries, find_in, find_on_path, find_program};
pub use certs::{CertError, ServerCert, Validity};
pub use conf::{Durability, write_private_file};
pub use error::{Component, Error, Failure, Missing, MissingPrerequisites, install_hint};
pub use persistent::{Persistent, Started};
pub use pg::Pg;
pub use ports::{free_port, ipv6_loopback, is_free};
pub use psql::{Database, Superuser, random_alphanumeric};
pub use server::{Server, ServerOptions, Tls};
pub use server_user::{SERVER_ACCOUNT, ServerUser, is_root};
pub use spawner::spawn_supervised;
pub use workdir::Workdir;
