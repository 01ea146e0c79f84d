//! The database variables, each checked by its own rules whatever state the others are in;
//! only the checks that compare a variable with the connection target wait for a valid URL.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::direct::check_direct;
use super::tls::ALL_MODES;
use super::{
    DatabaseSettings, DatabaseUrl, Fingerprint, HostClass, PoolMode, TargetChoice, TlsMode,
    TlsSource, UrlContext,
};
use crate::checker::Checker;
use crate::problem::Problem;
use crate::settings::{DEFAULT_CONNECT_TIMEOUT_SECS, DEFAULT_MAX_CONNECTIONS};

const DATABASE_URL_HINT: &str = "set it in the service's variables (Railway: reference `${{Postgres.DATABASE_URL}}`); locally, run `cargo xtask dev` or put it in .env";

pub(crate) fn check_database(
    ck: &mut Checker<'_>,
    inside_railway: bool,
) -> Option<DatabaseSettings> {
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
    let direct_url = ck
        .text("DATABASE_DIRECT_URL")
        .map(|t| parse_url(ck, "DATABASE_DIRECT_URL", t, &ctx));
    let pool_mode = check_pool_mode(ck);
    let max_connections = ck.number(
        "DATABASE_MAX_CONNECTIONS",
        DEFAULT_MAX_CONNECTIONS.into(),
        (1, 1000),
        "a pool size",
    );
    let connect_timeout = ck.number(
        "DATABASE_CONNECT_TIMEOUT_SECS",
        DEFAULT_CONNECT_TIMEOUT_SECS,
        (1, 600),
        "a number of seconds",
    );

    // `None`: DATABASE_URL (or the public URL it needs) is invalid; the checks below then
    // apply each variable's own rules only.
    let target = match (&url, &public_url) {
        (Some(url), None | Some(Some(_))) => {
            let public = public_url.as_ref().and_then(Option::as_ref);
            Some(choose_target(ck, url, public, inside_railway))
        }
        _ => None,
    };
    let target_url = target.and_then(|choice| match choice {
        TargetChoice::PublicUrl => public_url.as_ref().and_then(Option::as_ref),
        TargetChoice::DatabaseUrl => url.as_ref(),
    });
    let pgsslmode_ok = check_pgsslmode(ck, target_url);
    let fingerprint = check_fingerprint(ck, target_url.map(DatabaseUrl::tls_mode));
    check_pgsslrootcert(ck, target_url);
    if let (Some(choice), Some(target_url), Some(None)) = (target, target_url, pool_mode) {
        pooler_warning(ck, choice, target_url);
    }
    let pinned = matches!(fingerprint, Some(Some(_)));
    let direct_reachable = match &direct_url {
        Some(Some(direct)) => {
            let mode = pool_mode.flatten();
            check_direct(ck, direct, target_url, mode, pinned, inside_railway)
        }
        _ => true,
    };

    Some(DatabaseSettings {
        url: url?,
        public_url: public_url.flatten(),
        target: target?,
        max_connections: max_connections? as u32,
        connect_timeout: Duration::from_secs(connect_timeout?),
        tls_fingerprint: fingerprint?,
        direct_url: direct_url.map_or(Some(None), |d| d.map(Some))?,
        pool_mode: pool_mode?,
        direct_reachable,
    })
    .filter(|_| pgsslmode_ok && !ck.failed("DATABASE_DIRECT_URL"))
}

