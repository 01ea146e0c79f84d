//! Where a migration connects: one server session from start to end, on the database itself.

use intowork_config::DatabaseSettings;
use sqlx::PgConnection;

use super::MigrateError;

/// A dedicated connection for migrating, or for reading what was migrated: to
/// `DATABASE_DIRECT_URL` when set, else to the connection target; never through a
/// transaction pooler (`DATABASE_POOL_MODE=transaction` without a direct URL), which is
/// refused before anything is sent. TLS policy, pin and retries as every connection's.
pub async fn connect(db: &DatabaseSettings) -> Result<PgConnection, MigrateError> {
    let direct = db.direct()?;
    tracing::info!(
        database = %direct.target().masked(),
        variable = db.direct_variable(),
        "migration connection"
    );
    Ok(crate::connect::connect(&direct).await?.conn)
}
