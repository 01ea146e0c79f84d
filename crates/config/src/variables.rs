//! The catalogue of variables this configuration reads, the one place a variable is declared:
//! docs/configuration.md's variable table is generated from it ([`markdown_table`], checked by a tidy
//! test), `.env.example` is checked against it, secrets are masked by it, and platform
//! variables are compared with it by name.

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

impl Need {
    /// The variable table's "needed" column (docs/configuration.md).
    pub fn as_str(self) -> &'static str {
        match self {
            Need::Always => "always",
            Need::InProduction => "production",
            Need::WithEmail => "with email",
            Need::Optional => "optional",
            Need::Platform => "set by Railway",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Variable {
    pub name: &'static str,
    pub need: Need,
    /// Its value must never be printed.
    pub secret: bool,
    /// The rule, in Markdown: the variable table's "rule" column.
    pub doc: &'static str,
}

pub const VARIABLES: &[Variable] = &[
    Variable {
        name: "DATABASE_URL",
        need: Need::Always,
        secret: true,
        doc: "`postgres://` or `postgresql://` with host, user and database; no unresolved `${{…}}` reference; no control character in host, user, database or parameters; a repeated parameter is a warning naming the value that wins (the last). TLS: `sslmode=` (libpq/sqlx) and `ssl=` (asyncpg) are both understood. **For any host that is not local, a mode weaker than `require` is an error** (Railway's proxy resets plaintext connections: the incident); no parameter means `require`. Local means a loopback address, a unix socket, or `localhost`/`*.localhost` *resolving only to loopback addresses* (see above). `verify-ca`/`verify-full` use `sslrootcert` or `PGSSLROOTCERT` (they cannot pass against Railway's self-signed certificate: a warning says so). Port 6543 or a pgbouncer/pooler host: warning, statement cache off.",
    },
    Variable {
        name: "DATABASE_PUBLIC_URL",
        need: Need::Optional,
        secret: true,
        doc: "Railway's TCP-proxy URL, same rules. When `DATABASE_URL` is `*.railway.internal` and this process runs outside Railway (`RAILWAY_ENVIRONMENT_NAME` unset), it is the connection target (the private host cannot resolve here).",
    },
    Variable {
        name: "DATABASE_POOL_MODE",
        need: Need::Optional,
        secret: false,
        doc: "what the pooler `DATABASE_URL` points at does between transactions: `session` (default: no pooler, or a session pooler) or `transaction` (PgBouncer's transaction pooling, Railway's default; the statement cache is then off). Declared, not guessed: no client can tell the mode on the wire (`verify --remote` compares it with the pooler service's `POOL_MODE`). `statement` is refused (the backend's writes and migrations need multi-statement transactions). Unset, a pooler-looking `DATABASE_URL` (port 6543, a pgbouncer/pooler host) is a warning",
    },
    Variable {
        name: "DATABASE_DIRECT_URL",
        need: Need::Optional,
        secret: true,
        doc: "the database itself, bypassing the pooler (Railway: a reference to the database service's unpooled URL, e.g. `${{Postgres.DATABASE_URL}}`); same rules and TLS policy as `DATABASE_URL`. Migrations, their advisory lock and their session limits connect here when it is set. **With `DATABASE_POOL_MODE=transaction` it is required** (an error while `MIGRATE_ON_START` is on; otherwise a warning, and `backend migrate`/`cargo xtask migrate` refuse before sending anything), and pointing it at `DATABASE_URL`'s own endpoint is an error. A `*.railway.internal` host outside Railway is a warning: migrations from here need the database's public URL",
    },
    Variable {
        name: "NEXTAUTH_SECRET",
        need: Need::Always,
        secret: true,
        doc: "≥ 32 characters besides whitespace, not a placeholder, no leading or trailing whitespace (NextAuth uses the value untrimmed); identical to the frontend's",
    },
    Variable {
        name: "ENVIRONMENT",
        need: Need::Optional,
        secret: false,
        doc: "`development` (default), `staging`, `production`",
    },
    Variable {
        name: "ALLOWED_ORIGINS",
        need: Need::InProduction,
        secret: false,
        doc: "comma-separated `scheme://host[:port]` (no path, no trailing slash); in production no `*`, no `http://`, no localhost. Default outside production: `http://localhost:3000`",
    },
    Variable {
        name: "FRONTEND_URL",
        need: Need::InProduction,
        secret: false,
        doc: "absolute URL, `https` in production, no credentials (user-info, or a query parameter named like a secret); its origin must be in `ALLOWED_ORIGINS` (error in production, warning otherwise)",
    },
    Variable {
        name: "RESEND_API_KEY",
        need: Need::Optional,
        secret: true,
        doc: "starts with `re_`; turns email on",
    },
    Variable {
        name: "RESEND_API_URL",
        need: Need::Optional,
        secret: false,
        doc: "base URL of Resend's API, default `https://api.resend.com`; `https` in production (the key travels in a header), no credentials (user-info, or a query parameter named like a secret), query or fragment; `http://` elsewhere is for a local stand-in",
    },
    Variable {
        name: "FROM_EMAIL",
        need: Need::WithEmail,
        secret: false,
        doc: "`Name <local@domain>` or `local@domain`; required when `RESEND_API_KEY` is set, valid or not",
    },
    Variable {
        name: "PORT",
        need: Need::Platform,
        secret: false,
        doc: "1–65535; Railway injects it; elsewhere optional, default 8000",
    },
    Variable {
        name: "DATABASE_MAX_CONNECTIONS",
        need: Need::Optional,
        secret: false,
        doc: "pool size per replica, 1–1000, default 10",
    },
    Variable {
        name: "DATABASE_CONNECT_TIMEOUT_SECS",
        need: Need::Optional,
        secret: false,
        doc: "total connect budget, retries included, 1–600, default 30",
    },
    Variable {
        name: "DATABASE_TLS_FINGERPRINT",
        need: Need::Optional,
        secret: false,
        doc: "SHA-256 of the server certificate to pin (64 hex digits, colons allowed); needs TLS. Its format is checked even when `DATABASE_URL` is invalid",
    },
    Variable {
        name: "MIGRATION_LOCK_TIMEOUT_SECS",
        need: Need::Optional,
        secret: false,
        doc: "how long a migration statement may wait for a table lock, 1–600, default 5 (a migration queued behind a long transaction fails instead of freezing the table)",
    },
    Variable {
        name: "MIGRATION_STATEMENT_TIMEOUT_SECS",
        need: Need::Optional,
        secret: false,
        doc: "how long one migration statement may run, 1–86400, default 300",
    },
    Variable {
        name: "MIGRATE_ON_START",
        need: Need::Optional,
        secret: false,
        doc: "`true` (default): the backend migrates before serving; `false` when `backend migrate` runs as Railway's pre-deploy command",
    },
    Variable {
        name: "SHUTDOWN_GRACE_SECS",
        need: Need::Optional,
        secret: false,
        doc: "time in-flight requests get after SIGTERM, 0–3600, default 25",
    },
    Variable {
        name: "LOG_FORMAT",
        need: Need::Optional,
        secret: false,
        doc: "`json`, `pretty` or `auto` (default: human on a terminal in development, one JSON object per line otherwise)",
    },
    Variable {
        name: "PGSSLMODE",
        need: Need::Optional,
        secret: false,
        doc: "read as libpq does when the URL names no mode; unparsable (checked even when `DATABASE_URL` is invalid), or weaker than the policy: error",
    },
    Variable {
        name: "PGSSLROOTCERT",
        need: Need::Optional,
        secret: false,
        doc: "root certificate for `verify-ca`/`verify-full`; must be a readable file (an error when a verifying mode uses it, a warning otherwise, even when `DATABASE_URL` is invalid)",
    },
    Variable {
        name: "RAILWAY_ENVIRONMENT_NAME",
        need: Need::Platform,
        secret: false,
        doc: "means \"running inside Railway\" (`RAILWAY_ENVIRONMENT` on older projects)",
    },
];

/// The variables that hold a database URL: shown in their masked form (host and user
/// readable), their secrets found by [`crate::url_secrets`].
pub(crate) const DATABASE_URLS: &[&str] =
    &["DATABASE_URL", "DATABASE_PUBLIC_URL", "DATABASE_DIRECT_URL"];

/// docs/configuration.md's variable table, one row per variable of [`VARIABLES`], in order.
pub fn markdown_table() -> String {
    let mut out = String::from("| variable | needed | rule |\n|---|---|---|\n");
    for v in VARIABLES {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            v.name,
            v.need.as_str(),
            v.doc
        ));
    }
    out
}

