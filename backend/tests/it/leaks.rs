//! #12 through the real `backend` binary: secret URL parameters never reach its log or its
//! errors, every configuration problem is listed at once, and a local-looking name that
//! resolves elsewhere is refused before any connection.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use xshell::{Shell, cmd};

use crate::common::process::Backend;
use crate::common::*;
use intowork_testkit::{Flavor, PgServer, free_port};

/// Obviously fake secrets, one per secret-bearing libpq parameter.
const SSL_PASSWORD: &str = "sslpw-Fake9Example";
const OAUTH_SECRET: &str = "oauth-Fake-Secret-2718";

#[test]
fn the_configuration_loaded_line_masks_secret_url_parameters() {
    let server = PgServer::shared(Flavor::TlsOnly);
    let db = server.create_database();
    let url = db.url(&format!(
        "sslmode=require&sslpassword={SSL_PASSWORD}&oauth_client_secret={OAUTH_SECRET}"
    ));
    let env = env(
        &db,
        &[("DATABASE_URL", &url), ("MIGRATE_ON_START", "false")],
    );
    let mut b = Backend::spawn(&["serve", "--port", "0"], &env);
    let line = b.wait_for("configuration loaded", Duration::from_secs(30));
    let logged: serde_json::Value = serde_json::from_str(&line).expect("a JSON log line");
    let database = logged["database"].as_str().unwrap();
    assert_contains!(database, "sslpassword=****");
    assert_contains!(database, "oauth_client_secret=****");
    b.wait_for("application startup complete", Duration::from_secs(30));
    b.signal("TERM");
    assert_eq!(b.wait(Duration::from_secs(30)), Some(0), "{}", b.output());
    let out = b.output();
    for secret in [SSL_PASSWORD, OAUTH_SECRET, db.password.as_str(), SECRET] {
        assert_lacks!(out, secret, "`{secret}` leaked:\n{out}");
    }
}

#[test]
fn a_bad_configuration_lists_every_problem_with_secrets_masked() {
    let port = free_port().to_string();
    /// (variables, how many problems, lines the error must contain)
    type Case = (
        &'static [(&'static str, &'static str)],
        usize,
        &'static [&'static str],
    );
    let cases: [Case; 2] = [
        // The issue's example: the corrected URL keeps `sslpassword` masked.
        (
            &[(
                "DATABASE_URL",
                "postgresql://u:pw-Fake1@db.example.com/app?sslpassword=sslpw-Fake9Example&sslmode=disable",
            )],
            1,
            &["fix: use postgresql://u:****@db.example.com/app?sslpassword=****&sslmode=require"],
        ),
        // No DATABASE_URL: the other database variables are still checked.
        (
            &[
                ("PGSSLMODE", "requir"),
                ("DATABASE_TLS_FINGERPRINT", "zz"),
                (
                    "DATABASE_PUBLIC_URL",
                    "postgresql://u:pw-Fake1@x.proxy.rlwy.net:1/railway?ssl=disable",
                ),
                (
                    "DATABASE_DIRECT_URL",
                    "postgresql://u:pw-Fake1@db.example.com/app?sslpassword=sslpw-Fake9Example&sslmode=disable",
                ),
            ],
            5,
            &[
                "DATABASE_URL: is not set",
                "PGSSLMODE: `requir` is not a TLS mode",
                "DATABASE_TLS_FINGERPRINT: is not a SHA-256 fingerprint",
                "DATABASE_PUBLIC_URL: `ssl=disable` turns TLS off",
                "DATABASE_DIRECT_URL: `sslmode=disable` turns TLS off",
            ],
        ),
    ];
    for (vars, problems, lines) in cases {
        let mut env = vec![
            ("NEXTAUTH_SECRET".to_owned(), SECRET.to_owned()),
            ("PORT".to_owned(), port.clone()),
        ];
        env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let mut b = Backend::spawn(&[], &env);
        assert_eq!(b.wait(Duration::from_secs(10)), Some(2), "{}", b.output());
        let out = b.output();
        assert_contains!(
            out,
            &format!(
                "invalid configuration ({problems} problem{})",
                if problems == 1 { "" } else { "s" }
            )
        );
        for line in lines {
            assert_contains!(out, line, "`{line}` missing:\n{out}");
        }
        for secret in ["pw-Fake1", SSL_PASSWORD] {
            assert_lacks!(out, secret, "`{secret}` leaked:\n{out}");
        }
    }
}

/// The review's reproduction: `/etc/hosts` (in a private mount namespace) answers
/// `pg.localhost` with an address that is not loopback. The backend must refuse
/// `sslmode=disable` to it, for `serve` and `migrate`, before connecting (the connection
/// path's own tests prove no attempt is made; `cargo xtask verify`'s counts connections).
#[test]
fn the_backend_refuses_a_local_looking_name_that_resolves_elsewhere() {
    if !intowork_testkit::mount_namespaces() {
        intowork_testkit::skip("needs `unshare -m` (root)");
        return;
    }
    let sh = Shell::new().unwrap();
    // TEST-NET-3: documentation only, never a real host.
    let elsewhere = Ipv4Addr::new(203, 0, 113, 9);
    let dir = sh.create_temp_dir().unwrap();
    let hosts = dir.path().join("hosts");
    std::fs::write(
        &hosts,
        format!("{elsewhere} pg.localhost\n127.0.0.1 localhost\n"),
    )
    .unwrap();
    let url = "postgres://app:pw-Fake2@pg.localhost:5432/app?sslmode=disable";
    let bin = env!("CARGO_BIN_EXE_backend");
    let script = r#"mount --bind "$1" /etc/hosts && shift && exec "$@""#;
    for args in [&["serve", "--port", "0"][..], &["migrate"]] {
        let started = Instant::now();
        let out = cmd!(
            sh,
            "timeout 60 unshare -m sh -c {script} sh {hosts} {bin} {args...}"
        )
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DATABASE_URL", url)
        .env("NEXTAUTH_SECRET", SECRET)
        .env("LOG_FORMAT", "json")
        .ignore_status()
        .quiet()
        .output()
        .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert_contains!(
            text,
            &format!("`pg.localhost` looks local but resolves to {elsewhere}")
        );
        assert_contains!(text, "Nothing was sent");
        // Refused, not retried until the connect budget ran out.
        assert!(started.elapsed() < Duration::from_secs(10), "{text}");
        assert_lacks!(text, "pw-Fake2");
    }
}
