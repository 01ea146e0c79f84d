//! `verify`'s online stage: each step of reaching the database, timed, as checklist lines.

mod capacity;
mod direct;
mod tls;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use intowork_config::{Check, DatabaseSettings, DbHost, Report, Status, TlsMode};
use sqlx::{Executor as _, PgConnection, Row as _};

use crate::connect::{close, connect_with, describe};
use crate::error::{Attempt, ConnectError, classify};
use crate::locality::{Resolver, Route, SystemResolver, route};
use crate::proof::SessionTls;
pub use capacity::Demand;
pub use direct::{ROUTE, direct_route, run_direct};

/// The stages, in the order they run; a failed one skips every later one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    Dns,
    Tcp,
    Tls,
    Auth,
    Version,
    TlsProof,
    MaxConnections,
}

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::Dns,
        Stage::Tcp,
        Stage::Tls,
        Stage::Auth,
        Stage::Version,
        Stage::TlsProof,
        Stage::MaxConnections,
    ];

    /// The check id the stage reports under (`database.dns`).
    pub fn id(self) -> &'static str {
        match self {
            Stage::Dns => "database.dns",
            Stage::Tcp => "database.tcp",
            Stage::Tls => "database.tls",
            Stage::Auth => "database.auth",
            Stage::Version => "database.version",
            Stage::TlsProof => "database.tls_proof",
            Stage::MaxConnections => "database.max_connections",
        }
    }

    /// The stage's own line in a report `run` produced.
    pub fn find(self, report: &Report) -> Option<&Check> {
        report.checks.iter().find(|c| c.id == self.id())
    }
}

/// Runs DNS → TCP → TLS → authentication → version → TLS proof → capacity against the
/// connection target, whose connections are the backend's pools. Stops at the first
/// failure; the stages after it are reported as skipped.
pub async fn run(db: &DatabaseSettings, replicas: u32) -> Report {
    run_with(db, replicas, &SystemResolver).await
}

/// [`run`], with the names resolved by `resolver`.
pub async fn run_with(db: &DatabaseSettings, replicas: u32, resolver: &impl Resolver) -> Report {
    run_for(db, Demand::Pools { replicas }, resolver).await
}

/// The same stages against `db`'s target (e.g. the direct route of
/// `DatabaseSettings::direct`), its capacity judged for `demand`.
pub async fn run_for(db: &DatabaseSettings, demand: Demand, resolver: &impl Resolver) -> Report {
    let mut report = Report::default();
    let (endpoint, host) = describe(db);
    let url = db.target();
    let stages = Stages {
        db,
        demand,
        resolver,
        at: Attempt {
            endpoint: &endpoint,
            host: &host,
            user: url.user(),
            mode: url.tls_mode(),
        },
        step: db.connect_timeout().min(Duration::from_secs(10)),
    };
    if let Err(failed) = stages.run(&mut report).await {
        for stage in Stage::ALL.iter().skip_while(|s| **s != failed).skip(1) {
            report.push(Check::new(
                stage.id(),
                Status::Skip,
                "skipped: an earlier stage failed",
            ));
        }
    }
    report
}

struct Stages<'a, R> {
    db: &'a DatabaseSettings,
    demand: Demand,
    resolver: &'a R,
    at: Attempt<'a>,
    /// Budget of one network stage.
    step: Duration,
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

fn fail(stage: Stage, e: &ConnectError) -> Check {
    Check::new(stage.id(), Status::Fail, e.to_string())
}

