//! Which errors mean "this connection is gone", as opposed to "this statement failed".

/// SQLSTATEs the server sends as it ends a session (the connection is closed after them):
/// a connection exception (class 08), `admin_shutdown` (fast shutdown, `pg_terminate_backend`),
/// `crash_shutdown`, `cannot_connect_now` (starting up or shutting down), and the idle timeouts.
const SESSION_ENDED: [&str; 5] = ["57P01", "57P02", "57P03", "57P05", "25P03"];

/// True when `error` says the connection itself is unusable: an I/O error (reset, broken
/// pipe, end of file), a TLS or protocol failure, or the server's own word that it ended the
/// session. A statement's own failure (a constraint, a syntax error, a lock timeout) is not:
/// the connection stays usable and the statement must not be run again blindly.
pub fn is_broken(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(e) => e
            .code()
            .is_some_and(|code| code.starts_with("08") || SESSION_ENDED.contains(&&*code)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    #[test]
    fn transport_failures_are_broken_and_statement_failures_are_not() {
        for kind in [
            io::ErrorKind::ConnectionReset,
            io::ErrorKind::BrokenPipe,
            io::ErrorKind::UnexpectedEof,
            io::ErrorKind::ConnectionAborted,
        ] {
            assert!(is_broken(&sqlx::Error::Io(kind.into())), "{kind:?}");
        }
        assert!(is_broken(&sqlx::Error::Protocol(
            "unexpected message".into()
        )));
        assert!(is_broken(&sqlx::Error::Tls("bad record mac".into())));
        assert!(!is_broken(&sqlx::Error::RowNotFound));
        assert!(!is_broken(&sqlx::Error::PoolTimedOut));
        assert!(!is_broken(&sqlx::Error::PoolClosed));
        assert!(!is_broken(&sqlx::Error::Configuration("x".into())));
    }
}
