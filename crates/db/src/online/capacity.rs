//! The capacity stage's verdict: the connections this server will be asked for, against its
//! `max_connections`. Which connections those are depends on what stands between the
//! replicas and the server.

use intowork_config::{Check, DatabaseSettings, Status};

use super::Stage;

/// Warn when the connections would take more than this share of `max_connections`.
const MAX_CONNECTIONS_SHARE: f64 = 0.8;

/// Who connects to the server the stages reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Demand {
    /// The backend's pools, `DATABASE_MAX_CONNECTIONS` per replica, to the connection target
    /// (through a transaction pooler, they are the pooler's clients, not the server's).
    Pools { replicas: u32 },
    /// The direct connections beside a pooler (`DATABASE_DIRECT_URL`): one migration
    /// connection per replica starting, plus the pooler's own server connections
    /// (`DEFAULT_POOL_SIZE` × its replicas) when known.
    Direct {
        replicas: u32,
        pooler_connections: Option<u32>,
    },
}

/// `max` and `reserved` as the server reported them.
pub(super) fn verdict(db: &DatabaseSettings, demand: Demand, max: i32, reserved: i32) -> Check {
    let limit = (f64::from(max) * MAX_CONNECTIONS_SHARE).floor() as u32;
    let of = format!("of max_connections {max} ({reserved} reserved for superusers)");
    let (wanted, message, fix) = match demand {
        Demand::Pools { replicas } if db.through_transaction_pooler() => {
            let message = format!(
                "through the transaction pooler: pool {} × {replicas} replica{} = {} client connections of the pooler (its max_client_conn: `cargo xtask verify --remote` reads it); the server behind it has max_connections {max}, which DATABASE_DIRECT_URL's stage compares with the direct connections",
                db.max_connections(),
                plural(replicas),
                db.max_connections() * replicas
            );
            return Check::new(Stage::MaxConnections.id(), Status::Pass, message);
        }
        Demand::Pools { replicas } => (
            db.max_connections() * replicas,
            format!(
                "pool {} × {replicas} replica{} = {} {of}",
                db.max_connections(),
                plural(replicas),
                db.max_connections() * replicas
            ),
            format!("keep DATABASE_MAX_CONNECTIONS × replicas ≤ {limit}, or put a pooler in front"),
        ),
        Demand::Direct {
            replicas,
            pooler_connections,
        } => {
            let pooler = match pooler_connections {
                Some(n) => format!(" + {n} server connections of the pooler"),
                None => " + the pooler's own server connections (not known here: pass `--pooler-connections N`, DEFAULT_POOL_SIZE × its replicas, which `verify --remote` prints)".to_owned(),
            };
            let wanted = replicas + pooler_connections.unwrap_or(0);
            (
                wanted,
                format!(
                    "direct connections: {replicas} migration connection{} (one per replica starting){pooler} = {wanted} {of}",
                    plural(replicas)
                ),
                format!("keep the pooler's DEFAULT_POOL_SIZE × its replicas + replicas ≤ {limit}"),
            )
        }
    };
    if wanted > limit {
        return Check::new(
            Stage::MaxConnections.id(),
            Status::Warn,
            format!("{message}: above 80 %"),
        )
        .variable(match demand {
            Demand::Pools { .. } => "DATABASE_MAX_CONNECTIONS",
            Demand::Direct { .. } => "DATABASE_DIRECT_URL",
        })
        .hint(fix);
    }
    Check::new(Stage::MaxConnections.id(), Status::Pass, message)
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}
