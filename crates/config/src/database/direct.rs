//! `DATABASE_DIRECT_URL`: the database itself, bypassing the pooler `DATABASE_URL` may point
//! at. Migrations, their lock (a *session* advisory lock) and their session limits (`SET
//! lock_timeout`/`statement_timeout`) need one server session from start to end, which a
//! transaction pooler does not give: they connect here, never through the pooler.

use super::{DatabaseSettings, DatabaseUrl, HostClass, PoolMode, TargetChoice};
use crate::checker::Checker;
use crate::problem::Problem;

const VAR: &str = "DATABASE_DIRECT_URL";

/// The fix every refusal names.
pub(crate) const DIRECT_URL_FIX: &str = "set DATABASE_DIRECT_URL to the database's own URL, bypassing the pooler (Railway: a reference to the database service's unpooled URL, e.g. `${{Postgres.DATABASE_URL}}`)";

/// Why migrations may not connect with these settings. Nothing was sent anywhere.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}; nothing was run. Fix: {}", self.problem(), self.fix())]
pub enum NoDirectRoute {
    /// `DATABASE_POOL_MODE=transaction` and no `DATABASE_DIRECT_URL`.
    ThroughTransactionPooler { pooler: String },
    /// `DATABASE_DIRECT_URL` is private to Railway and this process runs outside it.
    PrivateHere { host: String },
}

impl NoDirectRoute {
    /// What is wrong, without the fix.
    pub fn problem(&self) -> String {
        match self {
            NoDirectRoute::ThroughTransactionPooler { pooler } => format!(
                "refusing to migrate through the transaction pooler `{pooler}` (DATABASE_POOL_MODE=transaction): it hands each transaction to any server connection, so the migration lock (a session advisory lock) would be taken on one connection and released on another, and the migrations' SET lock_timeout/statement_timeout would not hold"
            ),
            NoDirectRoute::PrivateHere { host } => format!(
                "DATABASE_DIRECT_URL's host `{host}` resolves only inside Railway, so migrations cannot connect from here"
            ),
        }
    }

    /// The fix, naming the variable.
    pub fn fix(&self) -> &'static str {
        match self {
            NoDirectRoute::ThroughTransactionPooler { .. } => DIRECT_URL_FIX,
            NoDirectRoute::PrivateHere { .. } => {
                "from here, point DATABASE_DIRECT_URL at the database's public URL (Railway: its TCP proxy, the database service's DATABASE_PUBLIC_URL) in a local env file, or migrate inside Railway (`backend migrate` as the pre-deploy command)"
            }
        }
    }
}

impl DatabaseSettings {
    /// `DATABASE_DIRECT_URL`, when set.
    pub fn direct_url(&self) -> Option<&DatabaseUrl> {
        self.direct_url.as_ref()
    }

    /// `DATABASE_POOL_MODE` (`session` when unset).
    pub fn pool_mode(&self) -> PoolMode {
        self.pool_mode.unwrap_or_default()
    }

    /// Whether `DATABASE_POOL_MODE` was set (unset: no pooler is declared).
    pub fn pool_mode_declared(&self) -> bool {
        self.pool_mode.is_some()
    }

    /// Whether the connection target goes through a transaction pooler.
    pub fn through_transaction_pooler(&self) -> bool {
        self.pool_mode() == PoolMode::Transaction
    }

    /// The settings a migration (or any work that needs one server session from start to end)
    /// connects with: `DATABASE_DIRECT_URL` when set, else the connection target — unless that
    /// is a transaction pooler, which is refused before anything is sent.
    ///
    /// The certificate pin (`DATABASE_TLS_FINGERPRINT`) names the connection target's server;
    /// it is kept when the direct URL reaches that same endpoint, and dropped otherwise (a
    /// configuration warning says so: the direct connection is then TLS-encrypted, unpinned).
    pub fn direct(&self) -> Result<DatabaseSettings, NoDirectRoute> {
        let Some(direct) = &self.direct_url else {
            if self.through_transaction_pooler() {
                return Err(NoDirectRoute::ThroughTransactionPooler {
                    pooler: self.target().endpoint(),
                });
            }
            return Ok(self.clone());
        };
        if !self.direct_reachable {
            return Err(NoDirectRoute::PrivateHere {
                host: direct.host().to_string(),
            });
        }
        let pinned = same_endpoint(direct, self.target());
        Ok(DatabaseSettings {
            url: direct.clone(),
            public_url: None,
            target: TargetChoice::DatabaseUrl,
            direct_url: None,
            pool_mode: None,
            direct_reachable: true,
            tls_fingerprint: self.tls_fingerprint.filter(|_| pinned),
            ..self.clone()
        })
    }

