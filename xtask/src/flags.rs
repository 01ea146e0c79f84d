//! The whole command line. Doc comments are the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "IntoWork project tasks", version)]
pub(crate) struct Xtask {
    #[command(subcommand)]
    pub(crate) task: Task,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Task {
    /// Check the configuration (and, unless --offline, the database connection).
    ///
    /// Exit codes: 0 no failed check (warnings allowed), 1 a check failed, 2 usage error.
    Verify(Verify),
    /// Apply, inspect, revert or create database migrations (the set embedded in the backend).
    ///
    /// Exit codes: 0 ok, 1 failure (with the diagnosis; `status --check`: something pending
    /// or drifted), 2 usage error.
    Migrate(Migrate),
    /// Deploy to Railway and wait for the truth: the deployment's final status, then the health
    /// probe, the build it serves, and the CORS preflight a browser on FRONTEND_URL sends.
    ///
    /// Exit codes: 0 deployed, healthy, serving the deployed commit and allowing the frontend's
    /// origin; 1 anything else (pre-flight, a deploy already running, NEEDS_APPROVAL, FAILED,
    /// CRASHED, REMOVED, SKIPPED, timeout, health, stale build, CORS preflight refused, rolled
    /// back); 2 usage error.
    Deploy(Deploy),
    /// Roll the service back to an earlier deployment and wait until it serves, healthy (and
    /// allows the CORS preflight from FRONTEND_URL's origin).
    ///
    /// A migration already applied is not reverted, so first the schema is judged: the target's
    /// commit (from Railway), its migrations (from git) and what the production database applied
    /// since (through DATABASE_PUBLIC_URL). Expand only: go. A contract migration, or anything
    /// unknown: refuse before touching anything (--accept-schema overrides). Exit codes: 0 rolled
    /// back and healthy, 1 anything else (a refusal too), 2 usage error.
    Rollback(Rollback),
    /// Show or follow a Railway deployment's logs (through pipes and in CI), with diagnoses.
    ///
    /// Exit codes: 0 ok, 1 failure, 2 usage error.
    Logs(Logs),
    /// A local Railway-like stack: TLS-only PostgreSQL, verify, migrate, then the backend.
    ///
    /// Missing prerequisites (PostgreSQL server and client; as root, the `postgres` user) are
    /// installed first: the commands are printed, asked for on a terminal, run with --yes or
    /// CI set, only reported with --no-install.
    ///
    /// Exit codes: 0 ok, 1 failure (missing prerequisites, a failed step), 2 usage error.
    Dev(Dev),
    /// Measure speed and cost against the tools users would pick instead; writes target/bench/report.{json,md}.
    ///
    /// The HTTP routes run beside bench/floor (hyper + tokio-postgres, the same SQL and JSON)
    /// under the same load in the same run: the ratios to it are the goals; absolute numbers
    /// on a shared machine are noise.
    ///
    /// Never fails on a missed target (exit 0); 1 only when a measurement could not run.
    Bench(Bench),
    /// Regenerate `.sqlx/`, the offline query data every build checks its SQL against, from a
    /// throwaway TLS-only database with the migrations applied (`--check`: compare instead).
    ///
    /// Exit codes: 0 ok (`--check`: up to date), 1 failure (`--check`: a query no longer
    /// compiles against the migrations, or `.sqlx/` is out of date; the query's place is
    /// named), 2 usage error.
    Prepare(Prepare),
}

#[derive(Debug, Args)]
pub(crate) struct Prepare {
    /// Compare with the committed `.sqlx/` instead of writing it (CI runs this).
    #[arg(long)]
    pub(crate) check: bool,
    /// Apply the migrations in this directory instead of `migrations/` (to try a new
    /// migration against every query before adding it).
    #[arg(long, value_name = "DIR")]
    pub(crate) source: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct Bench {
    /// Seconds each load test runs.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub(crate) load_secs: u64,
    /// Concurrent keep-alive clients (pgbench also runs at this count, beside its own best).
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub(crate) clients: usize,
    /// Skip the cold `cargo build -p xtask` measurement (it takes minutes on 2 cores).
    #[arg(long)]
    pub(crate) no_cold_build: bool,
    /// Also write the table into docs/performance.md (between its bench markers).
    #[arg(long, conflicts_with = "only")]
    pub(crate) readme: bool,
    /// Run only this part (its report goes to target/bench/report-<part>.json and .md).
    #[arg(long, value_enum, value_name = "PART")]
    pub(crate) only: Option<BenchPart>,
}

/// A part of the bench that runs alone with `--only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum BenchPart {
    /// `GET /api/jobs?limit=20` through PgBouncer (transaction mode) against direct.
    Pooler,
}

#[derive(Debug, Args)]
pub(crate) struct Dev {
    #[command(subcommand)]
    pub(crate) action: Option<DevAction>,
    /// The backend's HTTP port (default: 8000 when free, else any free port).
    #[arg(long, value_name = "N")]
    pub(crate) port: Option<u16>,
    /// One-shot: bring everything up, probe /health/ready and the API, report, stop everything.
    #[arg(long)]
    pub(crate) check: bool,
    /// Delete the local database cluster and create a fresh one.
    #[arg(long)]
    pub(crate) reset: bool,
    /// Where the stack lives (default: target/dev in the repository); also after `stop`.
    #[arg(long, value_name = "DIR", global = true)]
    pub(crate) dir: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) install: InstallArgs,
}

