//! Starts a throwaway `postgres` (or another server next to it: PgBouncer in the tests) so
//! that it cannot outlive this process.
//!
//! A server can live in a static, which Rust never drops, and a process can be killed with
//! SIGKILL: no destructor can be relied on. Instead the kernel does the teardown: the server
//! runs as `setpriv --pdeathsig QUIT … postgres`, so it gets SIGQUIT (immediate shutdown:
//! its backends exit at once, nothing waits for clients) when its parent dies.
//!
//! Two details make that hold:
//! - The parent-death signal fires when the *thread* that forked the child ends, not the
//!   process, and threads (a test's, a worker's) end all the time. So every server is forked
//!   by one dedicated thread that never returns; it dies only with the process.
//! - The kernel clears the setting when the process changes its uid/gid. `setpriv` applies
//!   `--pdeathsig` after `--reuid/--regid/--init-groups` (just before `execvp`; checked in
//!   util-linux's setpriv.c and by killing a parent here), and `execve` of the non-setuid
//!   `postgres` keeps it, so a single `setpriv` is enough.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{self, Sender};
use std::thread;

use crate::pg::Pg;

type Job = Box<dyn FnOnce() + Send>;

/// Signal for the servers when this process dies: immediate shutdown, the data is thrown
/// away anyway (SIGTERM would wait for clients, which may be orphans of the dead process).
const DEATH_SIGNAL: &str = "QUIT";

/// Starts `postgres -D data_dir` with stdout and stderr appended to `log`.
/// The returned child must be waited for by its owner (any thread may do it).
pub(crate) fn spawn_postgres(pg: &Pg, data_dir: &Path, log: File) -> io::Result<Child> {
    let args = [OsString::from("-D"), data_dir.as_os_str().to_owned()];
    spawn_supervised(
        pg,
        &pg.binaries.postgres,
        &args,
        data_dir,
        log,
        DEATH_SIGNAL,
    )
}

/// Starts `program args…` as the server account (`Pg::user`), from `cwd`, with stdout
/// and stderr appended to `log`, tied to this process's life: the kernel sends it
/// `death_signal` (`setpriv --pdeathsig` names: `QUIT`, `TERM`, `KILL`…) when we die, however
/// we die. For the servers the tests put next to PostgreSQL (PgBouncer). The returned child
/// must be waited for by its owner (any thread may do it).
// `Command::new` is banned in favour of `xshell::cmd!`, which runs a program to completion.
// The server is a long-running child that must be supervised (signalled, reaped, tied to this
// process's life), which xshell cannot do.
#[allow(clippy::disallowed_methods)]
pub fn spawn_supervised(
    pg: &Pg,
    program: &Path,
    args: &[OsString],
    cwd: &Path,
    log: File,
    death_signal: &str,
) -> io::Result<Child> {
    let setpriv = pg.binaries.setpriv.clone();
    let program = program.to_owned();
    let args = args.to_vec();
    let switch_user = pg.user.setpriv_args();
    let cwd: PathBuf = cwd.to_owned();
    let pdeathsig = format!("--pdeathsig={death_signal}");
    let (reply, answer) = mpsc::sync_channel(1);
    let job: Job = Box::new(move || {
        let spawned = log.try_clone().and_then(|stderr| {
            Command::new(setpriv)
                .arg(pdeathsig)
                .args(switch_user)
                .arg(program)
                .args(args)
                // The server account may not be able to enter our working directory.
                .current_dir(&cwd)
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(stderr)
                .spawn()
        });
        let _ = reply.send(spawned);
    });
    parent_thread()?
        .send(job)
        .map_err(|_| io::Error::other("the thread that parents the servers is gone"))?;
    answer
        .recv()
        .map_err(|_| io::Error::other("the thread that parents the servers did not answer"))?
}

/// The long-lived thread every server is forked from, started on first use. (Two first
/// uses at once may start two; the one not kept idles, parked, for the life of the process.)
fn parent_thread() -> io::Result<&'static Sender<Job>> {
    static JOBS: OnceLock<Sender<Job>> = OnceLock::new();
    if let Some(jobs) = JOBS.get() {
        return Ok(jobs);
    }
    let (jobs, incoming) = mpsc::channel::<Job>();
    thread::Builder::new()
        .name("pglocal-postgres-parent".to_owned())
        .spawn(move || {
            for job in incoming {
                // A panic must not end this thread: that would signal every server.
                let _ = panic::catch_unwind(AssertUnwindSafe(job));
            }
            // Exiting would kill the servers it forked: never.
            loop {
                thread::park();
            }
        })?;
    Ok(JOBS.get_or_init(|| jobs))
}
