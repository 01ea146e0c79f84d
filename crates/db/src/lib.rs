//! Stub: the TLS-enforcing pool, diagnosis and migrations arrive with issue 3 and 4.
