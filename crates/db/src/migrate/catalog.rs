//! A snapshot of the objects in the current schema, so a dry run can say what would change.

use std::collections::BTreeSet;

use sqlx::PgConnection;

use super::Change;

const OBJECTS: &str = "
SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'i' THEN 'index' WHEN 'I' THEN 'index'
                      WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' ELSE 'relation' END,
       c.relname::text
  FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace
UNION ALL
SELECT 'column', c.relname || '.' || a.attname
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
 WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint', conrelid::regclass::text || '.' || conname FROM pg_constraint WHERE connamespace = current_schema()::regnamespace
UNION ALL
SELECT 'type', typname::text FROM pg_type WHERE typnamespace = current_schema()::regnamespace AND typtype IN ('e', 'd', 'c') AND typrelid = 0
UNION ALL
SELECT 'function', p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace
";

pub(crate) type Snapshot = BTreeSet<(String, String)>;

pub(crate) async fn snapshot(conn: &mut PgConnection) -> Result<Snapshot, sqlx::Error> {
    let rows: Vec<(String, String)> = sqlx::query_as(OBJECTS).fetch_all(conn).await?;
    Ok(rows.into_iter().collect())
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
