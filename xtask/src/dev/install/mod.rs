//! What `dev` and the tests need from the system, installed when missing: every entry of the
//! one package list (`intowork_prereqs::PACKAGES`: the PostgreSQL server and client,
//! util-linux, Python with pip, PgBouncer) through apt-get on Debian/Ubuntu — directly as root, through
//! sudo otherwise — or Homebrew on macOS, and, as root, the `postgres` system user. Every
//! command is printed before it runs; on a terminal dev asks first, with `--yes` or `CI` set it
//! goes ahead, with `--no-install` it only reports. Afterwards it looks for everything again:
//! the lookup is the proof, not an exit code.

mod plan;
mod survey;

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Context;
use intowork_pglocal::Pg;
use xshell::{Shell, cmd};

use crate::flags::InstallArgs;
use crate::util::exit::Reported;
use plan::{Command, Host, Plan, Platform, Privilege};
use survey::Survey;

/// Whether dev may install.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Consent {
    /// `--yes`, or `CI` set: go ahead.
    Given,
    /// Neither: ask on a terminal, else report.
    Ask,
    /// `--no-install`: report only.
    Refused,
}

impl Consent {
    pub(crate) fn from_flags(flags: InstallArgs) -> Consent {
        if flags.no_install {
            Consent::Refused
        } else if flags.yes || in_ci() {
            Consent::Given
        } else {
            Consent::Ask
        }
    }
}

/// The installation, after installing what was missing if allowed.
pub(crate) fn ensure(sh: &Shell, consent: Consent) -> anyhow::Result<Pg> {
    let missing = match Survey::take().complete() {
        Ok(pg) => return Ok(pg),
        Err(missing) => missing,
    };
    let commands = match plan::plan(&missing.missing(), Host::detect()) {
        Plan::Nothing => unreachable!("something is missing"),
        Plan::Manual(what) => return Err(report(&missing, &what)),
        Plan::Run(commands) => commands,
    };
    println!("dev: missing: {missing}");
    println!("dev: to install it, dev runs:");
    for command in &commands {
        println!("  {command}");
    }
    if !agreed(consent)? {
        let why = match consent {
            Consent::Refused => {
                "--no-install: nothing was installed; run the commands above, or dev without --no-install"
            }
            _ => {
                "nothing was installed: run dev again with --yes (or on a terminal, to be asked), or run the commands above yourself"
            }
        };
        return Err(Reported(format!("dev: {why}")).into());
    }
    for command in &commands {
        println!("dev: running: {command}");
        run(sh, command)?;
    }
    Survey::take()
        .complete()
        .map_err(|still| Reported(format!("dev: still missing after installing: {still}")).into())
}

fn report(missing: &Survey, what: &str) -> anyhow::Error {
    Reported(format!("dev: missing: {missing}\ndev: {what}")).into()
}

/// Asks on a terminal; elsewhere only an explicit yes counts.
fn agreed(consent: Consent) -> anyhow::Result<bool> {
    match consent {
        Consent::Given => Ok(true),
        Consent::Refused => Ok(false),
        Consent::Ask if std::io::stdin().is_terminal() => {
            print!("dev: run these commands now? [y/N] ");
            std::io::stdout().flush()?;
            ask(&mut std::io::stdin().lock())
        }
        Consent::Ask => Ok(false),
    }
}

/// `y` or `yes` (any case) on the next line; anything else, or nothing, is no.
fn ask(input: &mut impl BufRead) -> anyhow::Result<bool> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .context("failed to read the answer")?;
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

fn run(sh: &Shell, command: &Command) -> anyhow::Result<()> {
    let (program, args) = command
        .argv
        .split_first()
        .context("an empty install command")?;
    cmd!(sh, "{program} {args...}")
        // apt-get and its package scripts must not wait for answers nobody can give (sudo
        // drops this; a terminal is there to answer then).
        .env("DEBIAN_FRONTEND", "noninteractive")
        .quiet()
        .run()
        .with_context(|| format!("`{command}` failed"))?;
    Ok(())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

impl Host {
    fn detect() -> Host {
        let platform = if cfg!(target_os = "macos") {
            Platform::MacOs
        } else if is_debian_like(&std::fs::read_to_string("/etc/os-release").unwrap_or_default()) {
            Platform::Debian
        } else {
            Platform::Other
        };
        let privilege = if intowork_pglocal::is_root() {
            Privilege::Root
        } else if crate::util::which::find("sudo").is_some() {
            Privilege::Sudo
        } else {
            Privilege::Unprivileged
        };
        Host {
            platform,
            privilege,
            has_brew: crate::util::which::find("brew").is_some(),
        }
    }
}

/// `ID` or `ID_LIKE` of os-release(5) names Debian or Ubuntu.
fn is_debian_like(os_release: &str) -> bool {
    os_release
        .lines()
        .filter_map(|l| l.strip_prefix("ID=").or_else(|| l.strip_prefix("ID_LIKE=")))
        .flat_map(|v| v.trim_matches('"').split_whitespace())
        .any(|id| id == "debian" || id == "ubuntu")
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn debian_and_its_derivatives_are_recognised() {
        assert!(is_debian_like(
            "PRETTY_NAME=\"Debian GNU/Linux 12\"\nID=debian\n"
        ));
        assert!(is_debian_like("ID=ubuntu\nID_LIKE=debian\n"));
        assert!(is_debian_like("ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n"));
        assert!(!is_debian_like("ID=fedora\nID_LIKE=\"rhel centos\"\n"));
        assert!(!is_debian_like(""));
    }

    #[test]
    fn only_yes_is_yes() {
        for (answer, yes) in [
            ("y\n", true),
            ("YES\n", true),
            (" yes ", true),
            ("n\n", false),
            ("\n", false),
            ("", false),
            ("yep\n", false),
        ] {
            assert_eq!(ask(&mut answer.as_bytes()).unwrap(), yes, "{answer:?}");
        }
    }

    /// The macOS plan run through the same executor, with a stand-in `brew` on the shell's
    /// PATH that records its arguments.
    #[test]
    fn the_homebrew_plan_runs_brew_exactly_as_printed() {
        let dir = std::env::temp_dir().join(format!("xtask-brew-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let record = dir.join("calls");
        let brew = dir.join("brew");
        std::fs::write(
            &brew,
            format!("#!/bin/sh\necho \"brew $*\" >> '{}'\n", record.display()),
        )
        .unwrap();
        std::fs::set_permissions(&brew, std::fs::Permissions::from_mode(0o755)).unwrap();
        let sh = Shell::new().unwrap();
        sh.set_var("PATH", &dir);
        let host = Host {
            platform: Platform::MacOs,
            privilege: Privilege::Sudo,
            has_brew: true,
        };
        let missing = plan::Missing::new(&[intowork_pglocal::Component::Server].into(), &[]);
        let Plan::Run(commands) = plan::plan(&missing, host) else {
            panic!("Homebrew exists: a plan to run");
        };
        for command in &commands {
            run(&sh, command).unwrap();
        }
        let printed: Vec<String> = commands.iter().map(ToString::to_string).collect();
        let recorded = std::fs::read_to_string(&record).unwrap();
        assert_eq!(recorded.lines().collect::<Vec<_>>(), printed);
        assert_eq!(printed, ["brew install postgresql@16"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
