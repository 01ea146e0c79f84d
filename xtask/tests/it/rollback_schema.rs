//! The release path knows the schema, against the fake Railway CLI's deployments carrying
//! commits, a real git history built here, and a real PostgreSQL database reached through the
//! service's DATABASE_PUBLIC_URL. A rollback across an expand-only change goes on and says
//! so; across a dropped column it is refused before anything is touched, naming the migration;
//! missing information (a commit this clone lacks, a shallow clone, no public database URL)
//! refuses too. `verify --remote` and deploy's pre-flight catch an applied migration that was
//! edited, and a new migration with an unexcepted finding, before anything ships.

use std::path::Path;

use intowork_testkit::{Flavor, PgServer, TestDb};
use serde_json::{Value, json};
use xshell::{Shell, cmd};

use crate::common::fake_cli::{Fake, good_variables, now_plus, scenario};
use crate::common::health::HealthStandIn;
use crate::common::{Run, root};

const EXPAND: &str = "-- Tags for offers, and a free-text note: new things only.\nCREATE TABLE tags (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);\nALTER TABLE job_offers ADD COLUMN note text;\n";
const CONTRACT: &str = "-- migrate-lint: allow ban-drop-column — release 2 stopped reading and writing job_offers.location\nALTER TABLE job_offers DROP COLUMN location;\n";

/// A git repository with the project's migrations, one commit per release.
struct History {
    dir: tempfile::TempDir,
    /// Commit ids, oldest first: base, + expand, + contract.
    commits: Vec<String>,
}

impl History {
    fn build() -> History {
        let dir = tempfile::tempdir().unwrap();
        let sh = Shell::new().unwrap();
        sh.change_dir(dir.path());
        let git = |args: &[&str]| {
            cmd!(
                sh,
                "git -c user.name=Test -c user.email=test@intowork.example {args...}"
            )
            .quiet()
            .ignore_stdout()
            .run()
            .unwrap()
        };
        git(&["init", "-q", "-b", "main"]);
        let migrations = dir.path().join("migrations");
        std::fs::create_dir(&migrations).unwrap();
        for entry in std::fs::read_dir(root().join("migrations")).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), migrations.join(entry.file_name())).unwrap();
        }
        let mut commits = Vec::new();
        for (file, sql, message) in [
            (None, "", "release 1: the base schema"),
            (
                Some("29990101000001_tags_and_notes.up.sql"),
                EXPAND,
                "release 2: expand",
            ),
            (
                Some("29990101000002_drop_location.up.sql"),
                CONTRACT,
                "release 3: contract",
            ),
        ] {
            if let Some(file) = file {
                std::fs::write(migrations.join(file), sql).unwrap();
            }
            git(&["add", "-A"]);
            git(&["commit", "-q", "-m", message]);
            commits.push(cmd!(sh, "git rev-parse HEAD").quiet().read().unwrap());
        }
        History { dir, commits }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The migrations as they were at commit `n` (0-based), in a directory of their own.
    fn migrations_at(&self, n: usize) -> tempfile::TempDir {
        let out = tempfile::tempdir().unwrap();
        let sh = Shell::new().unwrap();
        sh.change_dir(self.path());
        let commit = &self.commits[n];
        let names = cmd!(sh, "git ls-tree --name-only {commit} migrations/")
            .read()
            .unwrap();
        for name in names.lines() {
            let spec = format!("{commit}:{name}");
            let bytes = cmd!(sh, "git show {spec}").quiet().output().unwrap().stdout;
            std::fs::write(out.path().join(Path::new(name).file_name().unwrap()), bytes).unwrap();
        }
        out
    }
}

/// A production database with the migrations of commit `n` applied.
fn production_at(history: &History, n: usize) -> TestDb {
    let db = PgServer::shared(Flavor::TlsOnly).create_database();
    apply(history, n, &db);
    db
}

