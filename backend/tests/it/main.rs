//! End-to-end tests of the backend, in process and as a process.
//! One test binary (zero2prod's `tests/api` pattern): the helpers in `common` are compiled once
//! and shared, and the harness's servers are started once for all of them.

#[macro_use]
extern crate intowork_testkit;

mod api;
mod browser;
mod common;
mod email;
mod email_replicas;
mod hostile;
mod hostile_process;
mod leaks;
mod outage;
mod pooler;
mod pooler_load;
mod process;
mod replicas_migrate;
mod serve;
mod sessions;
