//! Which Railway CLI release each feature this workspace uses first appeared in: one table,
//! read once per task run against `railway --version`, before anything else is called.
//!
//! Each row was found in the CLI's own sources: the git history of railwayapp/cli (tags
//! v3.0.0 … v5.43.1: the first tag whose clap definition has the flag) and, past 5.43.1, the
//! crates.io `railwayapp` releases themselves (5.47.1 lists sealed variables by leaving them
//! out, 5.47.2 as `null`; 5.63.4 has no `config plan --environment`, 5.64.0 has it).

use std::fmt;

use super::{INSTALL, RailwayError};

/// A `major.minor.patch` release of the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Version(pub(crate) u32, pub(crate) u32, pub(crate) u32);

impl Version {
    /// `railway --version` prints `railway 5.71.0` (clap's `{name} {version}`); a bare
    /// `5.71.0`, a pre-release suffix or a missing patch are read too.
    pub(crate) fn parse(output: &str) -> Option<Version> {
        let line = output.lines().next()?.trim();
        let text = line.strip_prefix("railway").unwrap_or(line).trim();
        let text = text.strip_prefix('v').unwrap_or(text);
        let mut parts = text.split(['.', '-', '+']);
        let mut number = || parts.next().and_then(|p| p.parse::<u32>().ok());
        let (major, minor) = (number()?, number()?);
        Some(Version(major, minor, number().unwrap_or(0)))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// Something this workspace asks of the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Feature {
    Status,
    VariableList,
    SealedAsNull,
    Redeploy,
    RedeployFromSource,
    UpDetach,
    DeploymentList,
    Logs,
    Api,
    ConfigPlan,
}

/// One row of the table: the feature, the first release that has it, what uses it.
#[derive(Debug)]
pub(crate) struct Row {
    pub(crate) feature: Feature,
    pub(crate) since: Version,
    /// The command line, as the wrapper spells it.
    pub(crate) command: &'static str,
    /// Why this workspace needs it.
    pub(crate) used_for: &'static str,
}

/// THE table (README, "The Railway CLI" repeats it; a test keeps the two equal).
pub(crate) const TABLE: [Row; 10] = [
    Row {
        feature: Feature::Status,
        since: Version(4, 46, 0),
        command: "status --environment E --json",
        used_for: "the credentials check and the project's ids",
    },
    Row {
        feature: Feature::VariableList,
        since: Version(4, 24, 0),
        command: "variable list --service S --environment E --json",
        used_for: "the service's variables (checks, masking, the public domain)",
    },
    Row {
        feature: Feature::SealedAsNull,
        since: Version(5, 47, 2),
        command: "variable list --json listing sealed variables as null",
        used_for: "telling a sealed variable from a missing one: older releases leave sealed variables out",
    },
    Row {
        feature: Feature::Redeploy,
        since: Version(4, 57, 4),
        command: "redeploy --service S --environment E --yes --json",
        used_for: "redeploying the current image, the new deployment's id",
    },
    Row {
        feature: Feature::RedeployFromSource,
        since: Version(4, 44, 0),
        command: "redeploy --from-source",
        used_for: "deploying the latest commit (`deploy --from-source`)",
    },
    Row {
        feature: Feature::UpDetach,
        since: Version(4, 23, 3),
        command: "up PATH --detach --json",
        used_for: "uploading the working tree (`deploy --up`), the new deployment's id",
    },
    Row {
        feature: Feature::DeploymentList,
        since: Version(4, 10, 0),
        command: "deployment list --limit N --json",
        used_for: "waiting for a deployment's outcome",
    },
    Row {
        feature: Feature::Logs,
        since: Version(4, 18, 0),
        command: "logs ID --json --since T --lines N --filter Q",
        used_for: "streaming and following a deployment's logs",
    },
    Row {
        feature: Feature::Api,
        since: Version(5, 28, 0),
        command: "api DOCUMENT --raw-var K=V --var K=V --compact --allow-errors",
        used_for: "settings, history, references, rollback, approval, commit deploys",
    },
    Row {
        feature: Feature::ConfigPlan,
        since: Version(5, 64, 0),
        command: "config plan --file F --environment E --json --detailed-exit-code",
        used_for: "the plan of .railway/railway.ts for the target environment",
    },
];

pub(crate) fn row(feature: Feature) -> &'static Row {
    TABLE
        .iter()
        .find(|r| r.feature == feature)
        .expect("every feature has a row")
}

/// What one task run will ask of the CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Needs {
    /// As the user typed it: `deploy`, `verify --remote`, …
    pub(crate) task: &'static str,
    pub(crate) features: Vec<Feature>,
}

impl Needs {
    pub(crate) fn new(task: &'static str, features: &[Feature]) -> Needs {
        let mut features = features.to_vec();
        features.sort();
        features.dedup();
        Needs { task, features }
    }

    /// The oldest release that has every feature.
    #[cfg(test)]
    pub(crate) fn minimum(&self) -> Version {
        self.features
            .iter()
            .map(|f| row(*f).since)
            .max()
            .unwrap_or(Version(0, 0, 0))
    }

