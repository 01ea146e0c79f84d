//! `Settings`: built from a [`Source`] in one pass that reports every problem at once.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use crate::auth::parse_nextauth_secret;
use crate::checker::Checker;
use crate::database::{
    DatabaseSettings, DatabaseUrl, Fingerprint, HostClass, TargetChoice, TlsMode, TlsSource,
    UrlContext,
};
use crate::email::{EmailSettings, Mailbox, check_resend_api_url, parse_resend_key};
use crate::environment::Environment;
use crate::http::{
    AllowedOrigins, DEV_ORIGIN, frontend_origin_problem, parse_allowed_origins, parse_bounded,
    parse_frontend_url,
};
use crate::problem::Problem;
use crate::report::Report;
use crate::service::{LogFormat, ServiceSettings, parse_bool};
use crate::source::Source;

pub const DEFAULT_PORT: u16 = 8000;
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;
pub const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 30;
/// Short enough that a migration queued behind a long transaction fails instead of making
/// every query on the table queue behind it.
pub const DEFAULT_MIGRATION_LOCK_TIMEOUT_SECS: u64 = 5;
pub const DEFAULT_MIGRATION_STATEMENT_TIMEOUT_SECS: u64 = 300;
/// Railway sends SIGKILL after its draining period; stay under its 30 s default overlap.
pub const DEFAULT_SHUTDOWN_GRACE_SECS: u64 = 25;

/// The only view of configuration the rest of the code has. Every value in it is valid.
#[derive(Debug, Clone)]
pub struct Settings {
    environment: Environment,
    railway_environment: Option<String>,
    database: DatabaseSettings,
    nextauth_secret: SecretString,
    port: u16,
    allowed_origins: AllowedOrigins,
    frontend_url: Option<Url>,
    email: Option<EmailSettings>,
    migrations: MigrationSettings,
    service: ServiceSettings,
}

/// Session limits for schema migrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigrationSettings {
    /// `MIGRATION_LOCK_TIMEOUT_SECS`: how long a DDL statement may wait for a table lock.
    pub lock_timeout: Duration,
    /// `MIGRATION_STATEMENT_TIMEOUT_SECS`: how long one statement may run.
    pub statement_timeout: Duration,
}

/// Valid settings, with the checklist that proved them (warnings included).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub settings: Settings,
    pub report: Report,
}

/// The configuration is invalid; the report holds every problem, passes and warnings too.
#[derive(Debug, Clone, thiserror::Error)]
pub struct Invalid {
    pub report: Report,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failures: Vec<_> = self.report.failures().collect();
        write!(
            f,
            "invalid configuration ({} problem{}):",
            failures.len(),
            if failures.len() == 1 { "" } else { "s" }
        )?;
        for check in failures {
            write!(f, "\n  - {check}")?;
        }
        Ok(())
    }
}

impl Settings {
    /// Reads and validates everything; returns all problems at once.
    pub fn load(source: &Source) -> Result<Loaded, Invalid> {
        let mut ck = Checker::new(source);
        let environment = check_environment(&mut ck);
        let railway_environment = check_railway(&mut ck);
        let database = check_database(&mut ck, railway_environment.is_some());
        let nextauth_secret = check_nextauth(&mut ck);
        let (allowed_origins, frontend_url) = check_http(&mut ck, environment);
        let email = check_email(&mut ck, environment);
        let port = check_number(&mut ck, "PORT", DEFAULT_PORT.into(), 1, 65535, "a port")
            .map(|p| p as u16);

        let migrations = check_migrations(&mut ck);
        let service = check_service(&mut ck);

        let report = ck.report;
        // Every `None` above was recorded in the report as a failure.
        let settings = (|| {
            Some(Settings {
                environment,
                railway_environment,
                database: database?,
                nextauth_secret: nextauth_secret?,
                port: port?,
                allowed_origins: allowed_origins?,
                frontend_url: frontend_url?,
                email: email?,
                migrations: migrations?,
                service: service?,
            })
        })();
        match settings {
            Some(settings) if !report.has_failures() => Ok(Loaded { settings, report }),
            _ => Err(Invalid { report }),
        }
    }

    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// Railway's environment name when running inside Railway.
    pub fn railway_environment(&self) -> Option<&str> {
        self.railway_environment.as_deref()
    }

