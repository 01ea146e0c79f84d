//! The pooler's knobs as Railway's PgBouncer reads them, and the checks on them: pure
//! functions of the values, so every verdict is tested without a platform.
//!
//! Names from railwayapp 5.71.0 (`src/controllers/database_plugins.rs`: `POOL_MODE`,
//! `MAX_CLIENT_CONN`, `DEFAULT_POOL_SIZE`); the image (railwayapp-templates/pgbouncer,
//! `entrypoint.sh`) writes a setting into `pgbouncer.ini` only when its variable is set, so an
//! unset one is PgBouncer's own default (`pool_mode = session`, `max_client_conn = 100`,
//! `default_pool_size = 20`), and TLS is off on both sides unless `CLIENT_TLS_SSLMODE` /
//! `SERVER_TLS_SSLMODE` say otherwise.

use intowork_config::{Check, PoolMode, Status};

use crate::railway::Variables;

pub(super) const POOL_MODE: &str = "POOL_MODE";
pub(super) const MAX_CLIENT_CONN: &str = "MAX_CLIENT_CONN";
pub(super) const DEFAULT_POOL_SIZE: &str = "DEFAULT_POOL_SIZE";
const CLIENT_TLS: &str = "CLIENT_TLS_SSLMODE";
const SERVER_TLS: &str = "SERVER_TLS_SSLMODE";

/// One knob's value as the pooler runs with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Knob {
    Set(String),
    /// Unset: PgBouncer's default applies.
    Default(&'static str),
    /// Sealed: set, unreadable.
    Sealed,
}

pub(super) fn knob(vars: &Variables, name: &str, default: &'static str) -> Knob {
    match (vars.contains(name), vars.value(name)) {
        (true, None) => Knob::Sealed,
        (_, Some(v)) if !v.trim().is_empty() => Knob::Set(v.trim().to_owned()),
        _ => Knob::Default(default),
    }
}

impl Knob {
    fn value(&self) -> Option<&str> {
        match self {
            Knob::Set(v) => Some(v),
            Knob::Default(v) => Some(v),
            Knob::Sealed => None,
        }
    }

    fn shown(&self, name: &str) -> String {
        match self {
            Knob::Set(v) => format!("{name}={v}"),
            Knob::Default(v) => format!("{name} unset (PgBouncer's default, {v})"),
            Knob::Sealed => format!("{name} sealed"),
        }
    }
}

/// What the checks need to know about both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pair {
    /// The pooler service's name (relayed: it came from the platform).
    pub(super) pooler: String,
    pub(super) pooler_replicas: u32,
    /// `DATABASE_POOL_MODE` of the backend, as declared (`None`: unset).
    pub(super) declared: Option<PoolMode>,
    /// `DATABASE_MAX_CONNECTIONS`.
    pub(super) pool_size: u32,
    pub(super) replicas: u32,
}

fn line(name: &str, status: Status, message: String) -> Check {
    Check::new(format!("pooler.{name}"), status, message)
}

/// The declaration against what the pooler runs: the one reliable signal of the mode.
pub(super) fn pool_mode(pair: &Pair, mode: &Knob) -> Check {
    let theirs = match mode.value().map(str::to_ascii_lowercase) {
        None => {
            return line("pool_mode", Status::Warn, format!("`{}`'s {}: whether it pools by transaction cannot be read", pair.pooler, mode.shown(POOL_MODE)))
                .variable("DATABASE_POOL_MODE")
                .hint("make sure DATABASE_POOL_MODE on the backend names the pooler's mode (transaction, Railway's default when adding PgBouncer)");
        }
        Some(v) => v,
    };
    let ours = pair.declared.unwrap_or_default();
    let set = |mode: &str| format!("set DATABASE_POOL_MODE={mode} on the backend service");
    match theirs.parse::<PoolMode>() {
        Ok(m) if m == ours => line(
            "pool_mode",
            Status::Pass,
            format!(
                "`{}` runs {}; the backend declares DATABASE_POOL_MODE={ours}",
                pair.pooler,
                mode.shown(POOL_MODE)
            ),
        ),
        Ok(m) => line(
            "pool_mode",
            Status::Fail,
            format!(
                "`{}` runs {}, but the backend declares DATABASE_POOL_MODE={ours}{}",
                pair.pooler,
                mode.shown(POOL_MODE),
                if m == PoolMode::Transaction {
                    ": it would migrate through the pooler and keep prepared statements across transactions"
                } else {
                    ""
                }
            ),
        )
        .variable("DATABASE_POOL_MODE")
        .hint(set(m.as_str())),
        Err(_) => line(
            "pool_mode",
            Status::Fail,
            format!("`{}` runs {}: the backend's transactions need transaction or session pooling", pair.pooler, mode.shown(POOL_MODE)),
        )
        .variable(POOL_MODE)
        .hint(format!("set POOL_MODE=transaction on `{}` (`railway postgres pgbouncer configure --pool-mode transaction`)", pair.pooler)),
    }
}

