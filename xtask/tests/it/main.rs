//! Tests of the `cargo xtask` binary and the repository's rules (tidy).
//! One test binary (zero2prod's `tests/api` pattern): the helpers in `common` are compiled once
//! and shared, and the harness's servers are started once for all of them.

#[macro_use]
extern crate intowork_testkit;

mod build_proof;
mod common;
mod dev;
mod doc_links;
mod frontend_cors;
mod frontend_platform;
mod hostile_cli;
mod image;
mod install;
mod local_by_resolution;
mod migrate_cli;
mod migrate_lint;
mod migrate_load;
mod migrate_pooler;
mod no_procps;
mod prepare;
mod railway;
mod railway_cli;
mod release;
mod rollback_schema;
mod session_secret;
mod tidy;
mod verify_cli;
mod verify_online;
mod verify_pooler;
mod verify_remote_pooler;
mod workflows;