impl<R: Resolver> Stages<'_, R> {
    async fn run(&self, report: &mut Report) -> Result<(), Stage> {
        self.network(report).await?;
        let (mut conn, session) = self.auth(report).await?;
        let result = self.session(&mut conn, &session, report).await;
        close(conn).await;
        result
    }

    /// DNS (with the locality rule), TCP and TLS; a unix socket has none of them.
    async fn network(&self, report: &mut Report) -> Result<(), Stage> {
        let url = self.db.target();
        let DbHost::Tcp(name) = url.host() else {
            let msg = format!("unix socket in `{}`: no DNS, TCP or TLS", url.host());
            report.push(Check::new(Stage::Dns.id(), Status::Skip, msg));
            for stage in [Stage::Tcp, Stage::Tls] {
                report.push(Check::new(stage.id(), Status::Skip, "unix socket"));
            }
            return Ok(());
        };
        let (addrs, route) = self.dns(name, report).await?;
        self.tcp(name, &addrs, report).await?;
        self.tls(&route, report).await
    }

    /// Resolves the host; a name that looked local must resolve to loopback only, or it is
    /// refused here, before any connection.
    async fn dns(
        &self,
        name: &str,
        report: &mut Report,
    ) -> Result<(Vec<SocketAddr>, Route), Stage> {
        let port = self.db.target().port();
        let t = Instant::now();
        let ips = self
            .bounded(Stage::Dns, self.resolver.lookup(name, port), report)
            .await?;
        let route = route(self.db, &Fixed(&ips)).await.map_err(|e| {
            report.push(fail(Stage::Dns, &e));
            Stage::Dns
        })?;
        let shown: Vec<String> = ips.iter().map(ToString::to_string).collect();
        let local = if route.loopback().is_some() {
            " (every address loopback: local)"
        } else {
            ""
        };
        report.push(
            Check::new(
                Stage::Dns.id(),
                Status::Pass,
                format!("`{name}` → {}{local}", shown.join(", ")),
            )
            .duration_ms(ms(t.elapsed())),
        );
        let addrs = ips
            .into_iter()
            .map(|ip| SocketAddr::new(ip, port))
            .collect();
        Ok((addrs, route))
    }

    /// TCP to the addresses DNS returned (no second lookup).
    async fn tcp(
        &self,
        name: &str,
        addrs: &[SocketAddr],
        report: &mut Report,
    ) -> Result<(), Stage> {
        let t = Instant::now();
        let stream = self
            .bounded(Stage::Tcp, tokio::net::TcpStream::connect(addrs), report)
            .await?;
        let port = self.db.target().port();
        let peer = stream
            .peer_addr()
            .map(|a| format!(" ({})", a.ip()))
            .unwrap_or_default();
        report.push(
            Check::new(
                Stage::Tcp.id(),
                Status::Pass,
                format!("connected to {name}:{port}{peer}"),
            )
            .duration_ms(ms(t.elapsed())),
        );
        Ok(())
    }

    /// A network step within the stage budget; a failure is diagnosed on the stage's line.
    async fn bounded<T>(
        &self,
        stage: Stage,
        step: impl Future<Output = io::Result<T>>,
        report: &mut Report,
    ) -> Result<T, Stage> {
        let error = match tokio::time::timeout(self.step, step).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(e)) => classify(sqlx::Error::Io(e), &self.at),
            Err(_) => ConnectError::Timeout {
                endpoint: self.at.endpoint.to_owned(),
                after: self.step,
            },
        };
        report.push(fail(stage, &error));
        Err(stage)
    }

    async fn auth(&self, report: &mut Report) -> Result<(PgConnection, SessionTls), Stage> {
        let url = self.db.target();
        let connected = match connect_with(self.db, self.resolver).await {
            Ok(c) => c,
            Err(e) => {
                report.push(fail(Stage::Auth, &e));
                return Err(Stage::Auth);
            }
        };
        let retries = if connected.attempts > 1 {
            format!(" after {} attempts", connected.attempts)
        } else {
            String::new()
        };
        report.push(
            Check::new(
                Stage::Auth.id(),
                Status::Pass,
                format!(
                    "authenticated as `{}` on `{}`{retries}",
                    url.user(),
                    url.database()
                ),
            )
            .duration_ms(ms(connected.elapsed)),
        );
        Ok((connected.conn, connected.session))
    }

    /// Version, the server's word on TLS, capacity: the stages that use the session.
    async fn session(
        &self,
        conn: &mut PgConnection,
        session: &SessionTls,
        report: &mut Report,
    ) -> Result<(), Stage> {
        let t = Instant::now();
        // Simple queries (a `&str`, no arguments): one message each, safe through a
        // transaction pooler, where an extended-protocol statement's halves may reach two
        // server connections and its named statement would be left on one.
        let version = conn.fetch_one("SELECT version()").await;
        match version.and_then(|row| row.try_get::<String, _>(0)) {
            Ok(v) => report.push(
                Check::new(Stage::Version.id(), Status::Pass, v).duration_ms(ms(t.elapsed())),
            ),
            Err(e) => {
                report.push(Check::new(
                    Stage::Version.id(),
                    Status::Fail,
                    format!("SELECT version() failed: {e}"),
                ));
                return Err(Stage::Version);
            }
        }
        let mut proof = tls_proof(session, self.at.mode);
        if self.db.through_transaction_pooler() {
            // pg_stat_ssl describes the server's session: the pooler's, not ours.
            proof.message.push_str(" (the pooler's own connection to the server; the hop to the pooler is TLS by the driver's policy)");
        }
        report.push(proof);
        self.capacity(conn, report).await
    }

    async fn capacity(&self, conn: &mut PgConnection, report: &mut Report) -> Result<(), Stage> {
        let sql = "SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int";
        let row = conn.fetch_one(sql).await;
        let settings = row.and_then(|r| Ok((r.try_get::<i32, _>(0)?, r.try_get::<i32, _>(1)?)));
        let (max, reserved): (i32, i32) = match settings {
            Ok(pair) => pair,
            Err(e) => {
                report.push(Check::new(
                    Stage::MaxConnections.id(),
                    Status::Fail,
                    format!("cannot read max_connections: {e}"),
                ));
                return Err(Stage::MaxConnections);
            }
        };
        let check = capacity::verdict(self.db, self.demand, max, reserved);
        report.push(check);
        Ok(())
    }
}

/// The server's own word (`pg_stat_ssl`) on the session `connect` opened.
fn tls_proof(session: &SessionTls, mode: TlsMode) -> Check {
    let (status, msg) = match (session.ssl, mode.guarantees_encryption()) {
        (true, _) => (Status::Pass, format!("pg_stat_ssl: session {session}")),
        (false, false) => (
            Status::Warn,
            format!("pg_stat_ssl: session not encrypted (`{mode}` on a local host allows it)"),
        ),
        // `connect` refuses this case; kept for completeness of the table.
        (false, true) => (
            Status::Fail,
            "pg_stat_ssl: session NOT encrypted under a TLS policy".to_owned(),
        ),
    };
    Check::new(Stage::TlsProof.id(), status, msg)
}

/// The DNS stage's own answer, handed to the locality rule: one lookup decides both what is
/// printed and where the connection may go.
struct Fixed<'a>(&'a [std::net::IpAddr]);

impl Resolver for Fixed<'_> {
    async fn lookup(&self, _host: &str, _port: u16) -> io::Result<Vec<std::net::IpAddr>> {
        Ok(self.0.to_vec())
    }
}
