//! The service settings a deploy depends on, and the invariants they must hold. One set of
//! rules for what runs (the live service instance, read through `railway api`) and for what
//! `.railway/railway.ts` would write (its evaluated graph, checked by a test).

use intowork_config::{Check, Status};

use crate::railway::ServiceInstance;

/// The backend's readiness route (backend/src/routes/mod.rs), which Railway's health check
/// must poll: it answers 200 only once the database answers over TLS and no migration is
/// pending. `/health` (liveness) would let a deployment that cannot reach its database serve.
pub(crate) const READINESS_PATH: &str = "/health/ready";

/// After its drain the backend closes its pool within this budget
/// (backend/src/startup.rs, `POOL_CLOSE_BUDGET`): SIGKILL must not come before.
pub(crate) const POOL_CLOSE_SECS: u64 = 5;

/// The settings, from either side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct InstanceSettings {
    /// `github:owner/repo` or `image:name`; `None`: nothing to deploy from.
    pub(crate) source: Option<String>,
    pub(crate) healthcheck_path: Option<String>,
    pub(crate) healthcheck_timeout: Option<u64>,
    pub(crate) draining_seconds: Option<u64>,
    pub(crate) overlap_seconds: Option<u64>,
    pub(crate) num_replicas: Option<u32>,
    /// Each element is run by the platform as one whole command string.
    pub(crate) pre_deploy: Vec<String>,
    pub(crate) restart_policy: Option<String>,
    pub(crate) sleep_application: Option<bool>,
}

/// What the service's variables say about the same concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Runtime {
    pub(crate) shutdown_grace_secs: Input<u64>,
    pub(crate) migrate_on_start: Input<bool>,
    pub(crate) pool_size: Input<u32>,
}

/// A value an invariant depends on, or the sealed variable that holds it: a check that needs
/// it is then a warning naming that variable, never a pass against its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Input<T> {
    Value(T),
    Sealed(&'static str),
}

/// A warning: `what` depends on the value of `variable`, which is sealed.
fn unknown(name: &str, variable: &str, what: String) -> Check {
    setting(name, Status::Warn, format!("{what}: it depends on {variable}, which is sealed, so it cannot be checked from here (not a pass)"))
        .hint(format!("check it where {variable} is known: `cargo xtask verify --env-file FILE` with the value in a local file that is never committed"))
}

impl From<&ServiceInstance> for InstanceSettings {
    fn from(i: &ServiceInstance) -> InstanceSettings {
        let source = i.source.as_ref().and_then(|s| {
            s.repo
                .as_ref()
                .map(|r| format!("github:{r}"))
                .or(s.image.as_ref().map(|m| format!("image:{m}")))
        });
        let pre_deploy = match &i.pre_deploy_command {
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            Some(serde_json::Value::String(s)) if !s.is_empty() => vec![s.clone()],
            _ => Vec::new(),
        };
        InstanceSettings {
            source,
            healthcheck_path: i.healthcheck_path.clone().filter(|p| !p.is_empty()),
            healthcheck_timeout: i.healthcheck_timeout,
            draining_seconds: i.draining_seconds,
            overlap_seconds: i.overlap_seconds,
            num_replicas: i.num_replicas,
            pre_deploy,
            restart_policy: i.restart_policy_type.clone(),
            sleep_application: i.sleep_application,
        }
    }
}

/// Every invariant, one check each, named after the setting (`fix:` says where to set it).
pub(crate) fn check(s: &InstanceSettings, rt: &Runtime) -> Vec<Check> {
    vec![
        source(s),
        healthcheck(s),
        draining(s, rt),
        pre_deploy(s, rt),
        restart(s),
        sleeping(s),
        connections(s, rt),
    ]
}

fn setting(name: &str, status: Status, message: impl Into<String>) -> Check {
    Check::new(format!("settings.{name}"), status, message).variable(name)
}

fn source(s: &InstanceSettings) -> Check {
    match &s.source {
        Some(src) => setting("source", Status::Pass, format!("deploys from {src}")),
        None => setting("source", Status::Fail, "no source: the service has no repository or image to deploy")
            .hint("connect the GitHub repository in the service's Settings → Source (`source: github(…)` in .railway/railway.ts)"),
    }
}

