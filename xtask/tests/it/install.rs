//! `dev`'s installer, end to end. The PostgreSQL binaries are hidden in a mount namespace
//! (`unshare -m`: empty file systems over `/usr/lib/postgresql`, where Debian keeps the
//! server, and `/usr/share/postgresql-common`, where its `psql`/`pg_config` wrappers lead),
//! and stand-in `apt-get`, `sudo` and `useradd` on PATH record their arguments. Nothing
//! here installs a real package. A mount namespace needs root, as CI runs; elsewhere these
//! tests say they were skipped.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use xshell::{Shell, cmd};

use crate::common::Run;

const APT_INSTALL: &str = "apt-get install -y --no-install-recommends postgresql postgresql-client";
/// Where Debian's packages put what `dev` looks for.
const HIDDEN: [&str; 2] = ["/usr/lib/postgresql", "/usr/share/postgresql-common"];
const NOBODY: &str = "65534";

/// A machine as the installer sees it, inside a mount namespace of its own.
struct Machine {
    dir: tempfile::TempDir,
    hide_postgres: bool,
    os_release: Option<PathBuf>,
    passwd_without_postgres: Option<PathBuf>,
    as_nobody: bool,
    /// Executables made to vanish: `/dev/null` bound over each (not a file, so not found).
    hidden_programs: Vec<PathBuf>,
    /// Stand-in `apt-get install` brings the hidden binaries back (unmounts).
    apt_installs: bool,
}

