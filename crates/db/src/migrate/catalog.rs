//! A snapshot of the objects in the current schema, so a dry run can say what would change.

use std::collections::BTreeSet;

use sqlx::PgConnection;

use super::Change;

pub(crate) type Snapshot = BTreeSet<(String, String)>;

pub(crate) async fn snapshot(conn: &mut PgConnection) -> Result<Snapshot, sqlx::Error> {
    // Tables, indexes, sequences, views, columns, constraints, types and functions of the
    // current schema, as (kind, name).
    let rows = sqlx::query_file!("src/migrate/objects.sql")
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|r| (r.kind, r.name)).collect())
}

pub(crate) fn diff(before: &Snapshot, after: &Snapshot) -> Vec<Change> {
    let added = after.difference(before).map(|(kind, name)| Change {
        added: true,
        kind: kind.clone(),
        name: name.clone(),
    });
    let removed = before.difference(after).map(|(kind, name)| Change {
        added: false,
        kind: kind.clone(),
        name: name.clone(),
    });
    added.chain(removed).collect()
}
