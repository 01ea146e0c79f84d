//! What to install, decided from what is missing and what the machine is — a pure function,
//! so every combination is tested without touching the machine.

use std::collections::BTreeSet;
use std::fmt;

use intowork_pglocal::{Component, SERVER_ACCOUNT};

/// Which package manager applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Platform {
    /// Debian, Ubuntu and their derivatives: `apt-get`.
    Debian,
    /// Homebrew, when `brew` exists.
    MacOs,
    Other,
}

/// How commands that need root run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Privilege {
    Root,
    /// Not root, and `sudo` exists.
    Sudo,
    Unprivileged,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Host {
    pub(crate) platform: Platform,
    pub(crate) privilege: Privilege,
    pub(crate) has_brew: bool,
}

/// One command, run exactly as printed (program looked up on PATH).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Command {
    pub(crate) argv: Vec<String>,
}

impl Command {
    fn new(argv: &[&str]) -> Command {
        Command {
            argv: argv.iter().map(|&a| a.to_owned()).collect(),
        }
    }

    fn with_sudo(mut self) -> Command {
        self.argv.insert(0, "sudo".to_owned());
        self
    }
}

/// Every argument is a fixed word: joining them with spaces is the exact command line.
impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.argv.join(" "))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Nothing is missing.
    Nothing,
    /// These commands, in order.
    Run(Vec<Command>),
    /// Nothing this machine lets us run: what the user must do.
    Manual(String),
}

/// The Homebrew formula with the server and the client.
pub(crate) const BREW_FORMULA: &str = "postgresql@16";

pub(crate) fn plan(missing: &BTreeSet<Component>, host: Host) -> Plan {
    if missing.is_empty() {
        return Plan::Nothing;
    }
    match host.platform {
        Platform::Debian => debian(missing, host.privilege),
        Platform::MacOs => macos(missing, host.has_brew),
        Platform::Other => Plan::Manual(
            "this system has no installer dev knows (it uses apt-get on Debian/Ubuntu and \
             Homebrew on macOS): install the programs above yourself"
                .to_owned(),
        ),
    }
}

fn debian(missing: &BTreeSet<Component>, privilege: Privilege) -> Plan {
    let packages: Vec<&str> = missing
        .iter()
        .filter_map(|component| match component {
            Component::Server => Some("postgresql"),
            Component::Client => Some("postgresql-client"),
            Component::UtilLinux => Some("util-linux"),
            Component::ServerAccount => None,
        })
        .collect();
    let mut commands = Vec::new();
    if !packages.is_empty() {
        commands.push(Command::new(&["apt-get", "update"]));
        let mut install = Command::new(&["apt-get", "install", "-y", "--no-install-recommends"]);
        install.argv.extend(packages.iter().map(|&p| p.to_owned()));
        commands.push(install);
    }
    // The server package creates the account itself; alone, it takes one `useradd`.
    if missing.contains(&Component::ServerAccount) && !missing.contains(&Component::Server) {
        commands.push(Command::new(&[
            "useradd",
            "--system",
            "--home-dir",
            "/var/lib/postgresql",
            "--shell",
            "/bin/bash",
            SERVER_ACCOUNT,
        ]));
    }
    match privilege {
        Privilege::Root => Plan::Run(commands),
        Privilege::Sudo => Plan::Run(commands.into_iter().map(Command::with_sudo).collect()),
        Privilege::Unprivileged => {
            let lines: Vec<String> = commands.iter().map(|c| format!("  {c}")).collect();
            Plan::Manual(format!(
                "installing needs root and there is no `sudo` here; as root, run:\n{}",
                lines.join("\n")
            ))
        }
    }
}

fn macos(missing: &BTreeSet<Component>, has_brew: bool) -> Plan {
    if missing.contains(&Component::UtilLinux) {
        return Plan::Manual(
            "the local cluster needs util-linux's `setpriv` and `setsid`, which are Linux \
             tools: run dev and the tests on Linux (or in a Linux container)"
                .to_owned(),
        );
    }
    if !has_brew {
        return Plan::Manual(format!(
            "install Homebrew (https://brew.sh), then run `brew install {BREW_FORMULA}`"
        ));
    }
    Plan::Run(vec![Command::new(&["brew", "install", BREW_FORMULA])])
}