    /// Refuses a CLI older than one of the features, naming each it lacks.
    pub(crate) fn check(&self, found: Version) -> Result<(), RailwayError> {
        let missing: Vec<&Row> = self
            .features
            .iter()
            .map(|f| row(*f))
            .filter(|r| found < r.since)
            .collect();
        let Some(newest) = missing.iter().map(|r| r.since).max() else {
            return Ok(());
        };
        let lacking = missing
            .iter()
            .map(|r| format!("`{}` ({}, since {})", r.command, r.used_for, r.since))
            .collect::<Vec<_>>()
            .join(" and ");
        Err(RailwayError::TooOld {
            found: found.to_string(),
            message: format!(
                "railway {found} is older than {newest}, which `{}` needs for {lacking}; install with {INSTALL}",
                self.task
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_as_the_cli_prints_them() {
        assert_eq!(
            Version::parse("railway 5.71.0\n\n"),
            Some(Version(5, 71, 0))
        );
        assert_eq!(Version::parse("5.43.1"), Some(Version(5, 43, 1)));
        assert_eq!(Version::parse("railway 4.0"), Some(Version(4, 0, 0)));
        assert_eq!(
            Version::parse("railway 5.71.0-beta.1"),
            Some(Version(5, 71, 0))
        );
        assert_eq!(Version::parse("garbage"), None);
        assert_eq!(Version::parse(""), None);
        assert!(Version(5, 63, 1) < Version(5, 64, 0) && Version(4, 99, 0) < Version(5, 0, 0));
    }

    #[test]
    fn an_older_cli_is_refused_naming_the_feature_the_version_and_the_install() {
        let deploy = Needs::new(
            "deploy",
            &[Feature::Status, Feature::ConfigPlan, Feature::Api],
        );
        assert_eq!(deploy.minimum(), Version(5, 64, 0));
        let message = deploy.check(Version(5, 63, 1)).unwrap_err().to_string();
        assert!(
            message.starts_with("railway 5.63.1 is older than 5.64.0, which `deploy` needs for `config plan --file F --environment E --json --detailed-exit-code`"),
            "{message}"
        );
        assert!(
            message.contains("; install with `cargo install railwayapp --locked"),
            "{message}"
        );
        let message = deploy.check(Version(5, 20, 0)).unwrap_err().to_string();
        assert!(
            message.contains("older than 5.64.0") && message.contains("`api DOCUMENT"),
            "every lacking feature is named: {message}"
        );
        assert!(deploy.check(Version(5, 64, 0)).is_ok());
        assert!(deploy.check(Version(6, 0, 0)).is_ok());
    }

    /// The newest `@railway/cli` that `npm view @railway/cli versions` listed from these
    /// machines (2026-12): a workflow must not pin a version its source may not have.
    const NPM_LISTED: Version = Version(5, 63, 1);

    fn pinned(workflow: &str, name: &str) -> Version {
        let line = workflow
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name}:")))
            .unwrap_or_else(|| panic!("deploy.yml sets no {name}"));
        Version::parse(line.split('"').nth(1).unwrap_or_default())
            .unwrap_or_else(|| panic!("{line}"))
    }

    /// deploy.yml installs, for each job, a release its source has and that has every
    /// feature the job's tasks use.
    #[test]
    fn the_deploy_workflow_installs_what_each_job_needs_from_a_source_that_has_it() {
        let path = crate::util::config_source::project_root().join(".github/workflows/deploy.yml");
        let workflow = std::fs::read_to_string(path).unwrap();
        let crates_io = pinned(&workflow, "RAILWAY_CLI_VERSION");
        let npm = pinned(&workflow, "RAILWAY_CLI_NPM_VERSION");
        assert!(
            workflow.contains(
                "run: cargo install railwayapp --locked --version \"$RAILWAY_CLI_VERSION\""
            )
        );
        assert!(
            workflow
                .contains("run: npm install --global \"@railway/cli@$RAILWAY_CLI_NPM_VERSION\"")
        );
        // The deploy job runs `verify --remote` and `deploy --commit`: everything but `up`.
        let every = Needs::new("deploy", &TABLE.map(|r| r.feature));
        assert_eq!(crates_io, super::super::TESTED_VERSION);
        every.check(crates_io).unwrap();
        crate::rollback::needs().check(npm).unwrap();
        assert!(
            npm <= NPM_LISTED,
            "npm lists @railway/cli up to {NPM_LISTED} only"
        );
        assert!(
            Needs::new("deploy", &[Feature::ConfigPlan])
                .check(NPM_LISTED)
                .is_err(),
            "if npm had a release with `config plan --environment`, the deploy job could use it"
        );
    }

    /// docs/railway-cli.md's table is this one.
    #[test]
    fn the_docs_list_the_same_minimum_versions() {
        let doc = std::fs::read_to_string(
            crate::util::config_source::project_root().join("docs/railway-cli.md"),
        )
        .unwrap();
        for r in &TABLE {
            let row = format!("| `{}` | {} | {} |", r.command, r.since, r.used_for);
            assert!(
                doc.contains(&row),
                "docs/railway-cli.md lacks the row:\n{row}"
            );
        }
    }

    #[test]
    fn every_feature_has_one_row_and_the_tested_release_has_them_all() {
        for (i, r) in TABLE.iter().enumerate() {
            assert!(
                TABLE[i + 1..].iter().all(|o| o.feature != r.feature),
                "{:?} twice",
                r.feature
            );
            assert!(r.since <= super::super::TESTED_VERSION, "{r:?}");
        }
    }
}
