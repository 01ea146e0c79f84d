//! The local cluster: created once (TLS only, SCRAM, a certificate shaped like Railway's),
//! started and stopped with `pg_ctl`, reused across runs.

use anyhow::Context;
use rand::Rng;
use rand::distr::Alphanumeric;
use std::path::{Path, PathBuf};
use xshell::{Shell, cmd};

use super::prereq::Postgres;

pub(crate) const APP_USER: &str = "intowork";
pub(crate) const APP_DB: &str = "intowork";
pub(crate) const DEV_MAX_CONNECTIONS: u32 = 100;

/// Files of one stack.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) dir: PathBuf,
}

impl Layout {
    pub(crate) fn env_file(&self) -> PathBuf {
        self.dir.join("dev.env")
    }
    fn data_pointer(&self) -> PathBuf {
        self.dir.join("data-dir")
    }
    pub(crate) fn log(&self) -> PathBuf {
        self.dir.join("postgres.log")
    }
    pub(crate) fn backend_log(&self) -> PathBuf {
        self.dir.join("backend.log")
    }
    pub(crate) fn backend_pid(&self) -> PathBuf {
        self.dir.join("backend.pid")
    }
    fn superuser_password(&self) -> PathBuf {
        self.dir.join("superuser.pw")
    }

    /// Where the data directory is (it may live outside `dir` when the server user cannot
    /// reach `dir`, see [`create`]).
    pub(crate) fn data_dir(&self) -> Option<PathBuf> {
        std::fs::read_to_string(self.data_pointer())
            .ok()
            .map(|s| PathBuf::from(s.trim()))
            .filter(|p| p.join("PG_VERSION").is_file())
    }
}

fn random(n: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

/// Creates the cluster and the env file; returns its data directory.
pub(crate) fn create(
    sh: &Shell,
    pg: &Postgres,
    layout: &Layout,
    port: u16,
    max_connections: u32,
) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(&layout.dir)
        .with_context(|| format!("failed to create `{}`", layout.dir.display()))?;
    let data = data_location(sh, pg, layout)?;
    let superuser_pw = random(32);
    let app_pw = random(32);
    let pwfile = layout.superuser_password();
    write_private(&pwfile, &superuser_pw)?;
    if let Some(user) = &pg.run_as {
        chown(sh, user, &pwfile)?;
    }
    pg.cmd(sh, "initdb")
        .args([
            "-D".as_ref(),
            data.as_os_str(),
            "-U".as_ref(),
            "postgres".as_ref(),
        ])
        .arg(format!("--pwfile={}", pwfile.display()))
        .args(["--auth=scram-sha-256", "-E", "UTF8", "--locale=C"])
        .quiet()
        .ignore_stdout()
        .run()
        .context("initdb failed")?;

    let (cert, key) = railway_like_certificate()?;
    write_private(&data.join("server.crt"), &cert)?;
    write_private(&data.join("server.key"), &key)?;
    let conf = data.join("postgresql.conf");
    let mut text = std::fs::read_to_string(&conf)?;
    text.push_str(
        "\n# intowork dev stack: TLS only, like Railway's postgres-ssl, reachable on loopback only.\n\
         include_if_exists = 'intowork-port.conf'\n\
         listen_addresses = 'localhost'\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n\
         password_encryption = 'scram-sha-256'\nunix_socket_directories = ''\n",
    );
    text.push_str(&format!("max_connections = {max_connections}\n"));
    std::fs::write(&conf, text)?;
    // hostssl only: a plaintext client is rejected ("no encryption"), as TLS-only Railway would reset it.
    std::fs::write(
        data.join("pg_hba.conf"),
        "hostssl all all 127.0.0.1/32 scram-sha-256\nhostssl all all ::1/128 scram-sha-256\n",
    )?;
    if let Some(user) = &pg.run_as {
        for f in ["server.crt", "server.key", "postgresql.conf", "pg_hba.conf"] {
            chown(sh, user, &data.join(f))?;
        }
    }
    set_port(sh, pg, &data, port)?;
    start(sh, pg, layout, &data)?;
    let sql = format!(
        "CREATE ROLE {APP_USER} LOGIN PASSWORD '{app_pw}'; CREATE DATABASE {APP_DB} OWNER {APP_USER};"
    );
    admin_sql(sh, layout, port, &sql)
        .context("failed to create the application role and database")?;

    let env = format!(
        "# Written by `cargo xtask dev` for the local stack; git-ignored (target/). Regenerate with --reset.\n\
         DATABASE_URL=postgresql://{APP_USER}:{app_pw}@localhost:{port}/{APP_DB}?sslmode=require\n\
         NEXTAUTH_SECRET=dev-{}\n\
         ENVIRONMENT=development\n\
         ALLOWED_ORIGINS=http://localhost:3000\n\
         FRONTEND_URL=http://localhost:3000\n",
        random(40)
    );
    write_private(&layout.env_file(), &env)?;
    Ok(data)
}

