//! Finding an executable on PATH, as `which` does. One implementation for the workspace: the
//! one that also finds the PostgreSQL programs.

pub(crate) use intowork_pglocal::find_on_path as find;