/// Parts of a name that mark a value secret, in any case and anywhere in the name
/// (`api_token`, `Stripe_Secret_Key`, `PGPASSWORD`).
const SECRET_NAME_PARTS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "CREDENTIAL",
    "PRIVATE",
];

/// Whole words of a name (between `_`, `-` and `.`) that do (`RESEND_API_KEY`, `db.pass`).
const SECRET_NAME_WORDS: &[&str] = &["KEY", "APIKEY", "PASS", "PW"];

/// Whether a variable's value is secret: a catalogued secret, or a name matching the secret
/// patterns in any case.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    VARIABLES.iter().any(|v| v.secret && v.name == upper)
        || SECRET_NAME_PARTS.iter().any(|p| upper.contains(p))
        || upper
            .split(['_', '-', '.'])
            .any(|word| SECRET_NAME_WORDS.contains(&word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_in_any_case() {
        for name in [
            "NEXTAUTH_SECRET",
            "nextauth_secret",
            "api_token",
            "GITHUB_TOKEN",
            "Stripe_Secret_Key",
            "RESEND_API_KEY",
            "resend_api_key",
            "PGPASSWORD",
            "db.pass",
            "DATABASE_URL",
            "database_public_url",
            "DATABASE_DIRECT_URL",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in ["PORT", "FRONTEND_URL", "KEYBOARD_LAYOUT", "PATH", "PASSAGE"] {
            assert!(!is_secret_name(name), "{name}");
        }
    }
}
