//! The one place that turns validated settings into driver options, and decides TLS.

use std::net::IpAddr;

use intowork_config::secrecy::ExposeSecret;
use intowork_config::{DatabaseSettings, DatabaseUrl, DbHost, TlsMode};
use sqlx::postgres::{PgConnectOptions, PgSslMode};

use crate::locality::Route;

/// The name PostgreSQL shows for our sessions (`pg_stat_activity.application_name`).
pub(crate) const DEFAULT_APPLICATION_NAME: &str = "intowork-backend";

/// The server's TCP keepalive for our sessions, as `(idle, interval, count)` seconds, sent as
/// startup options: the server notices within ~90 s a client that vanished without closing
/// its socket (its session and locks freed, not held for the kernel's default two hours),
/// and an idle session's path carries a packet every minute. sqlx 0.8 opens the socket itself
/// and offers no client-side keepalive: on our side the pool's idle timeout and the read retry
/// cover a connection that died silently. Not sent to a pooler (PgBouncer refuses unknown
/// startup parameters); PgBouncer's own `tcp_keepalive` settings cover its sockets there.
pub(crate) const KEEPALIVE: (u32, u32, u32) = (60, 10, 3);

/// Options for every connection in the workspace: backend pool, migrations and verify.
///
/// The TLS mode is set *last*, from the validated policy, after everything else: sqlx starts
/// from `PGSSLMODE` and friends and lets a URL override them, so setting the mode in code is
/// what keeps the URL, `PGSSLMODE` or any other `PG*` variable from weakening it.
pub fn connect_options(db: &DatabaseSettings) -> PgConnectOptions {
    let url = db.target();
    let mut opts = PgConnectOptions::new_without_pgpass()
        .port(url.port())
        .username(url.user())
        .database(url.database())
        .application_name(url.application_name().unwrap_or(DEFAULT_APPLICATION_NAME));
    opts = match url.host() {
        DbHost::Tcp(host) => opts.host(host),
        DbHost::Socket(dir) => opts.socket(dir),
    };
    if let Some(password) = url.password() {
        opts = opts.password(password.expose_secret());
    }
    if let Some(root) = url.root_cert() {
        opts = opts.ssl_root_cert(root);
    }
    if db.statement_cache_disabled() {
        // Transaction poolers hand each statement to any backend: prepared statements break.
        opts = opts.statement_cache_capacity(0);
    }
    // A pooler (declared with DATABASE_POOL_MODE, in either mode, or recognised by its host or
    // port) refuses startup parameters it does not know, `options` among them.
    if !(db.pool_mode_declared() || url.is_pooler()) {
        let (idle, interval, count) = KEEPALIVE;
        opts = opts.options([
            ("tcp_keepalives_idle", idle),
            ("tcp_keepalives_interval", interval),
            ("tcp_keepalives_count", count),
        ]);
    }
    // After ours: the URL's own `-c` settings win (the server applies the last).
    if let Some(raw) = url.options() {
        opts = opts.options(server_options(raw));
    }
    opts.ssl_mode(ssl_mode(url))
}

/// [`connect_options`] to one address of the route: a local-looking name proven to resolve
/// only to loopback is reached through the addresses that were checked, never through a
/// second lookup.
pub fn connect_options_via(db: &DatabaseSettings, addr: IpAddr) -> PgConnectOptions {
    connect_options(db).host(&addr.to_string())
}

/// The options for a route's first address (the pool's, once `connect` found the one that
/// answers).
pub fn route_options(db: &DatabaseSettings, route: &Route) -> PgConnectOptions {
    match route.loopback().and_then(|addrs| addrs.first()) {
        Some(addr) => connect_options_via(db, *addr),
        None => connect_options(db),
    }
}

/// The policy's mode for this URL, in sqlx's terms.
pub fn ssl_mode(url: &DatabaseUrl) -> PgSslMode {
    match url.tls_mode() {
        TlsMode::Disable => PgSslMode::Disable,
        TlsMode::Allow => PgSslMode::Allow,
        TlsMode::Prefer => PgSslMode::Prefer,
        TlsMode::Require => PgSslMode::Require,
        TlsMode::VerifyCa => PgSslMode::VerifyCa,
        TlsMode::VerifyFull => PgSslMode::VerifyFull,
    }
}