/// What `dev` may do when PostgreSQL (server, client) or, as root, the `postgres` user is missing.
#[derive(Debug, Clone, Copy, Args)]
pub(crate) struct InstallArgs {
    /// Install missing prerequisites without asking (also when `CI` is set).
    #[arg(long, global = true, conflicts_with = "no_install")]
    pub(crate) yes: bool,
    /// Never install: report what is missing and the commands that would install it.
    #[arg(long, global = true)]
    pub(crate) no_install: bool,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub(crate) enum DevAction {
    /// Stop a stack left running (the backend and the database).
    Stop,
    /// Only install what `dev` and the tests need (PostgreSQL server and client; as root, the
    /// `postgres` system user), then exit: what CI runs on a fresh machine.
    Setup,
}

/// Which Railway service and environment (always passed explicitly to the CLI).
#[derive(Debug, Clone, Args)]
pub(crate) struct RailwayArgs {
    /// Railway service.
    #[arg(long, value_name = "NAME", default_value = "backend")]
    pub(crate) service: String,
    /// Railway environment.
    #[arg(long, value_name = "NAME", default_value = "production")]
    pub(crate) environment: String,
}

#[derive(Debug, Args)]
pub(crate) struct Deploy {
    #[command(flatten)]
    pub(crate) railway: RailwayArgs,
    /// Deploy the latest commit of the connected repository (default: redeploy the current image).
    #[arg(long, conflicts_with_all = ["up", "commit"])]
    pub(crate) from_source: bool,
    /// Upload and build this working tree (`railway up --detach`).
    #[arg(long, conflicts_with = "commit")]
    pub(crate) up: bool,
    /// Deploy this commit of the connected repository (7 to 40 hex digits).
    #[arg(long, value_name = "SHA", value_parser = parse_commit)]
    pub(crate) commit: Option<String>,
    /// Approve the new deployment when it stops at NEEDS_APPROVAL (default: stop, exit 1).
    #[arg(long)]
    pub(crate) approve: bool,
    /// When the new deployment is unhealthy, serves another build, refuses the frontend's CORS
    /// preflight, or crashes within --watch, roll back to the one that served before (exit 1,
    /// verdict `rolled_back`).
    #[arg(long)]
    pub(crate) rollback_on_failure: bool,
    /// With --rollback-on-failure: roll back even when a migration applied since the earlier
    /// deployment is contract (or the schema cannot be judged). Read why first.
    #[arg(long, requires = "rollback_on_failure")]
    pub(crate) accept_schema: bool,
    /// With --rollback-on-failure: how long to watch the new deployment after cutover.
    #[arg(long, value_name = "DUR", default_value = "2m", value_parser = humantime::parse_duration, requires = "rollback_on_failure")]
    pub(crate) watch: std::time::Duration,
    #[command(flatten)]
    pub(crate) wait: WaitArgs,
    /// Probe this URL instead of https://$RAILWAY_PUBLIC_DOMAIN/health/ready (the build is read
    /// from /health on the same origin).
    #[arg(long, value_name = "URL")]
    pub(crate) health_url: Option<String>,
    /// Deploy without the pre-flight checks (variables, settings, plan, pooler), printed loudly.
    #[arg(long)]
    pub(crate) skip_verify: bool,
    /// The Railway service of the pooler (PgBouncer) in front of the database, checked by the
    /// pre-flight as `verify --remote` checks it; default: the service DATABASE_URL
    /// references, when it is PgBouncer.
    #[arg(long, value_name = "NAME", conflicts_with = "skip_verify")]
    pub(crate) pooler_service: Option<String>,
    /// Run the read-only pre-flight, print the commands a deploy would run, change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// End with one JSON summary document on stdout.
    #[arg(long)]
    pub(crate) json: bool,
    /// Local env file whose variable names are compared with the platform's.
    #[command(flatten)]
    pub(crate) env: EnvFileArgs,
    #[command(flatten)]
    pub(crate) frontend: FrontendArgs,
}

/// The Next.js frontend in front of this service: checked on the platform (`verify --remote`,
/// `deploy`'s pre-flight) — same NEXTAUTH_SECRET, an API URL that reaches this service's
/// public domains, FRONTEND_URL and ALLOWED_ORIGINS that match the frontend's own domains.
#[derive(Debug, Clone, Args)]
pub(crate) struct FrontendArgs {
    /// The frontend's Railway service: check that it calls this service at one of its public
    /// domains, that FRONTEND_URL and ALLOWED_ORIGINS name its own domains, and that it has the
    /// same NEXTAUTH_SECRET.
    #[arg(long = "frontend-service", value_name = "NAME")]
    pub(crate) frontend_service: Option<String>,
    /// The frontend's variable holding this API's base URL (default: NEXT_PUBLIC_API_URL and
    /// API_URL, whichever are set).
    #[arg(
        long = "frontend-api-var",
        value_name = "NAME",
        requires = "frontend_service"
    )]
    pub(crate) frontend_api_var: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct Rollback {
    #[command(flatten)]
    pub(crate) railway: RailwayArgs,
    /// Roll back to this deployment (default: the newest older one that can be rolled back to,
    /// i.e. the one that served before the active deployment).
    #[arg(long, value_name = "DEPLOYMENT_ID")]
    pub(crate) to: Option<String>,
    #[command(flatten)]
    pub(crate) wait: WaitArgs,
    /// Probe this URL instead of https://$RAILWAY_PUBLIC_DOMAIN/health/ready.
    #[arg(long, value_name = "URL")]
    pub(crate) health_url: Option<String>,
    /// Print the target and the commands, change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// End with one JSON summary document on stdout.
    #[arg(long)]
    pub(crate) json: bool,
    /// Roll back even when a migration applied since the target deployment is contract (the
    /// earlier build may break against it), or when the schema cannot be judged. Read why first.
    #[arg(long)]
    pub(crate) accept_schema: bool,
}

