//! `Settings`: built from a [`Source`] in one pass that reports every problem at once.

use std::fmt;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use crate::auth::parse_nextauth_secret;
use crate::checker::Checker;
use crate::database::{DatabaseSettings, check_database, check_migration_route};
use crate::echo::shown_url;
use crate::email::{EmailSettings, Mailbox, check_resend_api_url, parse_resend_key};
use crate::environment::Environment;
use crate::http::{
    AllowedOrigins, DEV_ORIGIN, frontend_origin_problem, parse_allowed_origins, parse_frontend_url,
};
use crate::report::Report;
use crate::secrets::SecretSet;
use crate::service::{LogFormat, ServiceSettings, parse_bool};
use crate::source::Source;

pub(crate) const DEFAULT_PORT: u16 = 8000;
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;
pub(crate) const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 30;
/// Short enough that a migration queued behind a long transaction fails instead of making
/// every query on the table queue behind it.
pub(crate) const DEFAULT_MIGRATION_LOCK_TIMEOUT_SECS: u64 = 5;
pub(crate) const DEFAULT_MIGRATION_STATEMENT_TIMEOUT_SECS: u64 = 300;
/// Railway sends SIGKILL after its draining period; stay under its 30 s default overlap.
pub const DEFAULT_SHUTDOWN_GRACE_SECS: u64 = 25;

/// The only view of configuration the rest of the code has. Every value in it is valid.
/// Its `Debug` is masked against every secret the source held (see [`SecretSet`]).
#[derive(Clone)]
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
    secrets: SecretSet,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let frontend_url = self.frontend_url.as_ref().map(|u| shown_url(u.as_str()));
        let shown = format!(
            "Settings {{ environment: {:?}, railway_environment: {:?}, database: {:?}, nextauth_secret: {:?}, port: {}, allowed_origins: {:?}, frontend_url: {:?}, email: {:?}, migrations: {:?}, service: {:?} }}",
            self.environment,
            self.railway_environment,
            self.database,
            self.nextauth_secret,
            self.port,
            self.allowed_origins,
            frontend_url,
            self.email,
            self.migrations,
            self.service,
        );
        f.write_str(&self.secrets.mask(&shown))
    }
}

/// Session limits for schema migrations. `Default` holds the defaults of the two variables;
/// the migration code takes them from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigrationSettings {
    /// `MIGRATION_LOCK_TIMEOUT_SECS`: how long a DDL statement may wait for a table lock.
    pub lock_timeout: Duration,
    /// `MIGRATION_STATEMENT_TIMEOUT_SECS`: how long one statement may run.
    pub statement_timeout: Duration,
}

impl Default for MigrationSettings {
    fn default() -> MigrationSettings {
        MigrationSettings {
            lock_timeout: Duration::from_secs(DEFAULT_MIGRATION_LOCK_TIMEOUT_SECS),
            statement_timeout: Duration::from_secs(DEFAULT_MIGRATION_STATEMENT_TIMEOUT_SECS),
        }
    }
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
        let port = ck
            .number("PORT", DEFAULT_PORT.into(), (1, 65535), "a port")
            .map(|p| p as u16);

        let migrations = check_migrations(&mut ck);
        let service = check_service(&mut ck);
        if let Some(db) = &database {
            check_migration_route(&mut ck, db, service.map(|s| s.migrate_on_start));
        }

        let secrets = ck.secrets().clone();
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
                secrets,
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
        Err(problems) => {
            ck.record_all("NEXTAUTH_SECRET", problems);
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
                    ck.pass("FRONTEND_URL", shown_url(url.as_str()));
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

/// `Some(None)`: email off. `None`: a problem was recorded. Each variable's own rule runs
/// whatever the others hold (a bad `FROM_EMAIL` is reported next to a bad key).
fn check_email(ck: &mut Checker<'_>, env: Environment) -> Option<Option<EmailSettings>> {
    let api_url = check_resend_api_url(ck, env);
    let key_text = ck.text("RESEND_API_KEY");
    let key = match key_text.map(parse_resend_key) {
        Some(Err(p)) => {
            ck.record_all("RESEND_API_KEY", vec![p]);
            None
        }
        Some(Ok(key)) => Some(key),
        None => None,
    };
    // A key was given, valid or not: email is meant to be on, so it needs a sender.
    let from_text = match key_text {
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
            None
        }
        None => None,
    };
    if ["RESEND_API_KEY", "FROM_EMAIL"]
        .iter()
        .any(|v| ck.failed(v))
    {
        return None;
    }
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
    let lock = ck.number(
        "MIGRATION_LOCK_TIMEOUT_SECS",
        DEFAULT_MIGRATION_LOCK_TIMEOUT_SECS,
        (1, 600),
        "a number of seconds",
    );
    let statement = ck.number(
        "MIGRATION_STATEMENT_TIMEOUT_SECS",
        DEFAULT_MIGRATION_STATEMENT_TIMEOUT_SECS,
        (1, 86_400),
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
    let grace = ck.number(
        "SHUTDOWN_GRACE_SECS",
        DEFAULT_SHUTDOWN_GRACE_SECS,
        (0, 3600),
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
