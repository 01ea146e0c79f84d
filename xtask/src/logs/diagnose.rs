//! Known failure signatures in deployment logs, each with the fix. One table: add a row.

/// A log line matching every one of `all` and at least one of `any` (case-insensitive).
#[derive(Debug)]
pub(crate) struct Signature {
    pub(crate) id: &'static str,
    pub(crate) any: &'static [&'static str],
    pub(crate) all: &'static [&'static str],
    pub(crate) hint: &'static str,
}

pub(crate) const SIGNATURES: &[Signature] = &[
    Signature {
        id: "tls_reset",
        any: &[
            "connection reset by peer",
            "connectionreseterror",
            "connection reset during start-up",
        ],
        all: &[],
        hint: "PostgreSQL reset the connection at start-up: on Railway this is plaintext sent to a TLS-only endpoint. Remove `sslmode=disable`/`ssl=disable` from DATABASE_URL (the backend enforces TLS) and check DATABASE_URL really points at the Railway database",
    },
    Signature {
        id: "tls_refused",
        any: &[
            "does not support tls",
            "does not support ssl",
            "does not offer tls",
            "ssl connection has been closed",
            "no encryption",
        ],
        all: &[],
        hint: "TLS negotiation failed: the server must offer TLS and the client must ask for it (`sslmode=require`); check the host and port point at Railway's PostgreSQL",
    },
    Signature {
        id: "tls_certificate",
        // rustls names them `UnknownIssuer` and `CaUsedAsEndEntity`.
        any: &[
            "invalid peer certificate",
            "certificate verify failed",
            "certificate verification failed",
            "unknownissuer",
            "causedasendentity",
        ],
        all: &[],
        hint: "the server's certificate did not verify: Railway's is self-signed and CA:TRUE, so use `sslmode=require` and pin it with DATABASE_TLS_FINGERPRINT instead of verify-ca/verify-full",
    },
    Signature {
        id: "config_invalid",
        any: &[
            "invalid configuration (",
            "is not set (fix:",
            "nothing was started",
        ],
        all: &[],
        hint: "a variable is missing or invalid on the platform: run `cargo xtask verify --remote` and set what it lists in the service's Variables",
    },
    Signature {
        id: "bad_password",
        any: &["password authentication failed", "28p01"],
        all: &[],
        hint: "the database password is wrong: reference the database's current DATABASE_URL (`${{Postgres.DATABASE_URL}}`) instead of a copied value",
    },
    Signature {
        id: "database_missing",
        any: &["does not exist (3d000)", "3d000"],
        all: &[],
        hint: "the database named in DATABASE_URL does not exist (Railway's is `railway`)",
    },
    Signature {
        id: "database_missing_text",
        any: &["does not exist"],
        all: &["database \""],
        hint: "the database named in DATABASE_URL does not exist (Railway's is `railway`)",
    },
    Signature {
        id: "too_many_clients",
        any: &["too many clients", "too many connections", "53300"],
        all: &[],
        hint: "PostgreSQL's max_connections is exhausted: lower DATABASE_MAX_CONNECTIONS so pool size × replicas fits (`cargo xtask verify --replicas N` checks it)",
    },
    Signature {
        id: "private_dns",
        any: &[
            "could not translate host name",
            "failed to lookup address",
            "name or service not known",
            "resolves only inside railway",
        ],
        all: &["railway.internal"],
        hint: "`*.railway.internal` resolves only inside Railway at run time (not during the build, not from CI): connect at start-up, not at build time, or use DATABASE_PUBLIC_URL from outside",
    },
    Signature {
        id: "migration_drift",
        any: &["edited after being applied", "checksum", "versionmismatch"],
        all: &["migration"],
        hint: "an applied migration file was edited: restore it from git and add a new migration instead",
    },
    Signature {
        id: "migration_lock",
        any: &["lock_timeout", "lock timeout", "migration lock"],
        all: &[],
        hint: "a migration waited for a lock held by another session: find the long transaction (pg_stat_activity) and redeploy, or raise MIGRATION_LOCK_TIMEOUT_SECS",
    },
    Signature {
        id: "address_in_use",
        any: &["address already in use", "address in use", "eaddrinuse"],
        all: &[],
        hint: "the port is taken: the backend must listen on $PORT (Railway injects it) and only one process may bind it",
    },
    Signature {
        id: "nextauth_secret_mismatch",
        // The backend's line (backend/src/auth/mismatch.rs), at most once a minute.
        any: &["does not decrypt with this service's nextauth_secret"],
        all: &[],
        hint: "the frontend encrypts sessions with a different NEXTAUTH_SECRET than the backend, so every signed-in request gets 401: set the same value on both services (a shared variable referenced by both keeps them in step) and check with `cargo xtask verify --remote --frontend-service <frontend>`, whose sha256 prefixes must match the one in this line",
    },
    Signature {
        id: "rust_panic",
        any: &["panicked at"],
        all: &[],
        hint: "the backend panicked (a bug): the lines above show where; Railway restarts it per the restart policy, but report it",
    },
];

/// The first signature a log line matches.
pub(crate) fn diagnose(line: &str) -> Option<&'static Signature> {
    let lower = line.to_lowercase();
    SIGNATURES.iter().find(|s| {
        s.all.iter().all(|m| lower.contains(m)) && s.any.iter().any(|m| lower.contains(m))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_required_signature_is_recognised() {
        let table = [
            (
                "ConnectionResetError: [Errno 104] Connection reset by peer",
                "tls_reset",
            ),
            (
                "error communicating with database: Connection reset by peer (os error 104)",
                "tls_reset",
            ),
            (
                "error occurred while attempting to establish a TLS connection: server does not support TLS",
                "tls_refused",
            ),
            (
                "FATAL: no pg_hba.conf entry for host \"10.0.0.1\", user \"postgres\", database \"railway\", no encryption",
                "tls_refused",
            ),
            ("invalid peer certificate: UnknownIssuer", "tls_certificate"),
            (
                "backend: invalid configuration (2 problems):",
                "config_invalid",
            ),
            (
                "  - NEXTAUTH_SECRET: is not set (fix: generate one…)",
                "config_invalid",
            ),
            (
                "FATAL: password authentication failed for user \"postgres\"",
                "bad_password",
            ),
            (
                "FATAL: database \"railwy\" does not exist",
                "database_missing_text",
            ),
            ("FATAL: sorry, too many clients already", "too_many_clients"),
            (
                "could not translate host name \"postgres.railway.internal\" to address",
                "private_dns",
            ),
            (
                "failed to lookup address information: Name or service not known (postgres.railway.internal)",
                "private_dns",
            ),
            (
                "migration 20261127000002 was edited after being applied (checksum differs)",
                "migration_drift",
            ),
            (
                "migration 2026 (users) waited longer than lock_timeout (5s)",
                "migration_lock",
            ),
            (
                "cannot listen on [::]:8000: Address already in use (os error 98)",
                "address_in_use",
            ),
            (
                "thread 'main' panicked at backend/src/main.rs:3:5:",
                "rust_panic",
            ),
            (
                "session token does not decrypt with this service's NEXTAUTH_SECRET (sha256 0a1b2c3d4e5f…): the frontend encrypts sessions with a different secret",
                "nextauth_secret_mismatch",
            ),
        ];
        for (line, id) in table {
            assert_eq!(diagnose(line).map(|s| s.id), Some(id), "{line}");
        }
        assert!(diagnose("listening on [::]:8000").is_none());
        assert!(diagnose("GET /health 200").is_none());
    }
}