/// How deploy and rollback wait, and what they do when a deployment is already running.
#[derive(Debug, Clone, Args)]
pub(crate) struct WaitArgs {
    /// Give up waiting after this long (e.g. `10m`, `90s`).
    #[arg(long, value_name = "DUR", default_value = "10m", value_parser = humantime::parse_duration)]
    pub(crate) timeout: std::time::Duration,
    /// How often to poll the deployment's status and logs.
    #[arg(long, value_name = "DUR", default_value = "3s", value_parser = humantime::parse_duration)]
    pub(crate) poll_interval: std::time::Duration,
    /// When another deployment is in progress, wait for it to finish, then go.
    #[arg(long, conflicts_with = "force")]
    pub(crate) wait_for_running: bool,
    /// Go even though another deployment is in progress (it may be cancelled or replaced).
    #[arg(long)]
    pub(crate) force: bool,
}

/// A commit SHA as the CLI takes it: 7 to 40 hex digits, lowercased.
fn parse_commit(text: &str) -> Result<String, String> {
    let sha = text.trim().to_ascii_lowercase();
    if (7..=40).contains(&sha.len()) && sha.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(sha)
    } else {
        Err(format!(
            "`{text}` is not a commit SHA (7 to 40 hexadecimal digits)"
        ))
    }
}

