//! The library's own promises, against real servers: throwaway clusters for tools and tests,
//! persistent ones for `cargo xtask dev` and `bench`.

mod persistent;
mod psql;
mod throwaway;
