//! Integration tests of `intowork-config`.
//! One test binary (zero2prod's `tests/api` pattern): the helpers in `common` are compiled once
//! and shared, and the harness's servers are started once for all of them.

#[macro_use]
extern crate intowork_testkit;

mod all_at_once;
mod common;
mod database_url;
mod echoed_values;
mod env_file;
mod every_problem;
mod input_hygiene;
mod pooler;
mod rules;
mod secrets;
mod url_secrets;
mod variable_table;