/// `Some(None)`: unset (no pooler declared). `None`: a problem was recorded.
fn check_pool_mode(ck: &mut Checker<'_>) -> Option<Option<PoolMode>> {
    const VAR: &str = "DATABASE_POOL_MODE";
    let Some(text) = ck.text(VAR) else {
        return (!ck.failed(VAR)).then_some(None);
    };
    match text.parse::<PoolMode>() {
        Ok(mode) => {
            let what = match mode {
                PoolMode::Transaction => {
                    "transaction pooling: each transaction may run on another server connection; migrations connect through DATABASE_DIRECT_URL"
                }
                PoolMode::Session => "session: one server connection per client session",
            };
            ck.pass(VAR, what);
            Some(Some(mode))
        }
        Err(problem) => {
            ck.record_all(VAR, vec![problem]);
            None
        }
    }
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

fn pooler_warning(ck: &mut Checker<'_>, choice: TargetChoice, url: &DatabaseUrl) {
    if !url.is_pooler() {
        return;
    }
    let problem = Problem::warning("pooler", format!("`{}` looks like a transaction pooler (PgBouncer): prepared statements break behind it, so the statement cache is turned off", url.endpoint()))
        .hint("say which pooling it does: DATABASE_POOL_MODE=transaction (with DATABASE_DIRECT_URL, the database's own URL, for migrations) or DATABASE_POOL_MODE=session; or connect to the database directly");
    let var = match choice {
        TargetChoice::PublicUrl => "DATABASE_PUBLIC_URL",
        TargetChoice::DatabaseUrl => "DATABASE_URL",
    };
    ck.record_all(var, vec![problem]);
}

/// sqlx reads `PGSSLMODE` and silently turns an unparsable one into `prefer`; we set the mode
/// in code, but a weaker `PGSSLMODE` still says someone meant to turn TLS down. Whether it is
/// a mode at all needs no URL; whether it is weaker than the policy does.
fn check_pgsslmode(ck: &mut Checker<'_>, target: Option<&DatabaseUrl>) -> bool {
    let Some(text) = ck.text("PGSSLMODE") else {
        return !ck.failed("PGSSLMODE");
    };
    // Remote hosts: TLS is the policy. Local hosts: whatever the URL itself asks for.
    let policy = target.map(|url| {
        if url.class().is_remote() {
            TlsMode::Require
        } else if matches!(url.tls_source(), TlsSource::SslMode(_) | TlsSource::Ssl(_)) {
            url.tls_mode()
        } else {
            TlsMode::Disable
        }
    });
    let fix = match policy {
        Some(policy) => format!("unset PGSSLMODE, or set it to `{policy}`"),
        None => format!(
            "unset PGSSLMODE, or set it to one of {ALL_MODES} (at least `require` for a database that is not local)"
        ),
    };
    let problem = match (TlsMode::parse_sslmode(text), target.zip(policy)) {
        (None, _) => Problem::error(
            "invalid",
            format!("`{text}` is not a TLS mode (the driver would silently use `prefer`)"),
        )
        .hint(fix),
        (Some(mode), Some((_, policy))) if mode < policy => Problem::error(
            "weaker",
            format!("`{mode}` is weaker than the `{policy}` the database URL requires"),
        )
        .hint(fix),
        (Some(mode), Some((url, _))) => {
            let used = url.tls_mode();
            ck.pass(
                "PGSSLMODE",
                format!("`{mode}` agrees with the database URL, which uses `{used}`"),
            );
            return true;
        }
        (Some(mode), None) => {
            ck.pass("PGSSLMODE", format!("`{mode}` is a TLS mode (compared with the database URL's policy once that URL is valid)"));
            return true;
        }
    };
    ck.record_all("PGSSLMODE", vec![problem])
}

/// `Some(None)`: no pin. `None`: a problem was recorded. The format needs no URL; whether the
/// URL's mode can carry a pin (TLS) does.
fn check_fingerprint(ck: &mut Checker<'_>, mode: Option<TlsMode>) -> Option<Option<Fingerprint>> {
    const VAR: &str = "DATABASE_TLS_FINGERPRINT";
    let Some(text) = ck.text(VAR) else {
        return (!ck.failed(VAR)).then_some(None);
    };
    let problem = match (text.parse::<Fingerprint>(), mode) {
        (Ok(_), Some(mode)) if mode < TlsMode::Require => Problem::error(
            "needs_tls",
            format!("a certificate pin needs TLS, but the database URL uses `{mode}`"),
        )
        .hint("add `sslmode=require` to the database URL"),
        (Ok(fp), mode) => {
            let later = if mode.is_none() {
                " (checked against the database URL's TLS mode once that URL is valid)"
            } else {
                ""
            };
            ck.pass(
                VAR,
                format!("pinning the server certificate to SHA-256 {fp}{later}"),
            );
            return Some(Some(fp));
        }
        (Err(p), _) => p,
    };
    ck.record_all(VAR, vec![problem]);
    None
}

/// `PGSSLROOTCERT` must name a certificate file. When `verify-ca`/`verify-full` uses it, a
/// missing file is the URL's failure (`database_url.sslrootcert`); otherwise, or while the URL
/// is invalid, it is a warning: nothing reads the file yet, but a verifying mode would fail.
fn check_pgsslrootcert(ck: &mut Checker<'_>, target: Option<&DatabaseUrl>) {
    const VAR: &str = "PGSSLROOTCERT";
    let Some(text) = ck.text(VAR) else {
        return;
    };
    let path = Path::new(text);
    let used = target.filter(|url| {
        url.tls_mode().verifies_certificate() && url.root_cert().map(PathBuf::as_path) == Some(path)
    });
    let problem = match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => {
            let how = match used {
                Some(url) => format!("used by `{}`", url.tls_mode()),
                None => "used by `verify-ca`/`verify-full` only".to_owned(),
            };
            ck.pass(
                VAR,
                format!("root certificate `{}` ({how})", path.display()),
            );
            return;
        }
        Err(_) if used.is_some() => return,
        Ok(_) => format!("`{}` is not a file", path.display()),
        Err(e) => format!("`{}` cannot be read ({e})", path.display()),
    };
    let problem = if used.is_some() {
        Problem::error("file", problem)
    } else {
        Problem::warning(
            "file",
            format!("{problem}: `verify-ca`/`verify-full` would fail"),
        )
    };
    ck.record_all(
        VAR,
        vec![problem.hint("point PGSSLROOTCERT at the PEM file of the CA that signed the server's certificate, or unset it")],
    );
}