fn apply(history: &History, n: usize, db: &TestDb) {
    let dir = history.migrations_at(n);
    let sh = Shell::new().unwrap();
    let bin = env!("CARGO_BIN_EXE_xtask");
    let source = dir.path().to_str().unwrap();
    let url = db.url("sslmode=require");
    let out = cmd!(sh, "{bin} migrate run --source {source}")
        .env_clear()
        .env("DATABASE_URL", &url)
        .env(
            "NEXTAUTH_SECRET",
            "rollback-schema-secret-0f1e2d3c4b5a69788796a5b4c3d2",
        )
        .ignore_status()
        .quiet()
        .output()
        .unwrap();
    let run = Run::from(out);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

/// The fake platform: the service's variables reach `db` through DATABASE_PUBLIC_URL, and
/// its deployments (newest first) carry `commits`.
fn platform(db: Option<&TestDb>, deployments: &[(&str, &str, &str)]) -> Fake {
    let mut variables = good_variables();
    if let Some(db) = db {
        variables["DATABASE_PUBLIC_URL"] = json!(db.url("sslmode=require"));
    }
    let list: Vec<Value> = deployments
        .iter()
        .enumerate()
        .map(|(i, (id, status, commit))| {
            json!({"id": id, "status": status, "createdAt": now_plus(-600 * (i as i64 + 1)), "meta": {"commitHash": commit}})
        })
        .collect();
    scenario(
        json!({"variables": {"backend": variables, "frontend": {}}, "deployments": {"backend": list}}),
    )
}

/// `xtask rollback --to TARGET` with git pointed at `repo`; `serving` is the commit the health
/// check reports once the rollback ran.
fn rollback(fake: &Fake, repo: &Path, target: &str, serving: &str, extra: &[&str]) -> Run {
    let service = HealthStandIn::serving(Box::leak(serving.to_owned().into_boxed_str()));
    let url = service.url();
    let mut args = vec![
        "rollback",
        "--to",
        target,
        "--health-url",
        &url,
        "--poll-interval",
        "50ms",
        "--timeout",
        "10s",
    ];
    args.extend_from_slice(extra);
    xtask_in(fake, repo, &args)
}

fn git_env(repo: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("PATH", std::env::var("PATH").unwrap()),
        ("GIT_DIR", repo.join(".git").display().to_string()),
        ("GIT_WORK_TREE", repo.display().to_string()),
    ]
}

/// `xtask ARGS` against the fake platform, with git pointed at `repo`.
fn xtask_in(fake: &Fake, repo: &Path, args: &[&str]) -> Run {
    let env = git_env(repo);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    fake.xtask(args, &env)
}

fn rolled_back(fake: &Fake) -> bool {
    fake.commands().iter().any(|c| c.contains("XtaskRollback"))
}

