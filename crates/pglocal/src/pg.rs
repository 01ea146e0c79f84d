//! The installation as a whole: its programs and the account they run as, plus the one
//! place where a server program is run as that account (`initdb`, `pg_ctl`).

use std::path::Path;

use xshell::{Cmd, Shell, cmd};

use crate::binaries::Binaries;
use crate::conf::Durability;
use crate::error::{Error, MissingPrerequisites};
use crate::server_user::ServerUser;

/// How a server program is started, besides the account switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wrap {
    /// As is: it ends before we go on.
    Plain,
    /// Killed if we die first (`setpriv --pdeathsig=KILL`): a half-done initdb is useless.
    DieWithUs,
    /// In a session of its own (`setsid`): a server that outlives us, out of reach of the
    /// Ctrl-C meant for our other children.
    NewSession,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pg {
    pub binaries: Binaries,
    pub user: ServerUser,
}

impl Pg {
    /// The programs and the server account, or everything that is missing, at once.
    pub fn find() -> Result<Pg, MissingPrerequisites> {
        let binaries = Binaries::find();
        let user = ServerUser::detect();
        match (binaries, user) {
            (Ok(binaries), Ok(user)) => Ok(Pg { binaries, user }),
            (binaries, user) => {
                let mut missing = binaries.err().map(|m| m.missing).unwrap_or_default();
                missing.extend(user.err());
                Err(MissingPrerequisites { missing })
            }
        }
    }

    /// `program` run as the server account, from `cwd` (which that account must be able to
    /// enter: programs started from an unreachable directory warn or fail).
    pub(crate) fn as_server<'a>(
        &self,
        sh: &'a Shell,
        cwd: &Path,
        wrap: Wrap,
        program: &Path,
    ) -> Cmd<'a> {
        let mut options = self.user.setpriv_args();
        if wrap == Wrap::DieWithUs {
            options.insert(0, "--pdeathsig=KILL".to_owned());
        }
        sh.change_dir(cwd);
        let setpriv = &self.binaries.setpriv;
        let setsid = (wrap == Wrap::NewSession).then_some(&self.binaries.setsid);
        // setpriv only when it has something to do.
        let command = match (setsid, options.is_empty()) {
            (None, true) => cmd!(sh, "{program}"),
            (None, false) => cmd!(sh, "{setpriv} {options...} {program}"),
            (Some(setsid), true) => cmd!(sh, "{setsid} {program}"),
            (Some(setsid), false) => cmd!(sh, "{setsid} {setpriv} {options...} {program}"),
        };
        command.quiet()
    }

    /// `initdb` into `data` (which must not exist or be empty): superuser `postgres`,
    /// UTF-8, C locale (server messages in English). With a password file the superuser gets
    /// that password; without, no password (the caller's `pg_hba.conf` decides who may
    /// connect). The death signal stops a half-done initdb when we are killed (this thread
    /// waits for it).
    pub(crate) fn initdb(
        &self,
        data: &Path,
        superuser_password_file: Option<&Path>,
        durability: Durability,
    ) -> Result<(), Error> {
        let sh = Shell::new().map_err(program_error("initdb"))?;
        let cwd = data.parent().unwrap_or(Path::new("/"));
        let mut args = vec![
            "-D".to_owned(),
            data.display().to_string(),
            "-U".to_owned(),
            "postgres".to_owned(),
            "-E".to_owned(),
            "UTF8".to_owned(),
            "--locale=C".to_owned(),
        ];
        match superuser_password_file {
            Some(file) => args.extend([
                format!("--pwfile={}", file.display()),
                "--auth=scram-sha-256".to_owned(),
            ]),
            None => args.push("--auth=trust".to_owned()),
        }
        if durability == Durability::Throwaway {
            args.push("--no-sync".to_owned());
        }
        let output = self
            .as_server(&sh, cwd, Wrap::DieWithUs, &self.binaries.initdb)
            .args(args)
            .ignore_status()
            .output()
            .map_err(program_error("initdb"))?;
        if !output.status.success() {
            return Err(Error::Program {
                program: "initdb".to_owned(),
                detail: format!(
                    "{}\n{}{}",
                    output.status,
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                ),
            });
        }
        Ok(())
    }

    /// `pg_ctl -D data ARGS` as the server account; its error output on failure.
    pub(crate) fn pg_ctl(&self, data: &Path, args: &[&str]) -> Result<(), Error> {
        self.pg_ctl_wrapped(data, Wrap::Plain, args)
    }

    pub(crate) fn pg_ctl_wrapped(
        &self,
        data: &Path,
        wrap: Wrap,
        args: &[&str],
    ) -> Result<(), Error> {
        let sh = Shell::new().map_err(program_error("pg_ctl"))?;
        let cwd = data.parent().unwrap_or(Path::new("/"));
        let output = self
            .as_server(&sh, cwd, wrap, &self.binaries.pg_ctl)
            .arg("-D")
            .arg(data)
            .args(args)
            .ignore_status()
            .output()
            .map_err(program_error("pg_ctl"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(Error::Program {
                program: format!("pg_ctl {}", args.join(" ")),
                detail: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            })
        }
    }

    /// Whether a server runs on `data` (`pg_ctl status`).
    pub(crate) fn is_running(&self, data: &Path) -> bool {
        self.pg_ctl(data, &["status"]).is_ok()
    }
}

pub(crate) fn program_error(program: &'static str) -> impl Fn(xshell::Error) -> Error {
    move |e| Error::Program {
        program: program.to_owned(),
        detail: e.to_string(),
    }
}
