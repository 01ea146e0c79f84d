//! `verify`'s online stage: each step of reaching the database, timed, as checklist lines.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use intowork_config::{Check, DatabaseSettings, DbHost, Report, Status, TlsMode};

use crate::certificate::{EXPIRY_WARNING_DAYS, date};
use crate::connect::{close, connect, describe, probe_target};
use crate::error::{Attempt, ConnectError};

/// Warn when the pools of all replicas would take more than this share of `max_connections`.
const MAX_CONNECTIONS_SHARE: f64 = 0.8;

/// Runs DNS → TCP → TLS → authentication → version → TLS proof → capacity. Stops at the
/// first failure; the stages after it are reported as skipped.
pub async fn run(db: &DatabaseSettings, replicas: u32) -> Report {
    let mut report = Report::default();
    let stages = Stages { db, replicas };
    if let Err(failed_at) = stages.run(&mut report).await {
        for id in STAGES.iter().skip_while(|s| **s != failed_at).skip(1) {
            report.push(Check::new(
                *id,
                Status::Skip,
                "skipped: an earlier stage failed",
            ));
        }
    }
    report
}

const STAGES: &[&str] = &[
    "database.dns",
    "database.tcp",
    "database.tls",
    "database.auth",
    "database.version",
    "database.tls_proof",
    "database.max_connections",
];

struct Stages<'a> {
    db: &'a DatabaseSettings,
    replicas: u32,
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

fn fail(id: &str, e: &ConnectError) -> Check {
    Check::new(id, Status::Fail, e.to_string())
}