/// The backend requires TLS to any host that is not local: PgBouncer must offer it to
/// clients, and speak it to the server (the backend's TLS proof reads `pg_stat_ssl` of the
/// session it is served by, which through the pooler is the pooler's own).
pub(super) fn tls(pair: &Pair, client: &Knob, server: &Knob) -> Check {
    let offers = |k: &Knob, ok: &[&str]| {
        k.value()
            .is_none_or(|v| ok.contains(&v.to_ascii_lowercase().as_str()))
    };
    let client_ok = offers(
        client,
        &["allow", "prefer", "require", "verify-ca", "verify-full"],
    );
    let server_ok = offers(server, &["prefer", "require", "verify-ca", "verify-full"]);
    let shown = format!("{}, {}", client.shown(CLIENT_TLS), server.shown(SERVER_TLS));
    match (client_ok, server_ok) {
        (true, true) if client == &Knob::Sealed || server == &Knob::Sealed => line(
            "tls",
            Status::Warn,
            format!(
                "`{}`: {shown}: whether it speaks TLS cannot be read",
                pair.pooler
            ),
        ),
        (true, true) => line("tls", Status::Pass, format!("`{}`: {shown}", pair.pooler)),
        (client_ok, server_ok) => {
            let mut why = Vec::new();
            if !client_ok {
                why.push("it accepts no TLS from the backend, which requires TLS to a host that is not local");
            }
            if !server_ok {
                why.push("it reaches the database in plaintext, which the backend's TLS proof (pg_stat_ssl of the pooler's session) refuses");
            }
            line("tls", Status::Fail, format!("`{}`: {shown}: {}", pair.pooler, why.join("; and ")))
                .hint(format!("on `{}`, set CLIENT_TLS_SSLMODE=require with CLIENT_TLS_CERT_FILE/CLIENT_TLS_KEY_FILE, and SERVER_TLS_SSLMODE=require (its image writes them into pgbouncer.ini)", pair.pooler))
        }
    }
}

fn number(k: &Knob) -> Option<u32> {
    k.value()?.parse().ok()
}

/// The backend's client connections against what the pooler accepts.
pub(super) fn max_client_conn(pair: &Pair, max: &Knob) -> Check {
    let demand = pair.pool_size * pair.replicas;
    let Some(per) = number(max) else {
        return line(
            "max_client_conn",
            Status::Warn,
            format!(
                "`{}`'s {}: the backend's {demand} client connections cannot be compared with it",
                pair.pooler,
                max.shown(MAX_CLIENT_CONN)
            ),
        );
    };
    let capacity = per * pair.pooler_replicas;
    let message = format!(
        "pool {} × {} replica{} = {demand} client connections (up to {} while a deploy overlaps old and new) of `{}`'s {} × {} replica{} = {capacity}",
        pair.pool_size,
        pair.replicas,
        plural(pair.replicas),
        demand * 2,
        pair.pooler,
        max.shown(MAX_CLIENT_CONN),
        pair.pooler_replicas,
        plural(pair.pooler_replicas)
    );
    let fix = format!(
        "raise MAX_CLIENT_CONN on `{}` (`railway postgres pgbouncer configure --max-client-conn N`), or lower DATABASE_MAX_CONNECTIONS",
        pair.pooler
    );
    if demand > capacity {
        line(
            "max_client_conn",
            Status::Fail,
            format!("{message}: PgBouncer refuses the rest (\"no more connections allowed\")"),
        )
        .variable("DATABASE_MAX_CONNECTIONS")
        .hint(fix)
    } else if demand * 2 > capacity {
        line(
            "max_client_conn",
            Status::Warn,
            format!("{message}: a deploy's overlap can exceed it"),
        )
        .variable("DATABASE_MAX_CONNECTIONS")
        .hint(fix)
    } else {
        line("max_client_conn", Status::Pass, message)
    }
}