    pub fn database(&self) -> &DatabaseSettings {
        &self.database
    }

    pub fn nextauth_secret(&self) -> &SecretString {
        &self.nextauth_secret
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn allowed_origins(&self) -> &AllowedOrigins {
        &self.allowed_origins
    }

    pub fn frontend_url(&self) -> Option<&Url> {
        self.frontend_url.as_ref()
    }

    pub fn migrations(&self) -> MigrationSettings {
        self.migrations
    }

    pub fn service(&self) -> ServiceSettings {
        self.service
    }

    /// `Some` when email is on (`RESEND_API_KEY` set).
    pub fn email(&self) -> Option<&EmailSettings> {
        self.email.as_ref()
    }
}

fn check_environment(ck: &mut Checker<'_>) -> Environment {
    let Some(text) = ck.text("ENVIRONMENT") else {
        ck.pass("ENVIRONMENT", "not set: development rules apply");
        return Environment::Development;
    };
    match text.parse::<Environment>() {
        Ok(env) => {
            ck.pass("ENVIRONMENT", format!("{env} rules apply"));
            env
        }
        Err(problem) => {
            ck.record_all("ENVIRONMENT", vec![problem]);
            // Keep checking the rest under the strictest rules.
            Environment::Production
        }
    }
}

/// Railway injects `RAILWAY_ENVIRONMENT_NAME` (older projects: `RAILWAY_ENVIRONMENT`).
fn check_railway(ck: &mut Checker<'_>) -> Option<String> {
    let name = ck
        .text("RAILWAY_ENVIRONMENT_NAME")
        .or_else(|| ck.text("RAILWAY_ENVIRONMENT"));
    let var = if ck.origin("RAILWAY_ENVIRONMENT_NAME").is_some() {
        "RAILWAY_ENVIRONMENT_NAME"
    } else {
        "RAILWAY_ENVIRONMENT"
    };
    match name {
        Some(name) => ck.pass(
            var,
            format!("running inside Railway (environment `{name}`)"),
        ),
        None => ck.report.push(crate::report::Check::new(
            "railway.context",
            crate::report::Status::Pass,
            "running outside Railway: private `*.railway.internal` hosts cannot be resolved here",
        )),
    }
    name.map(str::to_owned)
}

const DATABASE_URL_HINT: &str = "set it in the service's variables (Railway: reference `${{Postgres.DATABASE_URL}}`); locally, run `cargo xtask dev` or put it in .env";

fn check_database(ck: &mut Checker<'_>, inside_railway: bool) -> Option<DatabaseSettings> {
    let ctx = UrlContext {
        pgsslrootcert: ck.text("PGSSLROOTCERT").map(PathBuf::from),
        pgsslmode: ck
            .source()
            .lookup("PGSSLMODE")
            .text()
            .and_then(TlsMode::parse_sslmode),
    };
    let url = ck
        .required("DATABASE_URL", DATABASE_URL_HINT)
        .and_then(|t| parse_url(ck, "DATABASE_URL", t, &ctx));
    let public_url = ck
        .text("DATABASE_PUBLIC_URL")
        .map(|t| parse_url(ck, "DATABASE_PUBLIC_URL", t, &ctx));

    let max_connections = check_number(
        ck,
        "DATABASE_MAX_CONNECTIONS",
        DEFAULT_MAX_CONNECTIONS.into(),
        1,
        1000,
        "a pool size",
    );
    let connect_timeout = check_number(
        ck,
        "DATABASE_CONNECT_TIMEOUT_SECS",
        DEFAULT_CONNECT_TIMEOUT_SECS,
        1,
        600,
        "a number of seconds",
    );

    let url = url?;
    let public_url = match public_url {
        Some(None) => return None,
        Some(Some(u)) => Some(u),
        None => None,
    };
    let target = choose_target(ck, &url, public_url.as_ref(), inside_railway);
    let target_url = if target == TargetChoice::PublicUrl {
        public_url.as_ref()?
    } else {
        &url
    };
    let pgsslmode_ok = check_pgsslmode(ck, target_url);
    let fingerprint = check_fingerprint(ck, target_url.tls_mode());
    if target_url.is_pooler() {
        let problem = Problem::warning("pooler", format!("`{}` looks like a transaction pooler (PgBouncer): prepared statements break behind it, so the statement cache is turned off", target_url.endpoint()))
            .hint("connect to the database directly when you can; keep the pool small otherwise");
        let var = if target == TargetChoice::PublicUrl {
            "DATABASE_PUBLIC_URL"
        } else {
            "DATABASE_URL"
        };
        ck.record_all(var, vec![problem]);
    }
    if !pgsslmode_ok {
        return None;
    }
    Some(DatabaseSettings {
        url,
        public_url,
        target,
        max_connections: max_connections? as u32,
        connect_timeout: Duration::from_secs(connect_timeout?),
        tls_fingerprint: fingerprint?,
    })
}

fn parse_url(
    ck: &mut Checker<'_>,
    var: &'static str,
    text: &str,
    ctx: &UrlContext,
) -> Option<DatabaseUrl> {
    let mut problems = Vec::new();
    let url = DatabaseUrl::parse(text, ctx, &mut problems);
    ck.record_all(var, problems);
    let url = url?;
    ck.pass(
        var,
        format!(
            "{} ({}, TLS `{}` from {})",
            url.masked(),
            url.class(),
            url.tls_mode(),
            url.tls_source()
        ),
    );
    Some(url)
}

fn choose_target(
    ck: &mut Checker<'_>,
    url: &DatabaseUrl,
    public: Option<&DatabaseUrl>,
    inside_railway: bool,
) -> TargetChoice {
    if url.class() != HostClass::RailwayPrivate || inside_railway {
        return TargetChoice::DatabaseUrl;
    }
    let host = url.host();
    match public {
        Some(public) => {
            ck.record_all(
                "DATABASE_URL",
                vec![Problem::warning("private_host", format!("`{host}` resolves only inside Railway; checks from here connect through DATABASE_PUBLIC_URL (`{}`)", public.endpoint()))],
            );
            TargetChoice::PublicUrl
        }
        None => {
            ck.record_all(
                "DATABASE_URL",
                vec![Problem::warning("private_host", format!("`{host}` resolves only inside Railway: it cannot be reached from here"))
                    .hint("set DATABASE_PUBLIC_URL (the database's TCP proxy URL) for local and CI checks, or open a tunnel with `railway connect --tunnel-only`")],
            );
            TargetChoice::DatabaseUrl
        }
    }
}

/// sqlx reads `PGSSLMODE` and silently turns an unparsable one into `prefer`; we set the mode
/// in code, but a weaker `PGSSLMODE` still says someone meant to turn TLS down.
fn check_pgsslmode(ck: &mut Checker<'_>, url: &DatabaseUrl) -> bool {
    let Some(text) = ck.text("PGSSLMODE") else {
        return !ck.failed("PGSSLMODE");
    };
    // Remote hosts: TLS is the policy. Local hosts: whatever the URL itself asks for.
    let policy = if url.class().is_remote() {
        TlsMode::Require
    } else if matches!(url.tls_source(), TlsSource::SslMode(_) | TlsSource::Ssl(_)) {
        url.tls_mode()
    } else {
        TlsMode::Disable
    };
    let problem = match TlsMode::parse_sslmode(text) {
        None => Problem::error(
            "invalid",
            format!("`{text}` is not a TLS mode (the driver would silently use `prefer`)"),
        )
        .hint(format!("unset PGSSLMODE, or set it to `{policy}`")),
        Some(mode) if mode < policy => Problem::error(
            "weaker",
            format!("`{mode}` is weaker than the `{policy}` the database URL requires"),
        )
        .hint(format!("unset PGSSLMODE, or set it to `{policy}`")),
        Some(mode) => {
            ck.pass(
                "PGSSLMODE",
                format!(
                    "`{mode}` agrees with the database URL, which uses `{}`",
                    url.tls_mode()
                ),
            );
            return true;
        }
    };
    ck.record_all("PGSSLMODE", vec![problem])
}

/// `Some(None)`: no pin. `None`: a problem was recorded.
fn check_fingerprint(ck: &mut Checker<'_>, mode: TlsMode) -> Option<Option<Fingerprint>> {
    const VAR: &str = "DATABASE_TLS_FINGERPRINT";
    let Some(text) = ck.text(VAR) else {
        return (!ck.failed(VAR)).then_some(None);
    };
    let problem = match text.parse::<Fingerprint>() {
        Ok(_) if mode < TlsMode::Require => Problem::error(
            "needs_tls",
            format!("a certificate pin needs TLS, but the database URL uses `{mode}`"),
        )
        .hint("add `sslmode=require` to the database URL"),
        Ok(fp) => {
            ck.pass(
                VAR,
                format!("pinning the server certificate to SHA-256 {fp}"),
            );
            return Some(Some(fp));
        }
        Err(p) => p,
    };
    ck.record_all(VAR, vec![problem]);
    None
}

fn check_nextauth(ck: &mut Checker<'_>) -> Option<SecretString> {
    let text = ck.required("NEXTAUTH_SECRET", "generate one with `openssl rand -base64 32` and set the same value in the frontend's service")?;
    match parse_nextauth_secret(text) {
        Ok(secret) => {
            ck.pass(
                "NEXTAUTH_SECRET",
                format!("set ({} characters)", text.chars().count()),
            );
            Some(secret)
        }
        Err(p) => {
            ck.record_all("NEXTAUTH_SECRET", vec![p]);
            None
        }
    }
}

fn check_http(
    ck: &mut Checker<'_>,
    env: Environment,
) -> (Option<AllowedOrigins>, Option<Option<Url>>) {
    let origins = match ck.text("ALLOWED_ORIGINS") {
        Some(text) => {
            let mut problems = Vec::new();
            let parsed = parse_allowed_origins(text, env, &mut problems);
            ck.record_all("ALLOWED_ORIGINS", problems);
            if let Some(o) = &parsed {
                ck.pass("ALLOWED_ORIGINS", format!("CORS allows {o}"));
            }
            parsed
        }
        None if ck.failed("ALLOWED_ORIGINS") => None,
        None if env.is_production() => {
            ck.missing(
                "ALLOWED_ORIGINS",
                "set the frontend's origins, comma-separated, e.g. `https://app.example.com`",
            );
            None
        }
        None => {
            ck.pass(
                "ALLOWED_ORIGINS",
                format!("not set: CORS allows {DEV_ORIGIN} ({env})"),
            );
            parse_allowed_origins(DEV_ORIGIN, env, &mut Vec::new())
        }
    };

    let frontend = match ck.text("FRONTEND_URL") {
        Some(text) => {
            let mut problems = Vec::new();
            let url = parse_frontend_url(text, env, &mut problems);
            if let (Some(url), Some(origins)) = (&url, &origins) {
                problems.extend(frontend_origin_problem(url, origins, env));
            }
            let ok = ck.record_all("FRONTEND_URL", problems);
            match url {
                Some(url) if ok => {
                    ck.pass("FRONTEND_URL", url.as_str());
                    Some(Some(url))
                }
                _ => None,
            }
        }
        None if ck.failed("FRONTEND_URL") => None,
        None if env.is_production() => {
            ck.missing(
                "FRONTEND_URL",
                "set the frontend's public https URL, e.g. `https://app.example.com`",
            );
            None
        }
        None => Some(None),
    };
    (origins, frontend)
}

/// `Some(None)`: email off. `None`: a problem was recorded.
fn check_email(ck: &mut Checker<'_>, env: Environment) -> Option<Option<EmailSettings>> {
    let api_url = check_resend_api_url(ck, env);
    let key = match ck.text("RESEND_API_KEY").map(parse_resend_key) {
        None => None,
        Some(Ok(key)) => Some(key),
        Some(Err(p)) => {
            ck.record_all("RESEND_API_KEY", vec![p]);
            return None;
        }
    };
    let from_text = match &key {
        Some(_) => ck.required("FROM_EMAIL", "set the sender, e.g. `INTOWORK <noreply@your-domain.com>` (a domain verified in Resend)"),
        None => ck.text("FROM_EMAIL"),
    };
    let from = match from_text.map(str::parse::<Mailbox>) {
        Some(Ok(m)) => {
            ck.pass("FROM_EMAIL", format!("sender `{m}`"));
            Some(m)
        }
        Some(Err(p)) => {
            ck.record_all("FROM_EMAIL", vec![p]);
            return None;
        }
        None if ck.failed("FROM_EMAIL") || ck.failed("RESEND_API_KEY") => return None,
        None => None,
    };
    match (key, from) {
        (None, _) => {
            ck.pass("RESEND_API_KEY", "not set: email is off");
            Some(None)
        }
        (Some(resend_api_key), Some(from)) => {
            ck.pass("RESEND_API_KEY", "set: email goes through Resend");
            Some(Some(EmailSettings {
                resend_api_key,
                from,
                api_url: api_url?,
            }))
        }
        (Some(_), None) => None,
    }
}

fn check_migrations(ck: &mut Checker<'_>) -> Option<MigrationSettings> {
    let lock = check_number(
        ck,
        "MIGRATION_LOCK_TIMEOUT_SECS",
        DEFAULT_MIGRATION_LOCK_TIMEOUT_SECS,
        1,
        600,
        "a number of seconds",
    );
    let statement = check_number(
        ck,
        "MIGRATION_STATEMENT_TIMEOUT_SECS",
        DEFAULT_MIGRATION_STATEMENT_TIMEOUT_SECS,
        1,
        86_400,
        "a number of seconds",
    );
    Some(MigrationSettings {
        lock_timeout: Duration::from_secs(lock?),
        statement_timeout: Duration::from_secs(statement?),
    })
}

fn check_service(ck: &mut Checker<'_>) -> Option<ServiceSettings> {
    let migrate_on_start = match ck.text("MIGRATE_ON_START").map(parse_bool) {
        None if ck.failed("MIGRATE_ON_START") => None,
        None => {
            ck.pass("MIGRATE_ON_START", "not set: migrations run at start-up");
            Some(true)
        }
        Some(Ok(b)) => {
            let what = if b {
                "migrations run at start-up"
            } else {
                "migrations are left to `backend migrate` (pre-deploy command)"
            };
            ck.pass("MIGRATE_ON_START", what);
            Some(b)
        }
        Some(Err(p)) => {
            ck.record_all("MIGRATE_ON_START", vec![p]);
            None
        }
    };
    let grace = check_number(
        ck,
        "SHUTDOWN_GRACE_SECS",
        DEFAULT_SHUTDOWN_GRACE_SECS,
        0,
        3600,
        "a number of seconds",
    );
    let log_format = match ck.text("LOG_FORMAT").map(str::parse::<LogFormat>) {
        None if ck.failed("LOG_FORMAT") => None,
        None => Some(LogFormat::Auto),
        Some(Ok(f)) => {
            ck.pass("LOG_FORMAT", format!("{f}"));
            Some(f)
        }
        Some(Err(p)) => {
            ck.record_all("LOG_FORMAT", vec![p]);
            None
        }
    };
    Some(ServiceSettings {
        migrate_on_start: migrate_on_start?,
        shutdown_grace: Duration::from_secs(grace?),
        log_format: log_format?,
    })
}

fn check_number(
    ck: &mut Checker<'_>,
    var: &'static str,
    default: u64,
    min: u64,
    max: u64,
    what: &str,
) -> Option<u64> {
    let Some(text) = ck.text(var) else {
        if ck.failed(var) {
            return None;
        }
        ck.pass(var, format!("not set: {default}"));
        return Some(default);
    };
    match parse_bounded(text, min, max, what) {
        Ok(n) => {
            ck.pass(var, n.to_string());
            Some(n)
        }
        Err(p) => {
            ck.record_all(var, vec![p]);
            None
        }
    }
}