impl Machine {
    /// `None` (and a line saying so) where this process cannot make a mount namespace.
    fn new() -> Option<Machine> {
        if !intowork_testkit::mount_namespaces() {
            intowork_testkit::skip(
                "hiding PostgreSQL needs a mount namespace (`unshare -m`, as root)",
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        // The stand-ins record for any user, and the server account can reach the stacks.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let record = dir.path().join("calls");
        std::fs::write(&record, "").unwrap();
        std::fs::set_permissions(&record, std::fs::Permissions::from_mode(0o666)).unwrap();
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        Some(Machine {
            dir,
            hide_postgres: true,
            os_release: None,
            passwd_without_postgres: None,
            as_nobody: false,
            hidden_programs: Vec::new(),
            apt_installs: false,
        })
    }

    fn bin(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    /// A stand-in that appends `name ARGS` to the record, then runs `then`.
    fn standin(&self, name: &str, then: &str) {
        let record = self.dir.path().join("calls");
        let path = self.bin().join(name);
        let script = format!(
            "#!/bin/sh\necho \"{name} $*\" >> '{}'\n{then}\n",
            record.display()
        );
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// The usual stand-ins: `apt-get` (which "installs" when `apt_installs`), `sudo`,
    /// `useradd` (which adds the account to the fake passwd, if any).
    fn with_standins(self) -> Machine {
        let restore = if self.apt_installs {
            format!(
                "if [ \"$1\" = install ]; then umount {}; fi",
                HIDDEN.join(" ")
            )
        } else {
            String::new()
        };
        self.standin("apt-get", &restore);
        self.standin("sudo", "");
        let add = match &self.passwd_without_postgres {
            Some(passwd) => format!(
                "echo 'postgres:x:{}:{}::/var/lib/postgresql:/bin/bash' >> '{}'",
                account_field(2),
                account_field(3),
                passwd.display()
            ),
            None => String::new(),
        };
        self.standin("useradd", &add);
        self
    }

    fn recorded(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("calls"))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// `xtask ARGS` in the namespace, with the stand-ins first on PATH and `CI` unset
    /// unless `env` sets it.
    fn xtask(&self, args: &[&str], env: &[(&str, &str)], path: Option<String>) -> Run {
        let sh = Shell::new().unwrap();
        let mut setup = vec!["set -e".to_owned()];
        if self.hide_postgres {
            for dir in HIDDEN.iter().filter(|d| Path::new(d).exists()) {
                setup.push(format!("mount -t tmpfs none {dir}"));
            }
        }
        for program in &self.hidden_programs {
            setup.push(format!("mount --bind /dev/null '{}'", program.display()));
        }
        if let Some(file) = &self.os_release {
            setup.push(format!("mount --bind '{}' /etc/os-release", file.display()));
        }
        if let Some(file) = &self.passwd_without_postgres {
            setup.push(format!("mount --bind '{}' /etc/passwd", file.display()));
        }
        setup.push("exec \"$@\"".to_owned());
        let script = setup.join("\n");
        let xtask = env!("CARGO_BIN_EXE_xtask");
        let nobody = if self.as_nobody {
            vec![
                "setpriv".to_owned(),
                format!("--reuid={NOBODY}"),
                format!("--regid={NOBODY}"),
                "--clear-groups".to_owned(),
            ]
        } else {
            Vec::new()
        };
        let path = path.unwrap_or_else(|| {
            format!(
                "{}:{}",
                self.bin().display(),
                std::env::var("PATH").unwrap()
            )
        });
        let mut c = cmd!(
            sh,
            "unshare -m sh -c {script} sh {nobody...} {xtask} {args...}"
        )
        .env("PATH", path)
        .env_remove("CI")
        .env_remove(intowork_prereqs::BROWSER_VAR)
        .ignore_status()
        .quiet();
        for v in intowork_config::VARIABLES {
            c = c.env_remove(v.name);
        }
        Run::from(c.envs(env.iter().copied()).output().unwrap())
    }
}

/// Whether user nobody can reach the checkout and run xtask from it: every directory above
/// the binary and the repository searchable by others. A checkout under root's home (mode
/// 0700 on Debian) is not; the tests that run xtask as nobody then say so and skip.
fn nobody_can_run_xtask() -> bool {
    let reachable = |path: &Path| {
        path.ancestors()
            .skip(1)
            .all(|dir| std::fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o001 != 0))
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let usable = reachable(Path::new(env!("CARGO_BIN_EXE_xtask"))) && reachable(&root.join("x"));
    if !usable {
        intowork_testkit::skip(&format!(
            "user nobody cannot reach this checkout (a directory above `{}` is not searchable \
             by others, e.g. root's home): clone it where others can read it to run this test",
            env!("CARGO_BIN_EXE_xtask")
        ));
    }
    usable
}

/// The commands `dev` said it was running, in order.
fn printed(run: &Run) -> Vec<String> {
    run.stdout
        .lines()
        .filter_map(|l| l.strip_prefix("dev: running: "))
        .map(str::to_owned)
        .collect()
}

/// A field of the `postgres` line of the real /etc/passwd (uid 2, gid 3).
fn account_field(n: usize) -> String {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    passwd
        .lines()
        .find(|l| l.starts_with("postgres:"))
        .map(|l| l.split(':').nth(n).unwrap().to_owned())
        .unwrap_or_else(|| "999".to_owned())
}

/// The done-when of the installer: hidden binaries, `dev --check --yes` prints the install
/// commands, runs exactly those, then finds PostgreSQL again and goes on to pass.
#[test]
fn check_with_postgres_hidden_runs_the_printed_install_then_finds_it_again() {
    let Some(mut machine) = Machine::new() else {
        return;
    };
    machine.apt_installs = true;
    let machine = machine.with_standins();
    let stack = machine.dir.path().join("stack");
    let stack = stack.to_str().unwrap();

    let run = machine.xtask(&["dev", "--check", "--yes", "--dir", stack], &[], None);
    let printed = printed(&run);
    assert_eq!(
        printed,
        ["apt-get update", APT_INSTALL],
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert_eq!(machine.recorded(), printed, "ran exactly what it printed");
    assert_contains!(
        run.stdout,
        &format!("  {APT_INSTALL}\n"),
        "said before running: {}",
        run.stdout
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_contains!(
        run.stdout,
        "created, TLS only",
        "found the binaries again and went on: {}",
        run.stdout
    );
    assert_contains!(
        run.stdout,
        "dev --check passed",
        "found the binaries again and went on: {}",
        run.stdout
    );
}

#[test]
fn no_install_only_reports_the_commands() {
    let Some(machine) = Machine::new() else {
        return;
    };
    let machine = machine.with_standins();
    let run = machine.xtask(&["dev", "setup", "--no-install"], &[], None);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_contains!(run.stdout, &format!("  {APT_INSTALL}\n"));
    assert_contains!(run.stdout, "dev: missing: PostgreSQL server binaries");
    assert_contains!(run.stderr, "--no-install");
    assert!(machine.recorded().is_empty(), "{:?}", machine.recorded());
}

#[test]
fn without_a_terminal_nothing_is_installed_unless_yes_or_ci() {
    let Some(mut machine) = Machine::new() else {
        return;
    };
    machine.apt_installs = true;
    let machine = machine.with_standins();
    let run = machine.xtask(&["dev", "setup"], &[], None);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_contains!(run.stderr, "--yes");
    assert!(machine.recorded().is_empty(), "{:?}", machine.recorded());

    let run = machine.xtask(&["dev", "setup"], &[("CI", "true")], None);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(machine.recorded(), ["apt-get update", APT_INSTALL]);
    assert_contains!(run.stdout, "everything dev and the tests need is installed");
}

/// On a terminal (a pseudo-terminal from util-linux `script`) dev asks, and only `y` installs.
#[test]
fn on_a_terminal_dev_asks_first() {
    let Some(machine) = Machine::new() else {
        return;
    };
    let machine = machine.with_standins();
    let xtask = env!("CARGO_BIN_EXE_xtask");
    let line = format!("{xtask} dev setup");
    let answer = |reply: &str| {
        let sh = Shell::new().unwrap();
        let script = format!(
            "set -e\nfor d in {}; do [ -e $d ] && mount -t tmpfs none $d; done\nexec script -qec \"$0\" /dev/null",
            HIDDEN.join(" ")
        );
        let path = format!(
            "{}:{}",
            machine.bin().display(),
            std::env::var("PATH").unwrap()
        );
        let out = cmd!(sh, "unshare -m sh -c {script} {line}")
            .env("PATH", path)
            .env_remove("CI")
            .stdin(reply)
            .ignore_status()
            .quiet()
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let refused = answer("n\n");
    assert_contains!(refused, "run these commands now? [y/N]");
    assert!(
        machine.recorded().is_empty(),
        "no: {:?}",
        machine.recorded()
    );
    let agreed = answer("y\n");
    assert_contains!(agreed, "dev: running: apt-get update");
    assert_eq!(machine.recorded(), ["apt-get update", APT_INSTALL]);
}

/// Not root: the same commands through `sudo`; then dev looks again (the stand-in installed
/// nothing) and says what is still missing.
#[test]
fn an_unprivileged_user_installs_through_sudo() {
    let Some(mut machine) = Machine::new() else {
        return;
    };
    if !nobody_can_run_xtask() {
        return;
    }
    machine.as_nobody = true;
    let machine = machine.with_standins();
    let run = machine.xtask(&["dev", "setup", "--yes"], &[], None);
    let expected = [
        "sudo apt-get update".to_owned(),
        format!("sudo {APT_INSTALL}"),
    ];
    assert_eq!(printed(&run), expected, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(machine.recorded(), expected);
    assert_eq!(run.code, 1);
    assert_contains!(
        run.stderr,
        "still missing after installing: PostgreSQL server binaries"
    );
}

/// Not root and no `sudo`: the commands to run as root, nothing run.
#[test]
fn without_root_or_sudo_dev_says_what_to_run_as_root() {
    let Some(mut machine) = Machine::new() else {
        return;
    };
    if !nobody_can_run_xtask() {
        return;
    }
    machine.as_nobody = true;
    let machine = machine.with_standins();
    std::fs::remove_file(machine.bin().join("sudo")).unwrap();
    // PATH without any real sudo; setpriv and setsid stay reachable through links.
    for tool in ["setpriv", "setsid"] {
        let real = which(tool);
        std::os::unix::fs::symlink(real, machine.bin().join(tool)).unwrap();
    }
    let path = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .filter(|d| !d.join("sudo").exists())
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(":");
    let path = format!("{}:{path}", machine.bin().display());
    let run = machine.xtask(&["dev", "setup", "--yes"], &[], Some(path));
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_contains!(run.stderr, "there is no `sudo` here; as root, run:");
    assert_contains!(run.stderr, &format!("  {APT_INSTALL}"));
    assert!(machine.recorded().is_empty(), "{:?}", machine.recorded());
}

#[test]
fn other_systems_get_the_instructions_instead_of_commands() {
    let Some(mut machine) = Machine::new() else {
        return;
    };
    let os_release = machine.dir.path().join("os-release");
    std::fs::write(&os_release, "ID=fedora\nID_LIKE=\"rhel centos\"\n").unwrap();
    machine.os_release = Some(os_release);
    let machine = machine.with_standins();
    let run = machine.xtask(&["dev", "setup", "--yes"], &[], None);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_contains!(run.stderr, "no installer dev knows");
    assert_contains!(run.stderr, "sudo apt-get install -y postgresql");
    assert_contains!(run.stderr, "brew install postgresql@16");
    assert_contains!(run.stderr, "INTOWORK_PG_BINDIR");
    assert!(machine.recorded().is_empty(), "{:?}", machine.recorded());
}

#[test]
fn root_without_a_postgres_user_gets_one() {
    let Some(mut machine) = Machine::new() else {
        return;
    };
    let passwd = machine.dir.path().join("passwd");
    let without: String = std::fs::read_to_string("/etc/passwd")
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("postgres:"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&passwd, without).unwrap();
    machine.passwd_without_postgres = Some(passwd);
    machine.hide_postgres = false;
    let machine = machine.with_standins();
    let run = machine.xtask(&["dev", "setup", "--yes"], &[], None);
    let useradd = "useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres";
    assert_eq!(printed(&run), [useradd], "{}\n{}", run.stdout, run.stderr);
    assert_eq!(machine.recorded(), [useradd]);
    assert_eq!(
        run.code, 0,
        "found the account afterwards: {}\n{}",
        run.stdout, run.stderr
    );
}

/// Python comes from the same package list: with `python3` and `pip3` gone from every
/// directory of PATH (and PostgreSQL there), dev names them with what needs them and
/// installs exactly the list's packages for them.
#[test]
fn python_missing_is_installed_from_the_same_list() {
    let _ = missing_is_installed_from_the_same_list(
        &["python3", "pip3"],
        "python3 python3-pip",
        "`python3` is not installed (needed for the tests' tools from PyPI: actionlint",
    );
}

/// Chromium too (the browser test): one more entry of the same list, the same plan — when
/// no Chromium-family browser is found by any of its names (the test kit's own lookup), and
/// the message says what to do on Ubuntu.
#[test]
fn chromium_missing_is_installed_from_the_same_list() {
    let run = missing_is_installed_from_the_same_list(
        &intowork_prereqs::BROWSERS,
        "chromium",
        "`chromium` is not installed (needed for the browser test: a real headless Chromium",
    );
    if let Some(run) = run {
        assert_contains!(run.stdout, "On Ubuntu, whose `chromium` is a snap");
        assert_contains!(run.stdout, "set CHROMIUM to any Chromium binary");
    }
}

/// With `programs` hidden from every directory of PATH (PostgreSQL there), `dev setup
/// --no-install` prints the list's install command for `packages`, names the first program
/// and its need, and runs nothing.
fn missing_is_installed_from_the_same_list(
    programs: &[&str],
    packages: &str,
    message: &str,
) -> Option<Run> {
    let mut machine = Machine::new()?;
    machine.hide_postgres = false;
    machine.hidden_programs = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .flat_map(|dir| programs.iter().map(move |p| dir.join(p)))
        .filter(|p| p.is_file())
        .collect();
    let machine = machine.with_standins();
    let run = machine.xtask(&["dev", "setup", "--no-install"], &[], None);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let install = format!("apt-get install -y --no-install-recommends {packages}");
    assert_contains!(run.stdout, &format!("  {install}\n"));
    assert_contains!(run.stdout, message);
    assert!(machine.recorded().is_empty(), "{:?}", machine.recorded());
    Some(run)
}

/// Everything there: nothing to ask, nothing run (no namespace needed).
#[test]
fn with_everything_installed_nothing_is_run() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("calls");
    for name in ["apt-get", "sudo", "brew", "useradd"] {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!("#!/bin/sh\necho \"{name} $*\" >> '{}'\n", record.display()),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let sh = Shell::new().unwrap();
    let xtask = env!("CARGO_BIN_EXE_xtask");
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap()
    );
    let run = Run::from(
        cmd!(sh, "{xtask} dev setup --yes")
            .env("PATH", path)
            .ignore_status()
            .quiet()
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_contains!(run.stdout, "everything dev and the tests need is installed");
    assert!(
        !record.exists(),
        "nothing ran: {:?}",
        std::fs::read_to_string(&record)
    );
}

fn which(name: &str) -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("`{name}` on PATH"))
}

/// CI installs through the same code path as `dev`: `.ci/run` has no package list, and no
/// install command, of its own (Node.js included: the tests bring it).
#[test]
fn ci_installs_through_dev_setup_with_no_package_list_of_its_own() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    assert_contains!(ci, "cargo xtask dev setup --yes");
    let code = ci.lines().filter(|l| !l.trim_start().starts_with('#'));
    for line in code {
        let installs = [
            "apt-get",
            "apt ",
            "brew ",
            "pip install",
            "npm install",
            "useradd",
        ]
        .iter()
        .any(|tool| line.contains(tool));
        assert!(
            !installs,
            ".ci/run installs something itself (`{line}`): add it to the package list in \
             crates/prereqs, which `cargo xtask dev setup --yes` installs"
        );
    }
}
