//! `initdb` is the slow step (~0.6 s here, more on a loaded runner), so it runs once per test
//! binary into a template; each cluster starts as a copy of it.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use xshell::{Shell, cmd};

use crate::binaries::binaries;
use crate::server_user::setpriv_switch_args;
use crate::workdir::new_dir;

/// Copies the template data directory to `destination` (which must not exist yet),
/// keeping owners and modes: PostgreSQL insists its data directory is private to its owner.
pub(crate) fn copy_template_to(destination: &Path) {
    let template = template_data_dir();
    let sh = Shell::new().expect("create an xshell Shell");
    cmd!(sh, "cp -a {template} {destination}")
        .quiet()
        .run()
        .unwrap_or_else(|e| panic!("intowork-testkit: copying the initdb template failed: {e}"));
}

fn template_data_dir() -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = new_dir("template");
        let data = dir.join("data");
        let (setpriv, initdb) = (&binaries().setpriv, &binaries().initdb);
        let switch_user = setpriv_switch_args();
        let sh = Shell::new().expect("create an xshell Shell");
        // The server account may not be able to enter the test's working directory.
        sh.change_dir(&dir);
        let started = Instant::now();
        // Superuser `postgres` whatever the OS account; C locale so server messages are
        // English for assertions; no fsync: the data is thrown away. The death signal stops a
        // half-done initdb when the test binary is killed (this thread waits for it).
        let output = cmd!(sh, "{setpriv} --pdeathsig=KILL {switch_user...} {initdb} -D {data} -U postgres -A trust -E UTF8 --locale=C --no-sync")
            .quiet()
            .ignore_status()
            .output()
            .expect("intowork-testkit: cannot run initdb");
        if !output.status.success() {
            panic!(
                "intowork-testkit: initdb failed ({}):\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        eprintln!("intowork-testkit: initdb of the template took {:.2?}", started.elapsed());
        data
    })
}
