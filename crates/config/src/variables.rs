//! The catalogue of variables this configuration reads: for documentation, `.env.example`
//! tidiness and names-only comparisons with a platform's variables.

/// When a variable must be set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Always,
    InProduction,
    /// Required when email is on (`RESEND_API_KEY` set).
    WithEmail,
    Optional,
    /// Set by the platform, never by hand.
    Platform,
}

#[derive(Debug, Clone, Copy)]
pub struct Variable {
    pub name: &'static str,
    pub need: Need,
    /// Its value must never be printed.
    pub secret: bool,
    pub doc: &'static str,
}

pub const VARIABLES: &[Variable] = &[
    Variable {
        name: "DATABASE_URL",
        need: Need::Always,
        secret: true,
        doc: "PostgreSQL URL; TLS (`sslmode=require`) is enforced for every non-local host",
    },
    Variable {
        name: "DATABASE_PUBLIC_URL",
        need: Need::Optional,
        secret: true,
        doc: "Railway's TCP-proxy URL, used from outside Railway when DATABASE_URL is `*.railway.internal`",
    },
    Variable {
        name: "NEXTAUTH_SECRET",
        need: Need::Always,
        secret: true,
        doc: "at least 32 characters, identical to the frontend's",
    },
    Variable {
        name: "ENVIRONMENT",
        need: Need::Optional,
        secret: false,
        doc: "`development` (default), `staging` or `production`",
    },
    Variable {
        name: "ALLOWED_ORIGINS",
        need: Need::InProduction,
        secret: false,
        doc: "comma-separated CORS origins, `scheme://host[:port]`",
    },
    Variable {
        name: "FRONTEND_URL",
        need: Need::InProduction,
        secret: false,
        doc: "the frontend's URL (https in production); its origin must be allowed",
    },
    Variable {
        name: "RESEND_API_KEY",
        need: Need::Optional,
        secret: true,
        doc: "Resend API key (`re_…`); turns email on",
    },
    Variable {
        name: "RESEND_API_URL",
        need: Need::Optional,
        secret: false,
        doc: "base URL of Resend's API (default `https://api.resend.com`; https in production)",
    },
    Variable {
        name: "FROM_EMAIL",
        need: Need::WithEmail,
        secret: false,
        doc: "sender, `Name <local@domain>` or `local@domain`",
    },
    Variable {
        name: "PORT",
        need: Need::Platform,
        secret: false,
        doc: "HTTP port, 1–65535 (default 8000; Railway injects it)",
    },
    Variable {
        name: "DATABASE_MAX_CONNECTIONS",
        need: Need::Optional,
        secret: false,
        doc: "pool size per replica, 1–1000 (default 10)",
    },
    Variable {
        name: "DATABASE_CONNECT_TIMEOUT_SECS",
        need: Need::Optional,
        secret: false,
        doc: "total time budget to connect, retries included, 1–600 (default 30)",
    },
    Variable {
        name: "DATABASE_TLS_FINGERPRINT",
        need: Need::Optional,
        secret: false,
        doc: "SHA-256 of the server certificate to pin (hex, colons allowed)",
    },
    Variable {
        name: "MIGRATION_LOCK_TIMEOUT_SECS",
        need: Need::Optional,
        secret: false,
        doc: "how long a migration statement may wait for a table lock, 1–600 (default 5)",
    },
    Variable {
        name: "MIGRATION_STATEMENT_TIMEOUT_SECS",
        need: Need::Optional,
        secret: false,
        doc: "how long one migration statement may run, 1–86400 (default 300)",
    },
    Variable {
        name: "MIGRATE_ON_START",
        need: Need::Optional,
        secret: false,
        doc: "run pending migrations before serving (default true); false when `backend migrate` is the pre-deploy command",
    },
    Variable {
        name: "SHUTDOWN_GRACE_SECS",
        need: Need::Optional,
        secret: false,
        doc: "time in-flight requests get after SIGTERM, 0–3600 (default 25)",
    },
    Variable {
        name: "LOG_FORMAT",
        need: Need::Optional,
        secret: false,
        doc: "`json`, `pretty` or `auto` (default: human on a terminal in development, JSON otherwise)",
    },
    Variable {
        name: "PGSSLMODE",
        need: Need::Optional,
        secret: false,
        doc: "libpq's TLS mode; may never be weaker than the policy",
    },
    Variable {
        name: "PGSSLROOTCERT",
        need: Need::Optional,
        secret: false,
        doc: "root certificate for `verify-ca`/`verify-full` when the URL has no `sslrootcert`",
    },
    Variable {
        name: "RAILWAY_ENVIRONMENT_NAME",
        need: Need::Platform,
        secret: false,
        doc: "injected by Railway; its presence means “running inside Railway”",
    },
];

/// Names whose values are secret even when they are not in the catalogue.
pub fn is_secret_name(name: &str) -> bool {
    VARIABLES.iter().any(|v| v.name == name && v.secret)
        || ["_TOKEN", "_KEY", "_SECRET", "_PASSWORD"]
            .iter()
            .any(|s| name.ends_with(s))
        || name == "PGPASSWORD"
}