fn healthcheck(s: &InstanceSettings) -> Check {
    let fix = format!(
        "set the service's Healthcheck Path to {READINESS_PATH} (`healthcheck` in .railway/railway.ts)"
    );
    match s.healthcheck_path.as_deref() {
        Some(READINESS_PATH) => setting(
            "healthcheckPath",
            Status::Pass,
            format!("{READINESS_PATH}: traffic moves only to a deployment that reached its database"),
        ),
        Some(other) => setting(
            "healthcheckPath",
            Status::Fail,
            format!("is `{other}`, not the backend's readiness route {READINESS_PATH}: a deployment that cannot reach its database would take traffic"),
        )
        .hint(fix),
        None => setting(
            "healthcheckPath",
            Status::Fail,
            "not set: Railway switches traffic to a new deployment as soon as it starts, ready or not",
        )
        .hint(fix),
    }
}

fn draining(s: &InstanceSettings, rt: &Runtime) -> Check {
    let have = s.draining_seconds.unwrap_or(0);
    let grace = match rt.shutdown_grace_secs {
        Input::Value(grace) => grace,
        // Too short whatever the grace (0 at least): a failure still.
        Input::Sealed(_) if have < POOL_CLOSE_SECS => 0,
        Input::Sealed(var) => {
            return unknown(
                "drainingSeconds",
                var,
                format!("{have} s must cover {var} + {POOL_CLOSE_SECS} s to close the pool"),
            );
        }
    };
    let needed = grace + POOL_CLOSE_SECS;
    if have >= needed {
        return setting(
            "drainingSeconds",
            Status::Pass,
            format!(
                "{have} s ≥ SHUTDOWN_GRACE_SECS {grace} + {POOL_CLOSE_SECS} s to close the pool"
            ),
        );
    }
    setting(
        "drainingSeconds",
        Status::Fail,
        format!(
            "{have} s{}: SIGKILL would cut the backend's {} s drain (SHUTDOWN_GRACE_SECS) and its {POOL_CLOSE_SECS} s pool close, dropping in-flight requests",
            if s.draining_seconds.is_none() { " (not set; the platform's default is 0)" } else { "" },
            grace
        ),
    )
    .hint(format!("set Draining Seconds to at least {needed} (`deploy.drainingSeconds` in .railway/railway.ts), or lower SHUTDOWN_GRACE_SECS"))
}

fn pre_deploy(s: &InstanceSettings, rt: &Runtime) -> Check {
    let name = "preDeployCommand";
    let split = s.pre_deploy.iter().any(|c| {
        let c = c.trim();
        c == "migrate" || c.ends_with("/backend") || c == "backend"
    });
    if split {
        return setting(name, Status::Fail, format!("{:?} splits one command into elements, but the platform runs each element as a whole command", s.pre_deploy))
            .hint("one element per command: [\"/app/backend migrate\"]");
    }
    let migrates = s.pre_deploy.iter().any(|c| c.contains("backend migrate"));
    let migrate_on_start = match rt.migrate_on_start {
        Input::Value(on) => on,
        Input::Sealed(var) if migrates => {
            return unknown(
                name,
                var,
                "the pre-deploy command runs `backend migrate`; whether start-up migrates again"
                    .to_owned(),
            );
        }
        Input::Sealed(var) => {
            return unknown(
                name,
                var,
                "no pre-deploy `backend migrate`; whether start-up applies migrations".to_owned(),
            );
        }
    };
    match (migrate_on_start, migrates) {
        (false, false) => setting(name, Status::Fail, "MIGRATE_ON_START=false and no pre-deploy `backend migrate`: nothing applies migrations, and /health/ready stays 503")
            .hint("add the pre-deploy command [\"/app/backend migrate\"], or set MIGRATE_ON_START=true"),
        (true, true) => setting(name, Status::Warn, "migrations run twice: in the pre-deploy command and at start-up (MIGRATE_ON_START=true); harmless under the lock, but slower")
            .hint("set MIGRATE_ON_START=false when the pre-deploy command migrates"),
        (false, true) => setting(name, Status::Pass, "`backend migrate` runs once per deploy before any replica starts (MIGRATE_ON_START=false)"),
        (true, false) => setting(name, Status::Pass, "none: migrations run at start-up under the migration lock (MIGRATE_ON_START=true)"),
    }
}

fn restart(s: &InstanceSettings) -> Check {
    match s.restart_policy.as_deref() {
        Some("NEVER") => setting(
            "restartPolicyType",
            Status::Warn,
            "NEVER: a crashed backend stays down",
        )
        .hint("set the restart policy to ON_FAILURE (`deploy.restartPolicyType`)"),
        Some(policy) => setting("restartPolicyType", Status::Pass, policy.to_owned()),
        None => setting(
            "restartPolicyType",
            Status::Pass,
            "the platform's default (ON_FAILURE)",
        ),
    }
}

