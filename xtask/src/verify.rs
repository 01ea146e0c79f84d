//! `cargo xtask verify`: the configuration checklist, then the online checks.

use intowork_config::{Check, Settings, Status};
use xshell::Shell;

use crate::exit::Reported;
use crate::{checklist, config_source, flags};

impl flags::Verify {
    pub fn run(self, _sh: &Shell) -> anyhow::Result<()> {
        let (env_file, source) = config_source::load(&self.env)?;
        let mut report = match Settings::load(&source) {
            Ok(loaded) => loaded.report,
            Err(invalid) => invalid.report,
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

        let (status, message) = if self.offline {
            (Status::Skip, "--offline: the database is not contacted")
        } else {
            // Stub: the online stage (DNS, TCP, TLS, auth, TLS proof) arrives with issue 3.
            (Status::Skip, "online checks are not available yet")
        };
        report.push(Check::new("database.online", status, message));

        checklist::print(&report, self.json)?;
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
}
