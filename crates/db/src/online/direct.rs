//! `DATABASE_DIRECT_URL` in `verify`: the route migrations take, and the same stages as the
//! connection target's against it (`database_direct.*`), its capacity judged for the
//! direct connections.

use intowork_config::{Check, DatabaseSettings, NoDirectRoute, Report, Status};

use super::{Demand, run_for};
use crate::locality::SystemResolver;

/// The id of the route line.
pub const ROUTE: &str = "database.direct_route";

/// Where migrations connect, as a checklist line: a transaction pooler without a direct URL
/// fails (every way of migrating refuses), a direct URL this process cannot reach warns.
/// Contacts nothing.
pub fn direct_route(db: &DatabaseSettings) -> Check {
    match db.direct() {
        Ok(direct) => {
            let variable = db.direct_variable();
            let around = if db.through_transaction_pooler() {
                ", bypassing the transaction pooler"
            } else if db.direct_url().is_none() {
                " (no transaction pooler declared)"
            } else {
                ""
            };
            Check::new(
                ROUTE,
                Status::Pass,
                format!(
                    "migrations connect to {variable} (`{}`){around}",
                    direct.target().masked()
                ),
            )
            .variable(variable)
        }
        Err(refusal) => {
            let status = match refusal {
                NoDirectRoute::ThroughTransactionPooler { .. } => Status::Fail,
                NoDirectRoute::PrivateHere { .. } => Status::Warn,
            };
            Check::new(ROUTE, status, refusal.problem())
                .variable("DATABASE_DIRECT_URL")
                .hint(refusal.fix())
        }
    }
}

/// The route line, then, when `DATABASE_DIRECT_URL` is set and reachable from here, DNS →
/// TCP → TLS → authentication → version → TLS proof → capacity against it, as
/// `database_direct.*`: `replicas` migration connections plus `pooler_connections` (the
/// pooler's own server connections, when known) against its `max_connections`.
pub async fn run_direct(
    db: &DatabaseSettings,
    replicas: u32,
    pooler_connections: Option<u32>,
) -> Report {
    let mut report = Report::default();
    report.push(direct_route(db));
    let (Some(_), Ok(direct)) = (db.direct_url(), db.direct()) else {
        return report;
    };
    let demand = Demand::Direct {
        replicas,
        pooler_connections,
    };
    let mut stages = run_for(&direct, demand, &SystemResolver).await;
    for check in &mut stages.checks {
        check.id = check.id.replacen("database.", "database_direct.", 1);
    }
    report.extend(stages);
    report
}
