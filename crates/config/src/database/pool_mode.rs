//! `DATABASE_POOL_MODE`: what the pooler `DATABASE_URL` may point at does with a server
//! connection between transactions. Declared, not guessed: no reliable signal tells a
//! client on the wire which pooling mode a PgBouncer runs (a host name or port is only a
//! hint, and Supabase runs both modes on one host). `verify --remote` compares the
//! declaration with the pooler service's own `POOL_MODE` on Railway, where that is known.

use std::fmt;
use std::str::FromStr;

use crate::problem::Problem;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PoolMode {
    /// A connection of our own per session: no pooler, or one that keeps the server
    /// connection for the client's whole session. Everything PostgreSQL offers works.
    #[default]
    Session,
    /// PgBouncer's transaction pooling (Railway's default): each transaction may run on
    /// another server connection, so nothing session-scoped (advisory locks, `SET`, named
    /// prepared statements) survives a transaction.
    Transaction,
}

impl PoolMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PoolMode::Session => "session",
            PoolMode::Transaction => "transaction",
        }
    }
}

impl fmt::Display for PoolMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PoolMode {
    type Err = Problem;

    fn from_str(s: &str) -> Result<PoolMode, Problem> {
        let hint = "use `transaction` (PgBouncer's transaction pooling, Railway's default) or `session` (a session pooler, or none)";
        match s.trim().to_ascii_lowercase().as_str() {
            "session" => Ok(PoolMode::Session),
            "transaction" => Ok(PoolMode::Transaction),
            "statement" => Err(Problem::error(
                "value",
                "`statement` pooling forbids transactions of more than one statement, which the backend's writes and every migration need",
            )
            .hint(hint)),
            _ => Err(
                Problem::error("value", format!("`{}` is not a pool mode", s.trim())).hint(hint),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_in_any_case_and_statement_pooling_is_refused_with_why() {
        assert_eq!(
            " Transaction ".parse::<PoolMode>().unwrap(),
            PoolMode::Transaction
        );
        assert_eq!("SESSION".parse::<PoolMode>().unwrap(), PoolMode::Session);
        let statement = "statement".parse::<PoolMode>().unwrap_err();
        assert!(
            statement
                .message
                .contains("transactions of more than one statement")
        );
        let typo = "transactoin".parse::<PoolMode>().unwrap_err();
        assert_eq!(typo.message, "`transactoin` is not a pool mode");
        assert!(typo.hint.unwrap().contains("`transaction`"));
    }
}
