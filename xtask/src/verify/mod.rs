//! `cargo xtask verify`: the configuration checklist, then the online checks.

pub(crate) mod remote;

use intowork_config::{Check, Settings, Status};
use xshell::Shell;

use crate::migrate::guard::preflight;
use crate::railway::Needs;
use crate::util::exit::Reported;
use crate::{flags, util::checklist, util::config_source, util::runtime};

impl flags::Verify {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        if self.remote {
            let needs = Needs::new("verify --remote", &remote::features());
            let ready = remote::railway_ready(sh, &self.railway, &needs)?;
            let pooler = self.pooler_service.as_deref();
            let mut report = remote::check(sh, &ready, &self.frontend, &self.env, pooler)?;
            let shipped = preflight::Shipped::Checkout;
            let target = &ready.railway.target;
            report
                .checks
                .extend(preflight::checks(sh, &ready.variables, target, &shipped));
            return finish(&report, self.json);
        }
        let (env_file, source) = config_source::load(&self.env)?;
        let (settings, mut report) = match Settings::load(&source) {
            Ok(loaded) => (Some(loaded.settings), loaded.report),
            Err(invalid) => (None, invalid.report),
        };
        let origin = match &env_file {
            Some(path) => format!("environment over {}", path.display()),
            None => "environment only".to_owned(),
        };
        report.checks.insert(
            0,
            Check::new(
                "config.source",
                Status::Pass,
                format!("configuration read from the {origin}"),
            ),
        );

        // The lint needs no database: offline too.
        report.push(preflight::lint_check(sh));

        match (settings, self.offline) {
            (settings, true) => {
                // Offline nothing is resolved: a name that only looks local stays unproven.
                if let Some(warning) = settings
                    .as_ref()
                    .and_then(|s| s.database().unproven_locality())
                {
                    report.push(warning);
                }
                if let Some(settings) = &settings {
                    report.push(intowork_db::online::direct_route(settings.database()));
                }
                report.push(Check::new(
                    "database.online",
                    Status::Skip,
                    "--offline: the database is not contacted",
                ));
            }
            (None, false) => report.push(Check::new(
                "database.online",
                Status::Skip,
                "skipped: the configuration is invalid",
            )),
            (Some(settings), false) => {
                let db = settings.database();
                report.extend(runtime::block_on(intowork_db::online::run(
                    db,
                    self.replicas,
                ))?);
                // Where migrations connect, and, for DATABASE_DIRECT_URL, the same stages.
                report.extend(runtime::block_on(intowork_db::online::run_direct(
                    db,
                    self.replicas,
                    self.pooler_connections,
                ))?);
            }
        }

        finish(&report, self.json)
    }
}

/// Prints the checklist; exit 1 when a check failed.
pub(crate) fn finish(report: &intowork_config::Report, json: bool) -> anyhow::Result<()> {
    checklist::print(report, json)?;
    if report.has_failures() {
        let n = report.summary().fail;
        return Err(Reported(format!(
            "verify: {n} check{} failed",
            if n == 1 { "" } else { "s" }
        ))
        .into());
    }
    Ok(())
}