/// libpq's `options=-c a=b -c c=d` as pairs (sqlx re-adds the `-c`).
fn server_options(raw: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut words = raw.split_whitespace();
    while let Some(word) = words.next() {
        let setting = match word {
            "-c" => words.next(),
            w => w.strip_prefix("-c").or_else(|| w.strip_prefix("--")),
        };
        if let Some((k, v)) = setting.and_then(|s| s.split_once('=')) {
            pairs.push((k.to_owned(), v.to_owned()));
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use intowork_config::{Settings, Source, ValueOrigin};

    fn settings(url: &str, extra: &[(&str, &str)]) -> Settings {
        let mut vars = vec![
            ("DATABASE_URL", url),
            (
                "NEXTAUTH_SECRET",
                "test-secret-0123456789abcdef0123456789abcdef",
            ),
        ];
        vars.extend_from_slice(extra);
        Settings::load(&Source::from_pairs(vars, ValueOrigin::Environment))
            .unwrap()
            .settings
    }

    #[test]
    fn the_policy_mode_is_what_the_driver_gets() {
        let table = [
            (
                "postgresql://u:p@x.proxy.rlwy.net:1234/railway",
                PgSslMode::Require,
            ),
            (
                "postgresql://u:p@x.proxy.rlwy.net:1234/railway?ssl=require",
                PgSslMode::Require,
            ),
            (
                "postgresql://u:p@db.example.com/app?sslmode=verify-full",
                PgSslMode::VerifyFull,
            ),
            (
                "postgresql://u:p@localhost/app?sslmode=disable",
                PgSslMode::Disable,
            ),
            ("postgresql://u:p@localhost/app", PgSslMode::Prefer),
        ];
        for (url, mode) in table {
            let opts = connect_options(settings(url, &[]).database());
            assert_eq!(
                format!("{:?}", opts.get_ssl_mode()),
                format!("{mode:?}"),
                "{url}"
            );
            assert_eq!(opts.get_application_name(), Some(DEFAULT_APPLICATION_NAME));
        }
    }

    #[test]
    fn url_parts_and_application_name_reach_the_driver() {
        let s = settings(
            "postgresql://app:p@db.example.com:6543/jobs?application_name=worker&options=-c%20statement_timeout%3D5s",
            &[],
        );
        let opts = connect_options(s.database());
        assert_eq!(
            (
                opts.get_host(),
                opts.get_port(),
                opts.get_username(),
                opts.get_database()
            ),
            ("db.example.com", 6543, "app", Some("jobs"))
        );
        assert_eq!(opts.get_application_name(), Some("worker"));
        assert_eq!(opts.get_options(), Some("-c statement_timeout=5s"));
        assert!(
            s.database().statement_cache_disabled(),
            "port 6543 is a pooler"
        );
    }

    #[test]
    fn the_server_keepalive_is_asked_for_except_through_a_pooler_and_the_url_wins() {
        let direct = connect_options(
            settings(
                "postgresql://u:p@db.example.com/app?sslmode=require&options=-c%20tcp_keepalives_idle%3D30",
                &[],
            )
            .database(),
        );
        assert_eq!(
            direct.get_options(),
            Some(
                "-c tcp_keepalives_idle=60 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3 -c tcp_keepalives_idle=30"
            )
        );
        let pooled = connect_options(
            settings(
                "postgresql://u:p@db.example.com:6543/app?sslmode=require",
                &[],
            )
            .database(),
        );
        assert_eq!(pooled.get_options(), None);
        let session_pooler = connect_options(
            settings(
                "postgresql://u:p@db.example.com/app?sslmode=require",
                &[("DATABASE_POOL_MODE", "session")],
            )
            .database(),
        );
        assert_eq!(
            session_pooler.get_options(),
            None,
            "PgBouncer refuses unknown startup parameters in session mode too"
        );
    }

    #[test]
    fn libpq_options_are_split_into_pairs() {
        assert_eq!(
            server_options("-c a=1 -cb=2 --c=3 junk"),
            [
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), "2".to_owned()),
                ("c".to_owned(), "3".to_owned())
            ]
        );
    }
}
