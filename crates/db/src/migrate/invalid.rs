//! Invalid indexes: what a `CREATE INDEX CONCURRENTLY` leaves when it fails (a lock timeout, a
//! duplicate key, a lost connection). PostgreSQL keeps such an index, unused by queries but
//! still updated by every write; its documented recovery is to drop it and build again.

use sqlx::{Executor, PgConnection};

/// Drops, concurrently, every invalid index of the current schema whose name the migration's
/// SQL mentions (only those: an invalid index someone else is building is left alone).
pub(crate) async fn drop_left_by(conn: &mut PgConnection, sql: &str) -> Result<(), sqlx::Error> {
    let invalid = sqlx::query!(
        r#"SELECT c.relname::text AS "name!",
                  format('DROP INDEX CONCURRENTLY IF EXISTS %I.%I', n.nspname, c.relname) AS "drop!"
             FROM pg_index i
             JOIN pg_class c ON c.oid = i.indexrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE NOT i.indisvalid AND n.nspname = current_schema()"#
    )
    .fetch_all(&mut *conn)
    .await?;
    for index in invalid.into_iter().filter(|i| mentions(sql, &i.name)) {
        tracing::warn!(index = %index.name, "dropping the invalid index an interrupted concurrent build left, so the migration can build it again");
        // Dynamic by nature: the statement names the index; `format(%I)` quoted it.
        conn.execute(&*index.drop).await?;
    }
    Ok(())
}

/// Whether `name` occurs in `sql` as a whole identifier (case-insensitively).
fn mentions(sql: &str, name: &str) -> bool {
    let (sql, name) = (sql.to_ascii_lowercase(), name.to_ascii_lowercase());
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    sql.match_indices(&name).any(|(at, _)| {
        let before = sql[..at].chars().next_back();
        let after = sql[at + name.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_index_is_mentioned_only_as_a_whole_identifier() {
        let sql = "CREATE INDEX CONCURRENTLY Jobs_Title_idx ON jobs (title);";
        assert!(super::mentions(sql, "jobs_title_idx"));
        assert!(!super::mentions(sql, "jobs_title"));
        assert!(!super::mentions(sql, "title_idx"));
    }
}