#[derive(Debug, Args)]
pub(crate) struct Logs {
    #[command(flatten)]
    pub(crate) railway: RailwayArgs,
    /// This deployment (default: the newest successful one, as the CLI does).
    #[arg(long, value_name = "ID", conflicts_with = "latest")]
    pub(crate) deployment: Option<String>,
    /// The newest deployment, whatever its status (e.g. one still building or just failed).
    #[arg(long)]
    pub(crate) latest: bool,
    /// Build logs instead of runtime logs.
    #[arg(long)]
    pub(crate) build: bool,
    /// Keep printing new lines (works through pipes and in CI) until Ctrl-C or the deployment ends.
    #[arg(long)]
    pub(crate) follow: bool,
    /// Only lines newer than this (e.g. `10m`, `2h`).
    #[arg(long, value_name = "DUR", value_parser = humantime::parse_duration)]
    pub(crate) since: Option<std::time::Duration>,
    /// Railway's log filter, e.g. `@level:error` or a word.
    #[arg(long, value_name = "QUERY")]
    pub(crate) filter: Option<String>,
    /// At most this many lines (without --follow).
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub(crate) lines: u32,
    /// One JSON object per line, with `hint` where a diagnosis applies.
    #[arg(long)]
    pub(crate) json: bool,
    /// How often --follow polls.
    #[arg(long, value_name = "DUR", default_value = "2s", value_parser = humantime::parse_duration)]
    pub(crate) poll_interval: std::time::Duration,
}

/// Where the configuration comes from: the process environment, layered over an env file.
#[derive(Debug, Args)]
pub(crate) struct EnvFileArgs {
    /// Env file under the environment (default: `.env` at the repository root, when it exists).
    #[arg(long, value_name = "PATH", conflicts_with = "no_env_file")]
    pub(crate) env_file: Option<PathBuf>,
    /// Read the process environment only.
    #[arg(long)]
    pub(crate) no_env_file: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("frontend_checks").arg("frontend_service").requires("remote")))]