/// `<dir>/pgdata`, unless the server user cannot reach it (a checkout under /root, say):
/// then a private directory under the system temp dir, recorded in `<dir>/data-dir`.
fn data_location(sh: &Shell, pg: &Postgres, layout: &Layout) -> anyhow::Result<PathBuf> {
    let inside = layout.dir.join("pgdata");
    let data = match &pg.run_as {
        None => inside,
        Some(user) => {
            std::fs::create_dir_all(&inside)?;
            chown(sh, user, &inside)?;
            let reachable = cmd!(sh, "runuser -u {user} -- test -w {inside}")
                .quiet()
                .ignore_stderr()
                .run()
                .is_ok();
            if reachable {
                inside
            } else {
                std::fs::remove_dir(&inside)?;
                let hash: u64 = layout
                    .dir
                    .to_string_lossy()
                    .bytes()
                    .fold(0xcbf2_9ce4_8422_2325, |h, b| {
                        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
                    });
                let outside = std::env::temp_dir().join(format!("intowork-dev-{hash:016x}"));
                std::fs::create_dir_all(&outside)?;
                chown(sh, user, &outside)?;
                outside.join("pgdata")
            }
        }
    };
    if let Some(user) = &pg.run_as {
        std::fs::create_dir_all(&data)?;
        chown(sh, user, &data)?;
    }
    std::fs::write(layout.data_pointer(), data.display().to_string())?;
    Ok(data)
}

pub(crate) fn set_port(sh: &Shell, pg: &Postgres, data: &Path, port: u16) -> anyhow::Result<()> {
    let file = data.join("intowork-port.conf");
    std::fs::write(&file, format!("port = {port}\n"))?;
    if let Some(user) = &pg.run_as {
        chown(sh, user, &file)?;
    }
    Ok(())
}

pub(crate) fn is_running(sh: &Shell, pg: &Postgres, data: &Path) -> bool {
    pg.cmd(sh, "pg_ctl")
        .arg("-D")
        .arg(data)
        .arg("status")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok()
}

/// Starts the server in its own session (`setsid`): the Ctrl-C meant for the backend must
/// not reach PostgreSQL, which would shut down before the backend drains.
pub(crate) fn start(sh: &Shell, pg: &Postgres, layout: &Layout, data: &Path) -> anyhow::Result<()> {
    let log = layout.log();
    if let Some(user) = &pg.run_as {
        if !log.exists() {
            std::fs::write(&log, "")?;
        }
        chown(sh, user, &log)?;
    }
    let started = pg
        .cmd_detached(sh, "pg_ctl")
        .arg("-D")
        .arg(data)
        .arg("-l")
        .arg(&log)
        .args(["-w", "-t", "60", "start"])
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run();
    if started.is_err() {
        let tail: Vec<String> = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .rev()
            .take(15)
            .map(str::to_owned)
            .collect();
        let tail: Vec<String> = tail.into_iter().rev().collect();
        anyhow::bail!(
            "PostgreSQL did not start (log `{}`):\n{}",
            log.display(),
            tail.join("\n")
        );
    }
    Ok(())
}

pub(crate) fn stop(sh: &Shell, pg: &Postgres, data: &Path) -> anyhow::Result<()> {
    if !is_running(sh, pg, data) {
        return Ok(());
    }
    pg.cmd(sh, "pg_ctl")
        .arg("-D")
        .arg(data)
        .args(["-m", "fast", "-w", "-t", "60", "stop"])
        .quiet()
        .ignore_stdout()
        .run()
        .context("pg_ctl stop failed")?;
    Ok(())
}

/// SQL as the superuser, over TLS on loopback (there is no unix socket and no trust rule).
pub(crate) fn admin_sql(sh: &Shell, layout: &Layout, port: u16, sql: &str) -> anyhow::Result<()> {
    admin_sql_in(sh, layout, port, "postgres", sql)
}

/// The same, in another database.
pub(crate) fn admin_sql_in(
    sh: &Shell,
    layout: &Layout,
    port: u16,
    dbname: &str,
    sql: &str,
) -> anyhow::Result<()> {
    let pw = std::fs::read_to_string(layout.superuser_password())?;
    let conninfo =
        format!("host=localhost port={port} user=postgres dbname={dbname} sslmode=require");
    cmd!(sh, "psql -X -q -v ON_ERROR_STOP=1 -d {conninfo}")
        .env("PGPASSWORD", pw.trim())
        .stdin(sql)
        .quiet()
        .ignore_stdout()
        .run()?;
    Ok(())
}

/// Self-signed, CN/SAN `localhost`, CA:TRUE: what Railway's postgres-ssl image serves, so
/// `verify-full` fails here exactly as it would there.
fn railway_like_certificate() -> anyhow::Result<(String, String)> {
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), key.serialize_pem()))
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).with_context(|| format!("failed to write `{}`", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

fn chown(sh: &Shell, user: &str, path: &Path) -> anyhow::Result<()> {
    cmd!(sh, "chown {user}: {path}").quiet().run()?;
    Ok(())
}
