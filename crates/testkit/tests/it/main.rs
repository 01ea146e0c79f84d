//! Integration tests of the harness itself: its servers and misbehaving peers.
//! One test binary (zero2prod's `tests/api` pattern): the helpers in `common` are compiled once
//! and shared, and the harness's servers are started once for all of them.

mod common;
mod peers;
mod pgbouncer;
mod servers;