fn sleeping(s: &InstanceSettings) -> Check {
    if s.sleep_application == Some(true) {
        return setting("sleepApplication", Status::Warn, "app sleeping is on: after idle time the first request waits for a cold start (deploy's health probe wakes it; SLEEPING is healthy-but-asleep)")
            .hint("turn Serverless / app sleeping off for an API users wait on (`deploy.sleepApplication: false`)");
    }
    setting("sleepApplication", Status::Pass, "off")
}

fn connections(s: &InstanceSettings, rt: &Runtime) -> Check {
    let replicas = s.num_replicas.unwrap_or(1).max(1);
    let plural = if replicas == 1 { "" } else { "s" };
    let pool_size = match rt.pool_size {
        Input::Value(size) => size,
        Input::Sealed(var) => {
            return unknown(
                "numReplicas",
                var,
                format!(
                    "{replicas} replica{plural} × a pool of {var} connections each, twice that while a deploy overlaps old and new"
                ),
            );
        }
    };
    let total = pool_size * replicas;
    setting(
        "numReplicas",
        Status::Pass,
        format!(
            "{replicas} replica{plural} × pool {pool_size} = {total} connections, up to {} while a deploy overlaps old and new",
            total * 2
        ),
    )
    .hint(format!("`cargo xtask verify --replicas {}` against DATABASE_PUBLIC_URL checks that against the server's max_connections", replicas * 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> InstanceSettings {
        InstanceSettings {
            source: Some("github:intowork/intowork-backend".into()),
            healthcheck_path: Some(READINESS_PATH.into()),
            healthcheck_timeout: Some(120),
            draining_seconds: Some(30),
            overlap_seconds: None,
            num_replicas: Some(2),
            pre_deploy: Vec::new(),
            restart_policy: Some("ON_FAILURE".into()),
            sleep_application: Some(false),
        }
    }

    const RT: Runtime = Runtime {
        shutdown_grace_secs: Input::Value(25),
        migrate_on_start: Input::Value(true),
        pool_size: Input::Value(10),
    };

    fn failing(s: &InstanceSettings, rt: &Runtime) -> Vec<String> {
        check(s, rt)
            .into_iter()
            .filter(|c| c.status == Status::Fail)
            .map(|c| c.variable.unwrap())
            .collect()
    }

    #[test]
    fn good_settings_pass_and_each_broken_one_is_named() {
        assert!(failing(&good(), &RT).is_empty());
        type Break = fn(&mut InstanceSettings);
        let cases: [(Break, &str); 5] = [
            (|s| s.source = None, "source"),
            (
                |s| s.healthcheck_path = Some("/health".into()),
                "healthcheckPath",
            ),
            (|s| s.healthcheck_path = None, "healthcheckPath"),
            (|s| s.draining_seconds = Some(25), "drainingSeconds"),
            (
                |s| s.pre_deploy = vec!["/app/backend".into(), "migrate".into()],
                "preDeployCommand",
            ),
        ];
        for (breaks, name) in cases {
            let mut s = good();
            breaks(&mut s);
            assert_eq!(failing(&s, &RT), [name], "{s:?}");
        }
        let no_migrations = Runtime {
            migrate_on_start: Input::Value(false),
            ..RT
        };
        assert_eq!(failing(&good(), &no_migrations), ["preDeployCommand"]);
        let mut s = good();
        s.pre_deploy = vec!["/app/backend migrate".into()];
        assert!(failing(&s, &no_migrations).is_empty());
    }

    #[test]
    fn a_setting_derived_from_a_sealed_variable_is_a_warning_naming_it() {
        let sealed = Runtime {
            shutdown_grace_secs: Input::Sealed("SHUTDOWN_GRACE_SECS"),
            migrate_on_start: Input::Sealed("MIGRATE_ON_START"),
            pool_size: Input::Sealed("DATABASE_MAX_CONNECTIONS"),
        };
        for (name, variable) in [
            ("drainingSeconds", "SHUTDOWN_GRACE_SECS"),
            ("preDeployCommand", "MIGRATE_ON_START"),
            ("numReplicas", "DATABASE_MAX_CONNECTIONS"),
        ] {
            let c = check(&good(), &sealed)
                .into_iter()
                .find(|c| c.variable.as_deref() == Some(name))
                .unwrap();
            assert_eq!(c.status, Status::Warn, "{c:?}");
            assert!(
                c.message.contains(&format!("{variable}, which is sealed")),
                "{c:?}"
            );
        }
        // What fails whatever the sealed value is still a failure.
        let mut s = good();
        s.draining_seconds = None;
        s.pre_deploy = vec!["/app/backend".into(), "migrate".into()];
        assert_eq!(
            failing(&s, &sealed),
            ["drainingSeconds", "preDeployCommand"]
        );
    }
}