#[cfg(test)]
mod tests {
    use super::*;

    use Component::{Client, Server, ServerAccount, UtilLinux};

    fn host(platform: Platform, privilege: Privilege, has_brew: bool) -> Host {
        Host {
            platform,
            privilege,
            has_brew,
        }
    }

    fn lines(plan: &Plan) -> Vec<String> {
        match plan {
            Plan::Run(commands) => commands.iter().map(ToString::to_string).collect(),
            other => panic!("expected commands, got {other:?}"),
        }
    }

    const APT_BOTH: &str =
        "apt-get install -y --no-install-recommends postgresql postgresql-client";

    #[test]
    fn nothing_missing_installs_nothing_anywhere() {
        for platform in [Platform::Debian, Platform::MacOs, Platform::Other] {
            for privilege in [Privilege::Root, Privilege::Sudo, Privilege::Unprivileged] {
                assert_eq!(
                    plan(&BTreeSet::new(), host(platform, privilege, true)),
                    Plan::Nothing
                );
            }
        }
    }

    #[test]
    fn debian_as_root_runs_apt_get_directly() {
        let missing = BTreeSet::from([Server, Client]);
        let plan = plan(&missing, host(Platform::Debian, Privilege::Root, false));
        assert_eq!(lines(&plan), ["apt-get update", APT_BOTH]);
    }

    #[test]
    fn debian_otherwise_goes_through_sudo() {
        let missing = BTreeSet::from([Server, Client]);
        let plan = plan(&missing, host(Platform::Debian, Privilege::Sudo, false));
        assert_eq!(
            lines(&plan),
            ["sudo apt-get update".to_owned(), format!("sudo {APT_BOTH}")]
        );
    }

    #[test]
    fn without_root_or_sudo_debian_gets_the_commands_to_run_as_root() {
        let missing = BTreeSet::from([Client]);
        match plan(
            &missing,
            host(Platform::Debian, Privilege::Unprivileged, false),
        ) {
            Plan::Manual(text) => assert!(
                text.contains("no `sudo`")
                    && text
                        .contains("apt-get install -y --no-install-recommends postgresql-client"),
                "{text}"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_what_is_missing_is_installed() {
        let plan_for = |missing: &[Component]| {
            lines(&plan(
                &missing.iter().copied().collect(),
                host(Platform::Debian, Privilege::Root, false),
            ))
        };
        assert_eq!(
            plan_for(&[Client])[1],
            "apt-get install -y --no-install-recommends postgresql-client"
        );
        assert_eq!(
            plan_for(&[UtilLinux])[1],
            "apt-get install -y --no-install-recommends util-linux"
        );
        // The account alone: no package, one useradd.
        assert_eq!(
            plan_for(&[ServerAccount]),
            ["useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres"]
        );
        // With the server package, the package creates the account.
        assert_eq!(
            plan_for(&[Server, ServerAccount]),
            [
                "apt-get update",
                "apt-get install -y --no-install-recommends postgresql"
            ]
        );
    }

    #[test]
    fn macos_uses_homebrew_when_it_exists() {
        let missing = BTreeSet::from([Server, Client]);
        for privilege in [Privilege::Sudo, Privilege::Unprivileged] {
            let plan = plan(&missing, host(Platform::MacOs, privilege, true));
            assert_eq!(
                lines(&plan),
                ["brew install postgresql@16"],
                "no sudo for brew"
            );
        }
        match plan(&missing, host(Platform::MacOs, Privilege::Sudo, false)) {
            Plan::Manual(text) => assert!(text.contains("https://brew.sh"), "{text}"),
            other => panic!("{other:?}"),
        }
        match plan(
            &BTreeSet::from([UtilLinux]),
            host(Platform::MacOs, Privilege::Sudo, true),
        ) {
            Plan::Manual(text) => assert!(text.contains("Linux tools"), "{text}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn other_systems_get_instructions_not_commands() {
        let missing = BTreeSet::from([Server]);
        for privilege in [Privilege::Root, Privilege::Sudo] {
            match plan(&missing, host(Platform::Other, privilege, true)) {
                Plan::Manual(text) => assert!(text.contains("install the programs"), "{text}"),
                other => panic!("{other:?}"),
            }
        }
    }
}