/// The server connections the pooler may open, and the local check that counts them against
/// the database's `max_connections` with the migration connections.
pub(super) fn default_pool_size(pair: &Pair, size: &Knob) -> Check {
    let Some(per) = number(size) else {
        return line(
            "default_pool_size",
            Status::Warn,
            format!(
                "`{}`'s {}: its server connections cannot be counted",
                pair.pooler,
                size.shown(DEFAULT_POOL_SIZE)
            ),
        );
    };
    let server = per * pair.pooler_replicas;
    let demand = pair.pool_size * pair.replicas;
    let sharing = if demand > server {
        format!("the backend's {demand} client connections share them, one transaction at a time")
    } else {
        format!("enough for all {demand} of the backend's client connections at once")
    };
    line(
        "default_pool_size",
        Status::Pass,
        format!(
            "`{}` opens up to {} × {} replica{} = {server} server connections to the database: {sharing}",
            pair.pooler,
            size.shown(DEFAULT_POOL_SIZE),
            pair.pooler_replicas,
            plural(pair.pooler_replicas)
        ),
    )
    .hint(format!(
        "`cargo xtask verify --replicas {} --pooler-connections {server}` (with the database's own URL in DATABASE_DIRECT_URL) compares them and the migration connections with max_connections",
        pair.replicas
    ))
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(declared: Option<PoolMode>) -> Pair {
        Pair {
            pooler: "PgBouncer".into(),
            pooler_replicas: 1,
            declared,
            pool_size: 10,
            replicas: 3,
        }
    }

    fn set(v: &str) -> Knob {
        Knob::Set(v.into())
    }

    #[test]
    fn the_declared_mode_must_be_the_poolers() {
        let transaction = Some(PoolMode::Transaction);
        assert_eq!(
            pool_mode(&pair(transaction), &set("transaction")).status,
            Status::Pass
        );
        let undeclared = pool_mode(&pair(None), &set("transaction"));
        assert_eq!(undeclared.status, Status::Fail);
        assert_eq!(
            undeclared.hint.as_deref(),
            Some("set DATABASE_POOL_MODE=transaction on the backend service")
        );
        // Unset on the pooler: PgBouncer's default, session.
        assert_eq!(
            pool_mode(&pair(None), &Knob::Default("session")).status,
            Status::Pass
        );
        assert_eq!(
            pool_mode(&pair(transaction), &Knob::Default("session")).status,
            Status::Fail
        );
        assert_eq!(
            pool_mode(&pair(None), &set("statement")).status,
            Status::Fail
        );
        assert_eq!(pool_mode(&pair(None), &Knob::Sealed).status, Status::Warn);
    }

    #[test]
    fn client_connections_are_held_to_max_client_conn_with_the_overlap() {
        assert_eq!(
            max_client_conn(&pair(None), &set("100")).status,
            Status::Pass
        );
        assert_eq!(
            max_client_conn(&pair(None), &set("50")).status,
            Status::Warn
        );
        let refused = max_client_conn(&pair(None), &set("20"));
        assert_eq!(refused.status, Status::Fail);
        assert!(
            refused.message.contains("30 client connections"),
            "{}",
            refused.message
        );
        let two = Pair {
            pooler_replicas: 2,
            ..pair(None)
        };
        assert_eq!(max_client_conn(&two, &set("20")).status, Status::Warn);
        assert_eq!(
            max_client_conn(&pair(None), &set("many")).status,
            Status::Warn
        );
        assert_eq!(
            max_client_conn(&pair(None), &Knob::Default("100")).status,
            Status::Pass
        );
    }

    #[test]
    fn server_connections_are_counted_for_the_local_check() {
        let c = default_pool_size(
            &Pair {
                pooler_replicas: 2,
                ..pair(None)
            },
            &set("20"),
        );
        assert!(
            c.message.contains("= 40 server connections"),
            "{}",
            c.message
        );
        assert!(
            c.hint
                .unwrap()
                .contains("--replicas 3 --pooler-connections 40")
        );
    }

    #[test]
    fn tls_is_needed_on_both_sides() {
        let p = pair(None);
        let off = Knob::Default("disable");
        assert_eq!(
            tls(&p, &set("require"), &set("require")).status,
            Status::Pass
        );
        let plaintext = tls(&p, &off, &off);
        assert_eq!(plaintext.status, Status::Fail);
        assert!(
            plaintext.message.contains("accepts no TLS")
                && plaintext.message.contains("in plaintext")
        );
        assert_eq!(tls(&p, &set("prefer"), &set("allow")).status, Status::Fail);
        assert_eq!(tls(&p, &Knob::Sealed, &set("require")).status, Status::Warn);
    }
}
