//! The schema, known to the release path: what the production database has applied (read
//! through the same connection `migrate status` uses, to the platform's public database URL),
//! compared with migration files from this checkout or from git at a commit.
//! - [`rollback`]: may the service go back to an earlier deployment's build?
//! - [`preflight`]: may these files ship (checksums, lint of the new migrations)?

pub(crate) mod preflight;
pub(crate) mod rollback;

use intowork_config::{HostClass, Settings, Source, ValueOrigin};
use intowork_db::migrate::{self, State, Status};
use sqlx::migrate::Migrator;
use xshell::{Shell, cmd};

use super::lint::{self, MigrationFile};
use crate::railway::{Target, Variables};
use crate::util::config_source::project_root;
use crate::util::runtime;

/// The production database's settings, from the platform's variables as seen from here: with
/// `DATABASE_URL` private to Railway, its `DATABASE_PUBLIC_URL`. `Err` says why it cannot be
/// reached (never a value). A readable `DATABASE_PUBLIC_URL` is enough: other sealed
/// variables stand in as `verify --remote` has them (their values are not needed here).
pub(crate) fn production(variables: &Variables, target: &Target) -> Result<Settings, String> {
    for name in ["DATABASE_PUBLIC_URL", "DATABASE_URL"] {
        if variables.contains(name) && variables.value(name).is_none() {
            return Err(format!(
                "`{name}` of Railway service `{}` is sealed: its value can never be read back, so the production database cannot be reached from here to read its schema. Give the service an unsealed reference the guard can read, `DATABASE_PUBLIC_URL=${{{{Postgres.DATABASE_PUBLIC_URL}}}}` (the database's TCP proxy), or accept the schema unjudged: `--accept-schema` (the Deploy workflow: its `accept_schema` input)",
                target.service
            ));
        }
        if variables.value(name).is_some() {
            break;
        }
    }
    let mut outside = crate::verify::remote::sealed::rendered(variables);
    // Railway injects these inside; from here the configuration must choose the public URL.
    outside.remove("RAILWAY_ENVIRONMENT_NAME");
    outside.remove("RAILWAY_ENVIRONMENT");
    let origin = ValueOrigin::Platform(format!("railway {}", target.service));
    let settings = Settings::load(&Source::from_pairs(&outside, origin))
        .map_err(|_| format!("the configuration of Railway service `{}` is invalid, so its database URL cannot be used (`cargo xtask verify --remote` lists why)", target.service))?
        .settings;
    let db = settings.database();
    if db.target().class() == HostClass::RailwayPrivate {
        return Err(format!(
            "service `{}` has only a DATABASE_URL private to Railway (`{}`), which does not resolve from here; add `DATABASE_PUBLIC_URL=${{{{Postgres.DATABASE_PUBLIC_URL}}}}` to its variables (the database's TCP proxy)",
            target.service,
            db.target().host()
        ));
    }
    Ok(settings)
}

/// What the database has applied, judged against `migrator` (`migrate status`'s reading).
pub(crate) fn applied(settings: &Settings, migrator: &Migrator) -> Result<Status, String> {
    runtime::block_on(async {
        let mut conn = intowork_db::connect(settings.database())
            .await
            .map_err(|e| format!("the production database is unreachable: {e}"))?
            .conn;
        let st = migrate::status(&mut conn, migrator).await;
        intowork_db::close(conn).await;
        st.map_err(|e| {
            format!(
                "failed to read {} from the production database: {e}",
                migrate::TABLE
            )
        })
    })
    .map_err(|e| format!("{e:#}"))?
}

/// This checkout's migrations, read now (what `deploy --up` uploads and CI deploys): those of
/// git's work tree (so `GIT_DIR`/`GIT_WORK_TREE` point the release checks at another clone),
/// or of the repository xtask was built in when git knows none.
pub(crate) fn checkout(sh: &Shell) -> anyhow::Result<Migrator> {
    let top = cmd!(sh, "git rev-parse --show-toplevel")
        .quiet()
        .ignore_stderr()
        .read()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| project_root());
    match crate::migrate::MigrationSet::load(Some(&top.join("migrations")))? {
        crate::migrate::MigrationSet::Loaded(m) => Ok(m),
        crate::migrate::MigrationSet::Embedded => unreachable!("a directory was given"),
    }
}

/// The up migrations of a migrator, as the lint reads them.
pub(crate) fn files(migrator: &Migrator) -> Vec<MigrationFile> {
    lint::files::from_migrator(migrator, "migrations")
}

/// Versions the database has applied (successfully or not), known to the files or not.
pub(crate) fn applied_versions(st: &Status) -> Vec<i64> {
    st.entries
        .iter()
        .filter(|e| e.state != State::Pending)
        .map(|e| e.version)
        .collect()
}