    /// The variable [`DatabaseSettings::direct`] connects through.
    pub fn direct_variable(&self) -> &'static str {
        if self.direct_url.is_some() {
            VAR
        } else {
            self.target_variable()
        }
    }
}

/// Host (any case) and port: where a connection lands.
pub(crate) fn same_endpoint(a: &DatabaseUrl, b: &DatabaseUrl) -> bool {
    a.host()
        .to_string()
        .eq_ignore_ascii_case(&b.host().to_string())
        && a.port() == b.port()
}

/// What `DATABASE_DIRECT_URL` is compared with: the connection target, the declared mode,
/// the pin, and where this process runs. Returns whether it is reachable from here.
pub(crate) fn check_direct(
    ck: &mut Checker<'_>,
    direct: &DatabaseUrl,
    target: Option<&DatabaseUrl>,
    mode: Option<PoolMode>,
    pinned: bool,
    inside_railway: bool,
) -> bool {
    let mut problems = Vec::new();
    if let Some(target) = target.filter(|t| same_endpoint(direct, t)) {
        let message = format!(
            "reaches `{}`, the same endpoint as the connection target",
            target.endpoint()
        );
        problems.push(match mode {
            Some(PoolMode::Transaction) => Problem::error(
                "pooler",
                format!("{message}: the transaction pooler, which migrations must bypass"),
            )
            .hint(DIRECT_URL_FIX),
            _ => Problem::warning("same", format!("{message}: it changes nothing"))
                .hint("unset it, or point it at the database itself when DATABASE_URL is a pooler"),
        });
    } else if direct.is_pooler() {
        problems.push(
            Problem::warning(
                "pooler",
                format!(
                    "`{}` looks like a pooler (PgBouncer), which migrations must bypass",
                    direct.endpoint()
                ),
            )
            .hint(DIRECT_URL_FIX),
        );
    } else if pinned && target.is_some() {
        problems.push(
            Problem::warning("unpinned", "DATABASE_TLS_FINGERPRINT pins the connection target's certificate, not this server's: the direct connection is encrypted but not pinned")
                .hint("leave it so, or give the database and the pooler one certificate"),
        );
    }
    let reachable = inside_railway || direct.class() != HostClass::RailwayPrivate;
    if !reachable {
        problems.push(
            Problem::warning("private_host", format!("`{}` resolves only inside Railway: migrations cannot run from here", direct.host()))
                .hint("from here, point DATABASE_DIRECT_URL at the database's public URL in a local env file; on Railway the reference is right"),
        );
    }
    ck.record_all(VAR, problems);
    reachable
}

/// Migrations need a direct route when the target is a transaction pooler. The backend
/// migrating at start-up (`MIGRATE_ON_START`, the default) without one cannot start: an
/// error. Without start-up migrations the service itself runs, but `backend migrate` and
/// `cargo xtask migrate` with this configuration refuse: a warning.
pub(crate) fn check_migration_route(
    ck: &mut Checker<'_>,
    db: &DatabaseSettings,
    migrate_on_start: Option<bool>,
) {
    if !db.through_transaction_pooler() || db.direct_url.is_some() {
        return;
    }
    let why = format!(
        "DATABASE_POOL_MODE=transaction and no DATABASE_DIRECT_URL: migrations would go through the pooler `{}`, where their session advisory lock and SET lock_timeout/statement_timeout do not hold",
        db.target().endpoint()
    );
    let problem = match migrate_on_start {
        Some(false) => Problem::warning(
            "needed",
            format!("{why}; `backend migrate` and `cargo xtask migrate` refuse to run so"),
        ),
        _ => Problem::error(
            "needed",
            format!("{why}; the backend migrates at start-up (MIGRATE_ON_START)"),
        ),
    };
    ck.record(VAR, None, problem.hint(DIRECT_URL_FIX));
}
