//! Integration tests of `intowork-db`, against real PostgreSQL servers.
//! One test binary (zero2prod's `tests/api` pattern): the helpers in `common` are compiled once
//! and shared, and the harness's servers are started once for all of them.

#[macro_use]
extern crate intowork_testkit;

mod common;
mod connect;
mod locality;
mod migrate;
mod no_transaction;
mod pool;
mod pooler_migrate;
mod pooler_pool;
mod pooler_statements;