#[test]
fn a_rollback_across_expand_only_migrations_goes_on_and_says_which() {
    let history = History::build();
    let db = production_at(&history, 1);
    let (c1, c2) = (&history.commits[0], &history.commits[1]);
    let fake = platform(
        Some(&db),
        &[("dep-2", "SUCCESS", c2), ("dep-1", "REMOVED", c1)],
    );
    let run = rollback(&fake, history.path(), "dep-1", c1, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_contains!(
        run.stdout,
        "schema: 1 migration applied since dep-1's commit, all expand (29990101000001 tags and notes)"
    );
    assert!(rolled_back(&fake));
}

#[test]
fn a_rollback_across_a_dropped_column_is_refused_before_anything_is_touched() {
    let history = History::build();
    let db = production_at(&history, 2);
    let (c1, c2, c3) = (
        &history.commits[0],
        &history.commits[1],
        &history.commits[2],
    );
    for target in ["dep-2", "dep-1"] {
        let fake = platform(
            Some(&db),
            &[
                ("dep-3", "SUCCESS", c3),
                ("dep-2", "REMOVED", c2),
                ("dep-1", "REMOVED", c1),
            ],
        );
        let run = rollback(&fake, history.path(), target, c2, &[]);
        assert_eq!(run.code, 1, "{target}: {}\n{}", run.stdout, run.stderr);
        for needle in [
            "rollback refused before touching anything",
            "migration 29990101000002 (drop location)",
            "`ALTER TABLE job_offers DROP COLUMN location;` at migrations/29990101000002_drop_location.up.sql:2",
            "drops column job_offers.location",
            // The two-release workflow's reviewed drop, quoted for whoever must decide.
            "Its reviewed exception says: ban-drop-column at migrations/29990101000002_drop_location.up.sql:2: «release 2 stopped reading and writing job_offers.location»",
            "then --accept-schema is expected here, after reading this",
            "Roll forward instead",
            "--accept-schema",
        ] {
            assert_contains!(
                run.stderr,
                needle,
                "{target}: `{needle}` in:\n{}",
                run.stderr
            );
        }
        assert!(!rolled_back(&fake), "{target}: nothing was touched");
    }
    // Read why, then insist.
    let fake = platform(
        Some(&db),
        &[("dep-3", "SUCCESS", c3), ("dep-2", "REMOVED", c2)],
    );
    let run = rollback(&fake, history.path(), "dep-2", c2, &["--accept-schema"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_contains!(
        run.stderr,
        "WARNING: --accept-schema: rolling back although migration 29990101000002"
    );
    assert!(rolled_back(&fake));
}

#[test]
fn missing_information_is_a_refusal_with_the_reason() {
    let history = History::build();
    let db = production_at(&history, 1);
    let (c1, c2) = (&history.commits[0], &history.commits[1]);
    let unknown = "0123456789abcdef0123456789abcdef01234567";
    // A commit the clone does not have.
    let fake = platform(
        Some(&db),
        &[("dep-2", "SUCCESS", c2), ("dep-x", "REMOVED", unknown)],
    );
    let run = rollback(&fake, history.path(), "dep-x", unknown, &[]);
    assert_eq!(run.code, 1);
    assert_contains!(
        run.stderr,
        &format!("commit {unknown} is not in this clone")
    );
    assert!(!rolled_back(&fake));

    // A shallow clone: the target's commit was never fetched.
    let shallow = tempfile::tempdir().unwrap();
    let sh = Shell::new().unwrap();
    let (from, to) = (
        format!("file://{}", history.path().display()),
        shallow.path().join("clone"),
    );
    cmd!(sh, "git clone -q --depth 1 {from} {to}")
        .quiet()
        .run()
        .unwrap();
    let fake = platform(
        Some(&db),
        &[("dep-2", "SUCCESS", c2), ("dep-1", "REMOVED", c1)],
    );
    let run = rollback(&fake, &to, "dep-1", c1, &[]);
    assert_eq!(run.code, 1);
    assert_contains!(run.stderr, "which is shallow: run `git fetch --unshallow`");
    assert!(!rolled_back(&fake));

    // No way to the database from here.
    let fake = platform(None, &[("dep-2", "SUCCESS", c2), ("dep-1", "REMOVED", c1)]);
    let run = rollback(&fake, history.path(), "dep-1", c1, &[]);
    assert_eq!(run.code, 1);
    assert_contains!(run.stderr, "has only a DATABASE_URL private to Railway");
    assert_contains!(run.stderr, "DATABASE_PUBLIC_URL");
    assert!(!rolled_back(&fake));

    // A deployment that carries no commit.
    let fake = scenario(json!({"deployments": {"backend": [
        {"id": "dep-2", "status": "SUCCESS", "createdAt": now_plus(-60), "meta": {"commitHash": c2}},
        {"id": "dep-0", "status": "REMOVED", "createdAt": now_plus(-600)},
    ]}}));
    let run = rollback(&fake, history.path(), "dep-0", c1, &[]);
    assert_eq!(run.code, 1);
    assert_contains!(
        run.stderr,
        "deployment dep-0 carries no commit (meta.commitHash)"
    );
}

/// Sealed database URLs: without an unsealed way to the database the guard cannot read the
/// schema, and the refusal names the sealed variable and both ways out; with a readable
/// `DATABASE_PUBLIC_URL` reference beside a sealed `DATABASE_URL` (and other sealed secrets),
/// the guard reads the schema and the rollback goes on.
#[test]
fn sealed_database_urls_refuse_by_name_unless_a_public_url_is_readable() {
    let history = History::build();
    let db = production_at(&history, 1);
    let (c1, c2) = (&history.commits[0], &history.commits[1]);
    let deployments = &[
        ("dep-2", "SUCCESS", c2.as_str()),
        ("dep-1", "REMOVED", c1.as_str()),
    ];
    for (public, sealed) in [
        (None, &["DATABASE_URL"][..]),
        (Some(&db), &["DATABASE_URL", "DATABASE_PUBLIC_URL"]),
    ] {
        let fake = platform(public, deployments);
        seal(&fake, sealed);
        let run = rollback(&fake, history.path(), "dep-1", c1, &[]);
        assert_eq!(run.code, 1, "{sealed:?}: {}\n{}", run.stdout, run.stderr);
        let named = sealed.last().unwrap();
        for needle in [
            "rollback refused before touching anything".to_owned(),
            format!("`{named}` of Railway service `backend` is sealed"),
            "`DATABASE_PUBLIC_URL=${{Postgres.DATABASE_PUBLIC_URL}}`".to_owned(),
            "--accept-schema".to_owned(),
            "its `accept_schema` input".to_owned(),
        ] {
            assert_contains!(
                run.stderr,
                &needle,
                "{sealed:?}: `{needle}` in:\n{}",
                run.stderr
            );
        }
        assert!(!rolled_back(&fake), "{sealed:?}: nothing was touched");
    }
    let fake = platform(Some(&db), deployments);
    seal(
        &fake,
        &["DATABASE_URL", "NEXTAUTH_SECRET", "RESEND_API_KEY"],
    );
    let run = rollback(&fake, history.path(), "dep-1", c1, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_contains!(
        run.stdout,
        "schema: 1 migration applied since dep-1's commit, all expand"
    );
    assert!(rolled_back(&fake));
}

/// Makes `names` sealed (`null`) on the fake's backend service.
fn seal(fake: &Fake, names: &[&str]) {
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&fake.scenario).unwrap()).unwrap();
    for name in names {
        doc["variables"]["backend"][name] = Value::Null;
    }
    std::fs::write(&fake.scenario, doc.to_string()).unwrap();
}

/// `deploy --commit SHA --rollback-on-failure` against the fake platform, git at `repo`; the
/// service reports `serving` (so a deploy of another commit is a stale build, rolled back).
fn deploy_with_rollback(
    fake: &Fake,
    repo: &Path,
    commit: &str,
    serving: &str,
    extra: &[&str],
) -> Run {
    let service = HealthStandIn::serving(Box::leak(serving.to_owned().into_boxed_str()));
    let url = service.url();
    let mut args = vec![
        "deploy",
        "--commit",
        commit,
        "--health-url",
        &url,
        "--poll-interval",
        "50ms",
        "--timeout",
        "3s",
        "--no-env-file",
        "--rollback-on-failure",
        "--json",
    ];
    args.extend_from_slice(extra);
    xtask_in(fake, repo, &args)
}

/// `--rollback-on-failure` promises a rollback: when the one it would make cannot be judged
/// safe for the schema — a contract migration applied since the serving deployment's commit,
/// or one this deploy would apply; a serving deployment without a commit; no way to the
/// database — the pre-flight fails and nothing is deployed (unless --accept-schema).
#[test]
fn rollback_on_failure_refuses_in_pre_flight_a_rollback_it_could_not_make() {
    let history = History::build();
    let (c1, c2, c3) = (
        &history.commits[0],
        &history.commits[1],
        &history.commits[2],
    );
    // The contract migration already applied (by hand, or a deploy without the flag), and
    // one the deploy of release 3 would apply.
    for applied in [2, 1] {
        let db = production_at(&history, applied);
        let fake = platform(Some(&db), &[("dep-2", "SUCCESS", c2)]);
        let run = deploy_with_rollback(&fake, history.path(), c3, c2, &[]);
        assert_eq!(run.code, 1, "{applied}: {}\n{}", run.stdout, run.stderr);
        let when = if applied == 2 {
            "was applied"
        } else {
            "would be applied by this deploy"
        };
        for needle in [
            "deploy: pre-flight failed: --rollback-on-failure could not roll back to dep-2 if this deploy fails".to_owned(),
            format!("migration 29990101000002 (drop location) {when} after {c2} and is contract"),
            "nothing was deployed".to_owned(),
            "--accept-schema".to_owned(),
        ] {
            assert_contains!(run.stderr, &needle, "{applied}: `{needle}` in:\n{}", run.stderr);
        }
        assert!(!deploys_commit(&fake), "{applied}: nothing was deployed");
    }
    // What cannot be judged: no way to the database, a serving deployment without a commit.
    let db = production_at(&history, 1);
    let fake = platform(None, &[("dep-2", "SUCCESS", c2)]);
    let run = deploy_with_rollback(&fake, history.path(), c3, c2, &[]);
    assert!(
        run.code == 1 && run.stderr.contains("the schema cannot be judged: service `backend` has only a DATABASE_URL private to Railway"),
        "{}",
        run.stderr
    );
    assert!(!deploys_commit(&fake));
    let mut variables = good_variables();
    variables["DATABASE_PUBLIC_URL"] = json!(db.url("sslmode=require"));
    let fake = scenario(
        json!({"variables": {"backend": variables, "frontend": {}}, "deployments": {"backend": [
            {"id": "dep-2", "status": "SUCCESS", "createdAt": now_plus(-60)},
        ]}}),
    );
    let run = deploy_with_rollback(&fake, history.path(), c2, c1, &[]);
    assert!(
        run.code == 1
            && run
                .stderr
                .contains("deployment dep-2 carries no commit (meta.commitHash)"),
        "{}",
        run.stderr
    );
    assert!(!deploys_commit(&fake));

    // An expand-only deploy goes on, saying the rollback it could make.
    let db = production_at(&history, 0);
    let fake = platform(Some(&db), &[("dep-1", "SUCCESS", c1)]);
    let run = deploy_with_rollback(&fake, history.path(), c2, c2, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_contains!(
        run.stderr,
        "--rollback-on-failure: a rollback to dep-1 is possible; schema: 1 migration applied or shipped since dep-1's commit, all expand (29990101000001 tags and notes)"
    );
}

/// With --accept-schema the deploy goes on (said loudly), and when it fails, the rollback
/// across the contract migration it accepted is made.
#[test]
fn rollback_on_failure_with_accept_schema_deploys_and_rolls_back() {
    let history = History::build();
    let db = production_at(&history, 2);
    let (c2, c3) = (&history.commits[1], &history.commits[2]);
    let fake = platform(Some(&db), &[("dep-2", "SUCCESS", c2)]);
    let run = deploy_with_rollback(&fake, history.path(), c3, c2, &["--accept-schema"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_contains!(
        run.stderr,
        "WARNING: --accept-schema: deploying with --rollback-on-failure although migration 29990101000002 (drop location)"
    );
    let doc: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(doc["verdict"], "rolled_back", "{doc}");
    assert!(deploys_commit(&fake) && rolled_back(&fake));
}

fn deploys_commit(fake: &Fake) -> bool {
    fake.commands()
        .iter()
        .any(|c| c.contains("XtaskDeployCommit"))
}

/// Writes `sql` to the clone's work tree, uncommitted (what `deploy --up` would upload).
fn edit(history: &History, file: &str, sql: &str) {
    std::fs::write(history.path().join("migrations").join(file), sql).unwrap();
}

/// `deploy --up` of the clone's work tree, which the pre-flight must refuse (exit 1).
fn refused_deploy(fake: &Fake, history: &History, serving: &str) -> Run {
    let service = HealthStandIn::serving(Box::leak(serving.to_owned().into_boxed_str()));
    let url = service.url();
    let args = [
        "deploy",
        "--up",
        "--health-url",
        &url,
        "--timeout",
        "5s",
        "--poll-interval",
        "50ms",
        "--no-env-file",
    ];
    let run = xtask_in(fake, history.path(), &args);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    run
}

fn deploys(fake: &Fake) -> bool {
    fake.commands()
        .iter()
        .any(|c| c.starts_with("redeploy") || c.starts_with("up"))
}

#[test]
fn an_applied_migration_edited_since_is_caught_before_the_deploy() {
    let history = History::build();
    let db = production_at(&history, 2);
    let c3 = &history.commits[2];
    let fake = platform(Some(&db), &[("dep-3", "SUCCESS", c3)]);

    let run = xtask_in(
        &fake,
        history.path(),
        &["verify", "--remote", "--no-env-file", "--json"],
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let applied = crate::common::check(&doc, "schema.applied");
    assert_eq!(applied["status"], "pass", "{applied}");
    assert_contains!(
        applied["message"].as_str().unwrap(),
        "match the files about to ship (checksums); 0 new",
        "{applied}"
    );

    edit(
        &history,
        "29990101000001_tags_and_notes.up.sql",
        &format!("{EXPAND}-- and a comment\n"),
    );
    let run = xtask_in(
        &fake,
        history.path(),
        &["verify", "--remote", "--no-env-file", "--json"],
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let applied = crate::common::check(&doc, "schema.applied");
    assert_eq!(applied["status"], "fail", "{applied}");
    assert_contains!(
        applied["message"].as_str().unwrap(),
        "migration 29990101000001 (tags and notes) was edited after production applied it (checksum differs)",
        "{applied}"
    );
    assert_contains!(
        applied["message"].as_str().unwrap(),
        "the new deployment would refuse to start",
        "{applied}"
    );

    let run = refused_deploy(&fake, &history, c3);
    assert_contains!(
        run.stderr,
        "deploy: pre-flight failed",
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert_contains!(
        run.stdout,
        "schema.applied",
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(!deploys(&fake), "nothing was deployed");
}

#[test]
fn deploy_refuses_a_new_migration_with_an_unexcepted_finding() {
    let history = History::build();
    let db = production_at(&history, 2);
    let c3 = &history.commits[2];
    let fake = platform(Some(&db), &[("dep-3", "SUCCESS", c3)]);
    edit(
        &history,
        "29990101000003_title_index.up.sql",
        "CREATE INDEX job_offers_title_idx ON job_offers (title);\n",
    );
    let run = refused_deploy(&fake, &history, c3);
    assert_contains!(run.stdout, "schema.lint");
    assert_contains!(
        run.stdout,
        "migrations/29990101000003_title_index.up.sql:1: require-concurrent-index-creation [locking]"
    );
    assert_contains!(run.stderr, "deploy: pre-flight failed");
    assert!(!deploys(&fake), "nothing was deployed");

    // Its rewrite ships: the one new migration is linted (the applied ones, with their
    // reviewed exception, are not judged again) and the deploy goes on.
    edit(
        &history,
        "29990101000003_title_index.up.sql",
        "-- no-transaction\nCREATE INDEX CONCURRENTLY job_offers_title_idx ON job_offers (title);\n",
    );
    let run = xtask_in(
        &fake,
        history.path(),
        &["verify", "--remote", "--no-env-file", "--json"],
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let lint = crate::common::check(&doc, "schema.lint");
    assert_eq!(lint["status"], "pass", "{lint}");
    assert_contains!(
        lint["message"].as_str().unwrap(),
        "the migrations that will run at start-up lint clean: 29990101000003 expand",
        "{lint}"
    );
}

/// `deploy --skip-verify` names the schema gates it skips, and still lints every migration
/// about to ship, offline: a new migration with an unexcepted finding deploys nothing.
#[test]
fn skip_verify_names_the_schema_gates_and_keeps_the_offline_lint() {
    let history = History::build();
    let c3 = &history.commits[2];
    // No database needed: the offline lint reads only the files.
    let fake = platform(None, &[("dep-3", "SUCCESS", c3)]);
    edit(
        &history,
        "29990101000003_title_index.up.sql",
        "CREATE INDEX job_offers_title_idx ON job_offers (title);\n",
    );
    let args = [
        "deploy",
        "--up",
        "--skip-verify",
        "--no-env-file",
        "--health-url",
        "http://127.0.0.1:1/",
    ];
    let run = xtask_in(&fake, history.path(), &args);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_contains!(run.stderr, "WARNING: --skip-verify");
    assert_contains!(run.stderr, "schema.applied");
    assert_contains!(
        run.stderr,
        "the offline lint of every migration about to ship still runs",
        "{}",
        run.stderr
    );
    assert_contains!(run.stdout, "schema.lint");
    assert_contains!(
        run.stdout,
        "migrations/29990101000003_title_index.up.sql:1: require-concurrent-index-creation [locking]"
    );
    assert_contains!(run.stderr, "deploy: pre-flight failed: the offline lint");
    assert!(!deploys(&fake), "nothing was deployed");
}