pub(crate) struct Verify {
    #[command(flatten)]
    pub(crate) env: EnvFileArgs,
    /// Skip the checks that connect to the database.
    #[arg(long)]
    pub(crate) offline: bool,
    /// Print exactly one JSON document on stdout.
    #[arg(long)]
    pub(crate) json: bool,
    /// Check the Railway service's variables instead of the local environment.
    #[arg(long)]
    pub(crate) remote: bool,
    #[command(flatten)]
    pub(crate) railway: RailwayArgs,
    #[command(flatten)]
    pub(crate) frontend: FrontendArgs,
    /// How many replicas share the database (for the max_connections check).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub(crate) replicas: u32,
    /// Server connections the pooler in front of the database may open (its
    /// DEFAULT_POOL_SIZE × its replicas, which `verify --remote` prints): counted with the
    /// direct connections against DATABASE_DIRECT_URL's max_connections.
    #[arg(long, value_name = "N", conflicts_with = "remote", value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub(crate) pooler_connections: Option<u32>,
    /// The Railway service of the pooler (PgBouncer) in front of the database; default: the
    /// service DATABASE_URL references, when it is PgBouncer.
    #[arg(long, value_name = "NAME", requires = "remote")]
    pub(crate) pooler_service: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct Migrate {
    #[command(subcommand)]
    pub(crate) action: MigrateAction,
}

#[derive(Debug, Subcommand)]
pub(crate) enum MigrateAction {
    /// Apply every pending migration (under the migration lock, with lock and statement timeouts).
    Run(MigrateRun),
    /// List applied and pending migrations, and any drift, without changing anything.
    Status(MigrateStatus),
    /// Revert applied migrations newer than --target (default: only the newest), newest first.
    Revert(MigrateRevert),
    /// Create a reversible pair `migrations/<timestamp>_<name>.{up,down}.sql` (sqlx-cli's naming).
    Add(MigrateAdd),
    /// Judge every up migration before it ships (squawk's rules for a live service, plus
    /// sqlx's `-- no-transaction`): each finding with its file:line, what it blocks in
    /// production, the exact rewrite, and contract or locking; each migration expand or
    /// contract. Offline: no database.
    ///
    /// Exit codes: 0 no finding (or every one excepted with a reason), 1 findings, 2 usage error.
    Lint(MigrateLint),
}

#[derive(Debug, Args)]
pub(crate) struct MigrateLint {
    /// Lint the migrations in this directory (default: `migrations/` of the repository).
    #[arg(long, value_name = "DIR")]
    pub(crate) source: Option<PathBuf>,
    /// Print exactly one JSON document on stdout.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct MigrateRun {
    #[command(flatten)]
    pub(crate) env: EnvFileArgs,
    /// A migrations directory read at run time instead of the embedded set (for trying
    /// migrations out and for benchmarks; deployments always use the embedded set).
    #[arg(long, value_name = "DIR")]
    pub(crate) source: Option<PathBuf>,
    /// Run the pending SQL in a transaction that is rolled back, and report what would change.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Print exactly one JSON document on stdout.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct MigrateStatus {
    #[command(flatten)]
    pub(crate) env: EnvFileArgs,
    /// A migrations directory read at run time instead of the embedded set (for trying
    /// migrations out and for benchmarks; deployments always use the embedded set).
    #[arg(long, value_name = "DIR")]
    pub(crate) source: Option<PathBuf>,
    /// Exit 1 when anything is pending or drifted (for CI).
    #[arg(long)]
    pub(crate) check: bool,
    /// Print exactly one JSON document on stdout.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct MigrateRevert {
    #[command(flatten)]
    pub(crate) env: EnvFileArgs,
    /// A migrations directory read at run time instead of the embedded set (for trying
    /// migrations out and for benchmarks; deployments always use the embedded set).
    #[arg(long, value_name = "DIR")]
    pub(crate) source: Option<PathBuf>,
    /// Keep migrations up to this version applied (0: revert everything).
    #[arg(long, value_name = "VERSION")]
    pub(crate) target: Option<i64>,
    /// Run the down SQL in a transaction that is rolled back, and report what would change.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Print exactly one JSON document on stdout.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct MigrateAdd {
    /// What the migration does, e.g. `add_job_offer_tags` (spaces become underscores).
    pub(crate) name: String,
    /// Where to write the pair (default: `migrations/` at the repository root, the embedded set).
    #[arg(long, value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,
}

/// Parses the command line; usage errors exit 2 (clap's convention, kept by every task).
/// clap quotes a refused argument verbatim, so its message is rendered from the arguments
/// with their control characters escaped (and escaped line by line again when printed).
pub(crate) fn parse() -> Xtask {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    Xtask::try_parse_from(&args).unwrap_or_else(|raw| {
        let err = Xtask::try_parse_from(intowork_config::escape_args(&args))
            .err()
            .unwrap_or(raw);
        let text = intowork_config::escape_lines(&err.render().to_string());
        if err.use_stderr() {
            eprint!("{text}");
        } else {
            print!("{text}");
        }
        std::process::exit(err.exit_code())
    })
}
