//! The second measure: 200 generated migrations applied to an empty database, `xtask migrate
//! run` vs sqlx-cli's `migrate run`; then `migrate status` with all of them applied.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use xshell::cmd;

use super::measure::{self, median, ms};
use super::report::Row;
use super::rows::{ratio_row, skip, target_row};
use super::scenario::Context;

const MIGRATIONS: usize = 200;
/// The database the migrations are applied to, dropped and created before every run.
const TARGET_DB: &str = "bench_migrations";
/// Runs of each tool; the median counts.
const RUNS: usize = 5;
const SQLX_CLI_INSTALL: &str =
    "cargo install sqlx-cli --locked --no-default-features --features rustls,postgres";

impl Context<'_> {
    pub(crate) fn migrations(&self) -> anyhow::Result<Vec<Row>> {
        let source = write_source(self.dir)?;
        let src = source.to_str().context("non-UTF-8 path")?;
        let sqlx_cli = cmd!(self.sh, "sqlx --version")
            .quiet()
            .ignore_stderr()
            .read()
            .is_ok();
        let (ours, anchor) = self.time_runs(src, sqlx_cli)?;
        let url = self.url_for(TARGET_DB);
        let status = measure::median_of(11, || {
            self.xtask(&url)
                .args(["migrate", "status", "--no-env-file", "--source", src])
        })?;

        let name = format!(
            "apply {MIGRATIONS} migrations to an empty database (`xtask migrate run` vs sqlx-cli `migrate run`)"
        );
        let run_row = match anchor {
            Some(anchor) => ratio_row(
                &name,
                ours,
                anchor,
                1.1,
                "≤ 1.1×",
                "ours also takes the advisory lock with a deadline and sets lock/statement timeouts",
            ),
            None => {
                let mut row = skip(
                    &name,
                    &format!("sqlx-cli is not installed: {SQLX_CLI_INSTALL}"),
                );
                row.ours = format!("{:.0} ms", ms(ours));
                row.target = "≤ 1.1×".into();
                row
            }
        };
        let status_row = target_row(
            &format!("`xtask migrate status` with {MIGRATIONS} migrations applied"),
            ms(status),
            "ms",
            100.0,
            "< 100 ms",
        );
        Ok(vec![run_row, status_row])
    }

    /// Median times of ours and, when sqlx-cli is there, of the anchor. Interleaved, so
    /// drift on a noisy machine (fsync, other load) hits both sides alike.
    fn time_runs(&self, src: &str, sqlx_cli: bool) -> anyhow::Result<(Duration, Option<Duration>)> {
        let url = self.url_for(TARGET_DB);
        let (mut ours, mut anchor) = (Vec::new(), Vec::new());
        for _ in 0..RUNS {
            self.fresh_target()?;
            let t = Instant::now();
            let out = self
                .xtask(&url)
                .args(["migrate", "run", "--no-env-file", "--source", src])
                .quiet()
                .ignore_status()
                .output()?;
            ours.push(t.elapsed());
            anyhow::ensure!(
                out.status.success(),
                "migrate run failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            if sqlx_cli {
                self.fresh_target()?;
                let t = Instant::now();
                cmd!(
                    self.sh,
                    "sqlx migrate run --source {src} --database-url {url}"
                )
                .quiet()
                .ignore_stdout()
                .run()?;
                anchor.push(t.elapsed());
            }
        }
        let anchor = sqlx_cli.then(|| median(&mut anchor));
        Ok((median(&mut ours), anchor))
    }

    /// An empty target database, owned by the application's role.
    fn fresh_target(&self) -> anyhow::Result<()> {
        let owner = &self.db.user;
        self.superuser.execute(
            "postgres",
            &format!(
                "SET client_min_messages = warning;\nDROP DATABASE IF EXISTS {TARGET_DB};\nCREATE DATABASE {TARGET_DB} OWNER {owner};\n"
            ),
            None,
        )?;
        Ok(())
    }
}

/// `<dir>/migrations-200`: reversible pairs, one table and one index each (written once).
fn write_source(dir: &Path) -> anyhow::Result<PathBuf> {
    let source = dir.join(format!("migrations-{MIGRATIONS}"));
    let version = |i: usize| 20_000_000_000_000u64 + i as u64;
    let last = source.join(format!("{:014}_t{MIGRATIONS}.up.sql", version(MIGRATIONS)));
    if last.is_file() {
        return Ok(source);
    }
    let _ = std::fs::remove_dir_all(&source);
    std::fs::create_dir_all(&source)?;
    for i in 1..=MIGRATIONS {
        let v = version(i);
        std::fs::write(
            source.join(format!("{v:014}_t{i}.up.sql")),
            format!(
                "CREATE TABLE bench_t{i} (id bigint PRIMARY KEY, note text NOT NULL DEFAULT '');\nCREATE INDEX bench_t{i}_note ON bench_t{i} (note);\n"
            ),
        )?;
        std::fs::write(
            source.join(format!("{v:014}_t{i}.down.sql")),
            format!("DROP TABLE bench_t{i};\n"),
        )?;
    }
    Ok(source)
}
