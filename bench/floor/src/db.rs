//! A few tokio-postgres connections, each with the backend's two statements prepared, shared
//! by every request: concurrent queries on one connection are pipelined by the driver.

use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_postgres::{Client, Row, Statement};

use crate::tls::Rustls;

/// The backend's `GET /api/jobs` statement, byte for byte (`backend/src/routes/jobs.rs`; a
/// test finds it in `.sqlx/`).
pub const LIST_SQL: &str = r#"SELECT o.id, o.title, o.description, o.location, o.remote, o.salary_min, o.salary_max,
                  o.published_at AS "published_at!", c.name AS company, c.slug AS company_slug
             FROM job_offers o JOIN companies c ON c.id = o.company_id
            WHERE o.status = 'published'
              AND ($1::timestamptz IS NULL OR (o.published_at, o.id) < ($1, $2))
            ORDER BY o.published_at DESC, o.id DESC
            LIMIT $3"#;
/// The backend's `GET /api/jobs/{id}` statement, byte for byte.
pub const SHOW_SQL: &str = r#"SELECT o.id, o.title, o.description, o.location, o.remote, o.salary_min, o.salary_max,
                  o.published_at AS "published_at!", c.name AS company, c.slug AS company_slug
             FROM job_offers o JOIN companies c ON c.id = o.company_id
            WHERE o.status = 'published' AND o.id = $1"#;

/// The backend's `JobOffer`, serialised the same way.
#[derive(Debug, Serialize)]
pub struct JobOffer {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub location: Option<String>,
    pub remote: bool,
    pub salary_min: Option<i32>,
    pub salary_max: Option<i32>,
    pub published_at: DateTime<Utc>,
    pub company: String,
    pub company_slug: String,
}

impl JobOffer {
    fn from_row(row: &Row) -> Result<JobOffer, tokio_postgres::Error> {
        Ok(JobOffer {
            id: row.try_get(0)?,
            title: row.try_get(1)?,
            description: row.try_get(2)?,
            location: row.try_get(3)?,
            remote: row.try_get(4)?,
            salary_min: row.try_get(5)?,
            salary_max: row.try_get(6)?,
            published_at: row.try_get(7)?,
            company: row.try_get(8)?,
            company_slug: row.try_get(9)?,
        })
    }
}

struct Connection {
    client: Client,
    list: Statement,
    show: Statement,
}

/// The connections, taken in turn.
pub struct Database {
    connections: Vec<Connection>,
    next: AtomicUsize,
}

impl Database {
    pub async fn connect(url: &str, count: usize) -> Result<Database, tokio_postgres::Error> {
        let mut connections = Vec::with_capacity(count);
        for _ in 0..count {
            let (client, connection) = tokio_postgres::connect(url, Rustls::require()).await?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    eprintln!("floor: database connection ended: {e}");
                }
            });
            let list = client.prepare(LIST_SQL).await?;
            let show = client.prepare(SHOW_SQL).await?;
            connections.push(Connection { client, list, show });
        }
        Ok(Database {
            connections,
            next: AtomicUsize::new(0),
        })
    }

    fn take(&self) -> &Connection {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        &self.connections[i % self.connections.len()]
    }

    /// The first page, `limit + 1` rows at most (the extra one says a next page exists).
    pub async fn first_page(&self, limit: i64) -> Result<Vec<JobOffer>, tokio_postgres::Error> {
        let c = self.take();
        let after: Option<DateTime<Utc>> = None;
        let rows = c
            .client
            .query(&c.list, &[&after, &0i64, &(limit + 1)])
            .await?;
        rows.iter().map(JobOffer::from_row).collect()
    }

    pub async fn offer(&self, id: i64) -> Result<Option<JobOffer>, tokio_postgres::Error> {
        let c = self.take();
        let row = c.client.query_opt(&c.show, &[&id]).await?;
        row.as_ref().map(JobOffer::from_row).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    /// sqlx names each query's data after the SHA-256 of its text: the backend runs exactly
    /// these statements as long as `.sqlx/` holds them.
    #[test]
    fn the_floor_runs_the_backends_statements() {
        for sql in [LIST_SQL, SHOW_SQL] {
            let hash: String = Sha256::digest(sql.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../.sqlx")
                .join(format!("query-{hash}.json"));
            let data = std::fs::read_to_string(&file).unwrap_or_else(|_| {
                panic!(
                    "no `{}`: the backend no longer runs this statement; copy it from backend/src/routes/jobs.rs:\n{sql}",
                    file.display()
                )
            });
            assert!(data.contains("\"query\""), "{}", file.display());
        }
    }
}
