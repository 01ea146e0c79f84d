//! `cargo xtask bench`: our figures next to the tools users would pick instead, measured in
//! one run on one machine (these machines are small and noisy: only ratios mean something).
//! Never fails on a missed target; writes target/bench/report.json and report.md.

mod bouncer;
mod cpu;
mod floor;
mod image_build;
mod load;
mod measure;
mod migrations;
mod pgbench;
mod pooler;
mod report;
mod rows;
mod scenario;
mod session;
mod throughput;
mod wrk;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use intowork_pglocal::{Persistent, Pg};
use xshell::{Shell, cmd};

use crate::util::exit::Reported;
use crate::{flags, util::config_source};
use report::{Report, Row};
use rows::{info, skip};

/// Enough for the pgbench anchor's clients plus the backend's pool.
const BENCH_MAX_CONNECTIONS: u32 = 300;

impl flags::Bench {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let root = config_source::project_root();
        let dir = root.join("target").join("bench");
        std::fs::create_dir_all(&dir)?;
        let pg = Pg::find().map_err(|missing| {
            Reported(format!(
                "bench: {missing} (`cargo xtask dev setup` installs it)"
            ))
        })?;
        let mut rows = Vec::new();

        if self.only.is_none() {
            println!("bench: build cost");
            rows.push(self.cold_build(sh, &dir)?);
            rows.extend(self.image_build(&root, &dir)?);
        }
        let bins = release_binaries(sh, &root)?;
        if self.only.is_none() {
            rows.push(help_start(&bins)?);
        }

        println!("bench: local TLS-only PostgreSQL");
        let cluster = Persistent::new(pg.clone(), dir.join("pg"), BENCH_MAX_CONNECTIONS);
        cluster.start()?;
        let measured = self.against_the_database(&cluster, &bins, &dir, &pg);
        // Stopped whatever happened: the bench's cluster is not left running.
        cluster.stop()?;
        rows.extend(measured?);
        let report = Report {
            generated_at: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            machine: machine(sh),
            rows,
        };
        let name = match self.only {
            None => "report",
            Some(flags::BenchPart::Pooler) => "report-pooler",
        };
        std::fs::write(
            dir.join(format!("{name}.json")),
            serde_json::to_string_pretty(&report)?,
        )?;
        std::fs::write(dir.join(format!("{name}.md")), report.markdown())?;
        println!("\n{}", report.table());
        for r in report.rows.iter().filter(|r| !r.note.is_empty()) {
            println!("note: {}: {}", r.name, r.note);
        }
        println!("written: target/bench/{name}.json, target/bench/{name}.md");
        if self.readme {
            let path = root.join(report::TABLE_DOC);
            let doc = std::fs::read_to_string(&path)
                .with_context(|| format!("failed to read `{}`", path.display()))?;
            let block = report.readme_block(&self.command_line());
            std::fs::write(&path, report::splice(&doc, &block)?)
                .with_context(|| format!("failed to write `{}`", path.display()))?;
            println!("written: {} (the latest run's table)", report::TABLE_DOC);
        }
        Ok(())
    }

    /// This run's command, for the performance doc to say how its table was made.
    fn command_line(&self) -> String {
        let mut line = format!(
            "cargo xtask bench --load-secs {} --clients {}",
            self.load_secs, self.clients
        );
        if self.no_cold_build {
            line.push_str(" --no-cold-build");
        }
        line + " --readme"
    }

    /// Every measure that needs the database, in order.
    fn against_the_database(
        &self,
        cluster: &Persistent,
        bins: &BenchBinaries,
        dir: &Path,
        pg: &Pg,
    ) -> anyhow::Result<Vec<Row>> {
        let superuser = cluster.superuser()?;
        let db = superuser.ensure_database(crate::dev::APP_DB)?;
        // The measured commands are built in closures run many times: one shell for the run.
        let sh = Shell::new()?;
        let ctx =
            scenario::Context::new(&sh, superuser, db, bins, dir, pg, cluster.postmaster_pid());
        let mut rows = Vec::new();
        let load = Duration::from_secs(self.load_secs);
        if self.only == Some(flags::BenchPart::Pooler) {
            println!("bench: `GET /api/jobs` through PgBouncer (transaction mode) vs direct");
            rows.extend(ctx.pooler(self.clients, load)?);
            return Ok(rows);
        }
        println!("bench: connect + prove TLS");
        rows.push(ctx.connect_vs_psql()?);
        println!("bench: migrations");
        rows.extend(ctx.migrations()?);
        println!("bench: backend start-up");
        rows.push(ctx.startup()?);
        println!(
            "bench: memory and throughput ({} clients, {} s per run)",
            self.clients, self.load_secs
        );
        rows.extend(ctx.load(self.clients, load)?);
        println!("bench: signed-in requests (session token check, `GET /api/me`)");
        rows.extend(ctx.session(self.clients, load)?);
        println!("bench: `GET /api/jobs` through PgBouncer (transaction mode) vs direct");
        rows.extend(ctx.pooler(self.clients, load)?);
        Ok(rows)
    }

    /// A cold debug build of xtask, in a target directory of its own (removed after).
    fn cold_build(&self, sh: &Shell, dir: &Path) -> anyhow::Result<Row> {
        let name = "cold `cargo build -p xtask` (debug)".to_owned();
        if self.no_cold_build {
            return Ok(skip(&name, "--no-cold-build"));
        }
        let target = dir.join("cold-target");
        let _ = std::fs::remove_dir_all(&target);
        let t = std::time::Instant::now();
        crate::util::cargo::cargo(sh, &["build", "--quiet", "--offline", "--package", "xtask"])
            .env("CARGO_TARGET_DIR", &target)
            .quiet()
            .run()
            .context("cold build failed")?;
        let took = t.elapsed();
        let _ = std::fs::remove_dir_all(&target);
        Ok(info(
            &name,
            format!("{:.0} s", took.as_secs_f64()),
            "from an empty target directory, dependencies included, offline from Cargo.lock",
        ))
    }
}

