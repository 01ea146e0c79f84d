//! What to install, decided from what is missing and what the machine is — a pure function,
//! so every combination is tested without touching the machine.

use std::collections::BTreeSet;
use std::fmt;

use intowork_pglocal::{Component, SERVER_ACCOUNT};
use intowork_prereqs::{PACKAGES, Package};

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

/// What is missing, as the installer acts on it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Missing {
    /// Entries of the package list, in its order, each once.
    pub(crate) packages: Vec<&'static Package>,
    /// Root without the `postgres` system user.
    pub(crate) account: bool,
}

impl Missing {
    /// From what pglocal's lookup reported and the packages whose programs are not on PATH.
    pub(crate) fn new(components: &BTreeSet<Component>, off_path: &[&'static Package]) -> Missing {
        let wanted: Vec<&Package> = components
            .iter()
            .filter_map(|c| c.package())
            .chain(off_path.iter().copied())
            .collect();
        Missing {
            packages: PACKAGES.iter().filter(|p| wanted.contains(p)).collect(),
            account: components.contains(&Component::ServerAccount),
        }
    }

    fn is_empty(&self) -> bool {
        self.packages.is_empty() && !self.account
    }
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

pub(crate) fn plan(missing: &Missing, host: Host) -> Plan {
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

fn debian(missing: &Missing, privilege: Privilege) -> Plan {
    let packages: Vec<&str> = missing
        .packages
        .iter()
        .flat_map(|p| p.debian.iter().copied())
        .collect();
    let mut commands = Vec::new();
    if !packages.is_empty() {
        commands.push(Command::new(&["apt-get", "update"]));
        let mut install = Command::new(&["apt-get", "install", "-y", "--no-install-recommends"]);
        install.argv.extend(packages.iter().map(|&p| p.to_owned()));
        commands.push(install);
    }
    // The server package creates the account itself; alone, it takes one `useradd`.
    let server = Component::Server.package();
    if missing.account && !missing.packages.iter().any(|&p| Some(p) == server) {
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

fn macos(missing: &Missing, has_brew: bool) -> Plan {
    if let Some(linux) = missing.packages.iter().find(|p| p.homebrew.is_none()) {
        return Plan::Manual(format!(
            "{} ({}) are Linux tools: run dev and the tests on Linux (or in a Linux container)",
            linux
                .programs
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", "),
            linux.needed_for
        ));
    }
    let mut formulas: Vec<&str> = Vec::new();
    for formula in missing.packages.iter().filter_map(|p| p.homebrew) {
        if !formulas.contains(&formula) {
            formulas.push(formula);
        }
    }
    if formulas.is_empty() {
        return Plan::Manual("nothing Homebrew installs is missing".to_owned());
    }
    if !has_brew {
        return Plan::Manual(format!(
            "install Homebrew (https://brew.sh), then run `brew install {}`",
            formulas.join(" ")
        ));
    }
    let mut install = Command::new(&["brew", "install"]);
    install.argv.extend(formulas.iter().map(|&f| f.to_owned()));
    Plan::Run(vec![install])
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

    fn m(components: &[Component]) -> Missing {
        Missing::new(&components.iter().copied().collect(), &[])
    }

    const APT_BOTH: &str =
        "apt-get install -y --no-install-recommends postgresql postgresql-client";

    #[test]
    fn nothing_missing_installs_nothing_anywhere() {
        for platform in [Platform::Debian, Platform::MacOs, Platform::Other] {
            for privilege in [Privilege::Root, Privilege::Sudo, Privilege::Unprivileged] {
                assert_eq!(
                    plan(&Missing::default(), host(platform, privilege, true)),
                    Plan::Nothing
                );
            }
        }
    }

    #[test]
    fn debian_as_root_runs_apt_get_directly() {
        let missing = m(&[Server, Client]);
        let plan = plan(&missing, host(Platform::Debian, Privilege::Root, false));
        assert_eq!(lines(&plan), ["apt-get update", APT_BOTH]);
    }

    #[test]
    fn debian_otherwise_goes_through_sudo() {
        let missing = m(&[Server, Client]);
        let plan = plan(&missing, host(Platform::Debian, Privilege::Sudo, false));
        assert_eq!(
            lines(&plan),
            ["sudo apt-get update".to_owned(), format!("sudo {APT_BOTH}")]
        );
    }

    #[test]
    fn without_root_or_sudo_debian_gets_the_commands_to_run_as_root() {
        let missing = m(&[Client]);
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
                &m(missing),
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

    /// Python comes from the same list, after the PostgreSQL packages, in one apt-get.
    #[test]
    fn packages_off_path_join_the_same_install_in_list_order() {
        let missing = Missing::new(
            &[Server, ServerAccount].into(),
            &[&intowork_prereqs::PYTHON],
        );
        let plan = plan(&missing, host(Platform::Debian, Privilege::Root, false));
        assert_eq!(
            lines(&plan),
            [
                "apt-get update",
                "apt-get install -y --no-install-recommends postgresql python3 python3-pip"
            ]
        );
        let only_python = Missing::new(&BTreeSet::new(), &[&intowork_prereqs::PYTHON]);
        let plan = super::plan(&only_python, host(Platform::MacOs, Privilege::Sudo, true));
        assert_eq!(lines(&plan), ["brew install python"]);
        let both = Missing::new(&[Server, Client].into(), &[&intowork_prereqs::PYTHON]);
        let plan = super::plan(&both, host(Platform::MacOs, Privilege::Sudo, true));
        assert_eq!(
            lines(&plan),
            ["brew install postgresql@16 python"],
            "each formula once"
        );
    }

    #[test]
    fn macos_uses_homebrew_when_it_exists() {
        let missing = m(&[Server, Client]);
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
            &m(&[UtilLinux]),
            host(Platform::MacOs, Privilege::Sudo, true),
        ) {
            Plan::Manual(text) => assert!(text.contains("Linux tools"), "{text}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn other_systems_get_instructions_not_commands() {
        let missing = m(&[Server]);
        for privilege in [Privilege::Root, Privilege::Sudo] {
            match plan(&missing, host(Platform::Other, privilege, true)) {
                Plan::Manual(text) => assert!(text.contains("install the programs"), "{text}"),
                other => panic!("{other:?}"),
            }
        }
    }
}