impl Stages<'_> {
    async fn run(&self, report: &mut Report) -> Result<(), &'static str> {
        let url = self.db.target();
        let (endpoint, host) = describe(self.db);
        let mode = url.tls_mode();
        let at = Attempt {
            endpoint: &endpoint,
            host: &host,
            user: url.user(),
            mode,
        };
        let step = self.db.connect_timeout().min(Duration::from_secs(10));

        match url.host() {
            DbHost::Socket(dir) => {
                let msg = format!("unix socket in `{}`: no DNS, TCP or TLS", dir.display());
                report.push(Check::new("database.dns", Status::Skip, msg));
                report.push(Check::new("database.tcp", Status::Skip, "unix socket"));
                report.push(Check::new("database.tls", Status::Skip, "unix socket"));
            }
            DbHost::Tcp(name) => {
                let t = Instant::now();
                let addrs = match tokio::time::timeout(
                    step,
                    tokio::net::lookup_host((name.as_str(), url.port())),
                )
                .await
                {
                    Ok(Ok(addrs)) => addrs.map(|a| a.ip().to_string()).collect::<Vec<_>>(),
                    Ok(Err(e)) => {
                        report.push(fail(
                            "database.dns",
                            &crate::error::classify(sqlx::Error::Io(e), &at),
                        ));
                        return Err("database.dns");
                    }
                    Err(_) => {
                        report.push(fail(
                            "database.dns",
                            &ConnectError::Timeout {
                                endpoint: endpoint.clone(),
                                after: step,
                            },
                        ));
                        return Err("database.dns");
                    }
                };
                report.push(
                    Check::new(
                        "database.dns",
                        Status::Pass,
                        format!("`{name}` → {}", addrs.join(", ")),
                    )
                    .duration_ms(ms(t.elapsed())),
                );

                let t = Instant::now();
                match tokio::time::timeout(
                    step,
                    tokio::net::TcpStream::connect((name.as_str(), url.port())),
                )
                .await
                {
                    Ok(Ok(_)) => report.push(
                        Check::new(
                            "database.tcp",
                            Status::Pass,
                            format!("connected to {name}:{}", url.port()),
                        )
                        .duration_ms(ms(t.elapsed())),
                    ),
                    Ok(Err(e)) => {
                        report.push(fail(
                            "database.tcp",
                            &crate::error::classify(sqlx::Error::Io(e), &at),
                        ));
                        return Err("database.tcp");
                    }
                    Err(_) => {
                        report.push(fail(
                            "database.tcp",
                            &ConnectError::Timeout {
                                endpoint: endpoint.clone(),
                                after: step,
                            },
                        ));
                        return Err("database.tcp");
                    }
                }
                self.tls(report, &at, mode, step).await?;
            }
        }

        let connected = match connect(self.db).await {
            Ok(c) => c,
            Err(e) => {
                report.push(fail("database.auth", &e));
                return Err("database.auth");
            }
        };
        let retries = if connected.attempts > 1 {
            format!(" after {} attempts", connected.attempts)
        } else {
            String::new()
        };
        report.push(
            Check::new(
                "database.auth",
                Status::Pass,
                format!(
                    "authenticated as `{}` on `{}`{retries}",
                    url.user(),
                    url.database()
                ),
            )
            .duration_ms(ms(connected.elapsed)),
        );
        let mut conn = connected.conn;

        let t = Instant::now();
        match sqlx::query_scalar!(r#"SELECT version() AS "version!""#)
            .fetch_one(&mut conn)
            .await
        {
            Ok(v) => report
                .push(Check::new("database.version", Status::Pass, v).duration_ms(ms(t.elapsed()))),
            Err(e) => {
                report.push(Check::new(
                    "database.version",
                    Status::Fail,
                    format!("SELECT version() failed: {e}"),
                ));
                close(conn).await;
                return Err("database.version");
            }
        }

        let session = &connected.session;
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
        report.push(Check::new("database.tls_proof", status, msg));

        let result = self.capacity(&mut conn, report).await;
        close(conn).await;
        result
    }

    async fn tls(
        &self,
        report: &mut Report,
        at: &Attempt<'_>,
        mode: TlsMode,
        step: Duration,
    ) -> Result<(), &'static str> {
        if mode <= TlsMode::Allow {
            report.push(Check::new(
                "database.tls",
                Status::Skip,
                format!("`{mode}`: TLS not attempted (local host)"),
            ));
            return Ok(());
        }
        let facts = match probe_target(self.db, at, step).await {
            Ok(facts) => facts,
            Err(ConnectError::TlsNotOffered { .. }) if mode == TlsMode::Prefer => {
                report.push(Check::new("database.tls", Status::Warn, "the server does not offer TLS: `prefer` falls back to plaintext").hint("enable TLS on the server, or say `sslmode=disable` explicitly for a local server"));
                return Ok(());
            }
            Err(e) => {
                report.push(fail("database.tls", &e));
                return Err("database.tls");
            }
        };
        report.push(
            Check::new(
                "database.tls",
                Status::Pass,
                format!(
                    "{} {}; certificate: {}",
                    facts.version, facts.cipher, facts.certificate
                ),
            )
            .duration_ms(ms(facts.handshake)),
        );
        if let Some(expected) = self.db.tls_fingerprint() {
            match crate::connect::check_pin(at, expected, &facts) {
                Ok(()) => report.push(
                    Check::new(
                        "database.tls_pin",
                        Status::Pass,
                        "certificate matches DATABASE_TLS_FINGERPRINT",
                    )
                    .variable("DATABASE_TLS_FINGERPRINT"),
                ),
                Err(e) => {
                    report.push(fail("database.tls_pin", &e).variable("DATABASE_TLS_FINGERPRINT"));
                    return Err("database.tls");
                }
            }
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let days = facts.certificate.days_left(now);
        if days < EXPIRY_WARNING_DAYS {
            let when = date(facts.certificate.not_after);
            let msg = if days < 0 {
                format!("the server certificate expired on {when}")
            } else {
                format!("the server certificate expires in {days} days ({when})")
            };
            let hint = if self.db.tls_fingerprint().is_some() {
                "renew it; Railway regenerates its certificate near expiry, so update DATABASE_TLS_FINGERPRINT afterwards"
            } else {
                "renew the server certificate"
            };
            report.push(Check::new("database.tls_expiry", Status::Warn, msg).hint(hint));
        }
        Ok(())
    }

    async fn capacity(
        &self,
        conn: &mut sqlx::PgConnection,
        report: &mut Report,
    ) -> Result<(), &'static str> {
        let row = sqlx::query!(r#"SELECT current_setting('max_connections')::int AS "max!", current_setting('superuser_reserved_connections')::int AS "reserved!""#)
            .fetch_one(&mut *conn)
            .await;
        let (max, reserved): (i32, i32) = match row {
            Ok(r) => (r.max, r.reserved),
            Err(e) => {
                report.push(Check::new(
                    "database.max_connections",
                    Status::Fail,
                    format!("cannot read max_connections: {e}"),
                ));
                return Err("database.max_connections");
            }
        };
        let wanted = self.db.max_connections() * self.replicas;
        let limit = (f64::from(max) * MAX_CONNECTIONS_SHARE).floor() as u32;
        let msg = format!(
            "pool {} × {} replica{} = {wanted} of max_connections {max} ({reserved} reserved for superusers)",
            self.db.max_connections(),
            self.replicas,
            if self.replicas == 1 { "" } else { "s" }
        );
        let check = if wanted > limit {
            Check::new(
                "database.max_connections",
                Status::Warn,
                format!("{msg}: above 80 %"),
            )
            .variable("DATABASE_MAX_CONNECTIONS")
            .hint(format!(
                "keep DATABASE_MAX_CONNECTIONS × replicas ≤ {limit}, or put a pooler in front"
            ))
        } else {
            Check::new("database.max_connections", Status::Pass, msg)
        };
        report.push(check);
        Ok(())
    }
}