impl flags::Bench {
    /// The image's build, cold and after a code-only change (minutes: skipped with the cold build).
    fn image_build(&self, root: &Path, dir: &Path) -> anyhow::Result<Vec<Row>> {
        if self.no_cold_build {
            let names = [
                "image build, no layer cached",
                "image build after a code-only change",
            ];
            return Ok(names.iter().map(|n| skip(n, "--no-cold-build")).collect());
        }
        println!("bench: the image's build");
        image_build::rows(root, dir)
    }
}

#[derive(Debug)]
pub(crate) struct BenchBinaries {
    pub(crate) xtask: PathBuf,
    pub(crate) backend: PathBuf,
    /// bench/floor: the backend's routes on hyper + tokio-postgres, the per-request anchor.
    pub(crate) floor: PathBuf,
}

fn release_binaries(sh: &Shell, root: &Path) -> anyhow::Result<BenchBinaries> {
    println!("  cargo build --release -p xtask -p intowork-backend -p intowork-floor");
    crate::util::cargo::cargo(
        sh,
        &[
            "build",
            "--quiet",
            "--release",
            "--package",
            "xtask",
            "--package",
            "intowork-backend",
            "--package",
            "intowork-floor",
        ],
    )
    .quiet()
    .run()
    .context("release build failed")?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    Ok(BenchBinaries {
        xtask: target.join("release/xtask"),
        backend: target.join("release/backend"),
        floor: target.join("release/floor"),
    })
}

fn help_start(bins: &BenchBinaries) -> anyhow::Result<Row> {
    let sh = Shell::new()?;
    let bin = &bins.xtask;
    let t = measure::median_of(21, || cmd!(sh, "{bin} --help"))?;
    Ok(info(
        "`xtask --help` warm start (release)",
        format!("{:.1} ms", measure::ms(t)),
        "",
    ))
}

fn machine(sh: &Shell) -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let kernel = cmd!(sh, "uname -sr").quiet().read().unwrap_or_default();
    let pg = cmd!(sh, "psql --version")
        .quiet()
        .read()
        .unwrap_or_default();
    format!("{cores} cores, {kernel}, {pg}")
}
