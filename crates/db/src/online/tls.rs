//! The TLS stage: the handshake's facts, the certificate pin, the certificate's expiry.

use std::time::{SystemTime, UNIX_EPOCH};

use intowork_config::{Check, Report, Status, TlsMode};

use super::{Stage, Stages, fail, ms};
use crate::certificate::{EXPIRY_WARNING_DAYS, date};
use crate::connect::{check_pin, probe_target};
use crate::error::ConnectError;
use crate::locality::{Resolver, Route};
use crate::probe::TlsFacts;

/// Sub-checks of [`Stage::Tls`].
const TLS_PIN: &str = "database.tls_pin";
const TLS_EXPIRY: &str = "database.tls_expiry";

impl<R: Resolver> Stages<'_, R> {
    pub(super) async fn tls(&self, route: &Route, report: &mut Report) -> Result<(), Stage> {
        let mode = self.at.mode;
        if mode <= TlsMode::Allow {
            report.push(Check::new(
                Stage::Tls.id(),
                Status::Skip,
                format!("`{mode}`: TLS not attempted (local host)"),
            ));
            return Ok(());
        }
        let facts = match probe_target(self.db, route, &self.at, self.step).await {
            Ok(facts) => facts,
            Err(ConnectError::TlsNotOffered { .. }) if mode == TlsMode::Prefer => {
                report.push(Check::new(Stage::Tls.id(), Status::Warn, "the server does not offer TLS: `prefer` falls back to plaintext").hint("enable TLS on the server, or say `sslmode=disable` explicitly for a local server"));
                return Ok(());
            }
            Err(e) => {
                report.push(fail(Stage::Tls, &e));
                return Err(Stage::Tls);
            }
        };
        report.push(
            Check::new(
                Stage::Tls.id(),
                Status::Pass,
                format!(
                    "{} {}; certificate: {}",
                    facts.version, facts.cipher, facts.certificate
                ),
            )
            .duration_ms(ms(facts.handshake)),
        );
        self.pin(&facts, report)?;
        self.expiry(&facts, report);
        Ok(())
    }

    fn pin(&self, facts: &TlsFacts, report: &mut Report) -> Result<(), Stage> {
        let Some(expected) = self.db.tls_fingerprint() else {
            return Ok(());
        };
        let check = match check_pin(&self.at, expected, facts) {
            Ok(()) => Check::new(
                TLS_PIN,
                Status::Pass,
                "certificate matches DATABASE_TLS_FINGERPRINT",
            ),
            Err(e) => Check::new(TLS_PIN, Status::Fail, e.to_string()),
        };
        let failed = check.status == Status::Fail;
        report.push(check.variable("DATABASE_TLS_FINGERPRINT"));
        if failed { Err(Stage::Tls) } else { Ok(()) }
    }

    fn expiry(&self, facts: &TlsFacts, report: &mut Report) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let days = facts.certificate.days_left(now);
        if days >= EXPIRY_WARNING_DAYS {
            return;
        }
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
        report.push(Check::new(TLS_EXPIRY, Status::Warn, msg).hint(hint));
    }
}
