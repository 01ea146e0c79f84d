//! `cargo xtask deploy`: pre-flight, one deploy at a time, trigger, wait for the outcome while
//! streaming logs, probe readiness and the build that serves, watch and roll back when asked.
//! Exit 0 only when the deployed commit serves, healthy.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use intowork_config::Escaped;
use serde_json::json;
use xshell::{Shell, cmd};

use crate::flags;
use crate::migrate::guard;
use crate::railway::poll::Outcome;
use crate::railway::{Call, Deployment, Feature, Ids, Needs, Op, Phase, Railway, Variables};
use crate::release::health::Probe;
use crate::release::{self, FrontendOrigin, Say, Stage, Summary, Verdict};
use crate::util::exit::Reported;
use crate::util::mask::Masker;
use crate::{rollback, util::checklist, util::config_source, verify::remote};

/// What the pre-flight established.
struct PreFlight {
    railway: Railway,
    ids: Ids,
    health_url: Option<String>,
    /// The service's variables (sealed ones present without a value): the schema guard of
    /// `--rollback-on-failure` reads the production database URL from them.
    variables: Variables,
    /// FRONTEND_URL's origin: where the CORS preflight after cutover comes from.
    frontend_origin: FrontendOrigin,
    /// The migration files this deploy ships (judged again before a rollback after cutover).
    shipped: guard::preflight::Shipped,
    /// The deployments before the trigger, newest first (the active one is the rollback target).
    history: Vec<Deployment>,
}

impl PreFlight {
    fn serving(&self) -> Option<&Deployment> {
        self.history
            .iter()
            .find(|d| d.status.phase() == Phase::Active)
    }
}

/// The deployment the trigger created, and the commit it must serve (when known).
struct Triggered {
    id: String,
    commit: Option<String>,
}

impl flags::Deploy {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let mut stage = Stage::BeforeTrigger;
        let result = self.steps(sh, &mut stage);
        release::on_failure("deploy", self.json, stage, result)
    }

    fn steps(&self, sh: &Shell, stage: &mut Stage) -> anyhow::Result<()> {
        let started = Instant::now();
        let say = Say { json: self.json };

        // 1. Pre-flight: CLI, credentials, the platform's variables and settings, the plan of
        //    .railway/railway.ts. Nothing is deployed when it fails.
        let pre = self.pre_flight(sh, say)?;

        // 2. One deploy at a time.
        release::one_at_a_time(sh, &pre.railway, &pre.ids, &self.wait, say)?;
        let trigger = self.trigger_call(&pre.ids);
        if self.dry_run {
            return self.dry_run(sh, &pre, &trigger, say);
        }

        // 3. Trigger: the new deployment, and the commit it must serve.
        *stage = Stage::Triggered;
        let t = Instant::now();
        let new = self.trigger(sh, &pre, &trigger)?;
        let trigger_ms = t.elapsed().as_millis() as u64;
        say.line(&format!(
            "triggered deployment {} ({}; expected commit: {})",
            new.id,
            trigger.name(),
            new.commit.as_deref().unwrap_or("unknown yet")
        ));

        // 4. Wait for its outcome, streaming its logs.
        let t = Instant::now();
        let masker = pre.railway.relay().masker();
        let cadence = release::cadence(&self.wait);
        let railway = &pre.railway;
        let waited =
            release::wait_streaming(sh, railway, &new.id, cadence, self.approve, &masker, say)?;
        let wait_ms = t.elapsed().as_millis() as u64;
        // `--from-source` learns its commit from the platform once the build started.
        let commit = new.commit.clone().or_else(|| match &waited.outcome {
            Outcome::Active(d) => d.commit(),
            _ => None,
        });

        // 5. Health: ready, and serving the deployed commit.
        let t = Instant::now();
        let probe = self.health(&pre, &waited.outcome, commit.as_deref(), started, say);
        let health_ms = t.elapsed().as_millis() as u64;
        let (verdict, message) = release::judge(&waited.outcome, probe.as_ref(), self.wait.timeout);
        if verdict != Verdict::Deployed {
            release::print_tail(&new.id, &waited.logs);
        }

        // 6. Watch after cutover, and roll back to what served before when asked.
        let rolled = self.after_cutover(sh, &pre, &new.id, verdict, &masker, say, started)?;

        // 7. Report.
        let total_ms = started.elapsed().as_millis() as u64;
        let mut summary = Summary {
            task: "deploy",
            ok: verdict == Verdict::Deployed,
            verdict,
            message,
            deployment_id: Some(new.id.clone()),
            status: waited.outcome.deployment().map(|d| d.status.clone()),
            commit,
            probe,
            rollback: None,
            durations_ms: [
                ("trigger", trigger_ms),
                ("wait", wait_ms),
                ("health", health_ms),
                ("total", total_ms),
            ]
            .into(),
        };
        if let Some(rolled) = rolled {
            rolled.apply(&mut summary, &new.id);
        }
        summary.finish(railway, self.json, say)
    }

    /// Probes an active deployment (SUCCESS, or SLEEPING: the probe wakes it).
    fn health(
        &self,
        pre: &PreFlight,
        outcome: &Outcome,
        commit: Option<&str>,
        started: Instant,
        say: Say,
    ) -> Option<Probe> {
        match (outcome, &pre.health_url) {
            (Outcome::Active(d), Some(url)) => Some(release::probe(
                url,
                commit,
                &d.status,
                &self.wait,
                started,
                &pre.frontend_origin,
                say,
            )),
            _ => None,
        }
    }

    /// What this run asks of the CLI: the version gate refuses an older one first.
    fn needs(&self) -> Needs {
        let mut features = vec![
            Feature::Status,
            Feature::VariableList,
            Feature::SealedAsNull,
            Feature::Api,
            Feature::DeploymentList,
            Feature::Logs,
        ];
        if !self.skip_verify {
            features.extend(remote::features());
        }
        if self.commit.is_none() {
            if self.up {
                features.push(Feature::UpDetach);
            } else {
                features.push(Feature::Redeploy);
                if self.from_source {
                    features.push(Feature::RedeployFromSource);
                }
            }
        }
        Needs::new("deploy", &features)
    }

    fn pre_flight(&self, sh: &Shell, say: Say) -> anyhow::Result<PreFlight> {
        let mut ready = remote::railway_ready(sh, &self.railway, &self.needs())?;
        ready.railway.read_only = self.dry_run;
        let shipped = self.shipped(sh);
        if self.skip_verify {
            eprintln!(
                "WARNING: --skip-verify: the platform's variables, the service's settings, the plan of .railway/railway.ts and the schema gates against the production database — schema.applied (an applied migration edited or missing from what ships) and the lint of only the migrations still to run — are NOT checked before deploying; the offline lint of every migration about to ship still runs"
            );
            let lint = guard::preflight::offline_lint(sh, &shipped);
            if lint.status == intowork_config::Status::Fail {
                let mut report = intowork_config::Report::default();
                report.push(lint);
                self.print_failed(&report)?;
                return Err(Reported(
                    "deploy: pre-flight failed: the offline lint of the migrations about to ship (see above); nothing was deployed".into(),
                )
                .into());
            }
        } else {
            let pooler = self.pooler_service.as_deref();
            let mut report = remote::check(sh, &ready, &self.frontend, &self.env, pooler)?;
            let target = &ready.railway.target;
            report.checks.extend(guard::preflight::checks(
                sh,
                &ready.variables,
                target,
                &shipped,
            ));
            if report.has_failures() {
                self.print_failed(&report)?;
                return Err(Reported(
                    "deploy: pre-flight failed (see the checklist above); nothing was deployed"
                        .into(),
                )
                .into());
            }
            for w in report.warnings() {
                let subject = w.variable.as_deref().unwrap_or(&w.id);
                eprintln!("warning: {}: {}", Escaped(subject), Escaped(&w.message));
            }
            say.line(&format!(
                "pre-flight ok: Railway CLI {}, service `{}` in `{}`: variables, settings and plan verified",
                ready.railway.version, self.railway.service, self.railway.environment
            ));
        }
        let remote::Ready {
            railway,
            ids,
            variables,
        } = ready;
        let health_url = release::health_url(self.health_url.as_deref(), &variables);
        let frontend_origin = FrontendOrigin::of(&variables);
        release::sealed_note(&variables, &self.railway.service);
        let history = railway.history(sh, &ids)?;
        if self.rollback_on_failure {
            self.can_roll_back(sh, &railway.target, &variables, &history, &shipped, say)?;
        }
        Ok(PreFlight {
            railway,
            ids,
            health_url,
            variables,
            frontend_origin,
            shipped,
            history,
        })
    }

    /// The migration files this deploy ships: `--commit`'s, read from git when this clone has
    /// it, else this checkout's (what `--up` uploads and CI checks out).
    fn shipped(&self, sh: &Shell) -> guard::preflight::Shipped {
        use guard::preflight::Shipped;
        match &self.commit {
            Some(sha) if crate::migrate::lint::files::has_commit(sh, sha) => {
                Shipped::Commit(sha.clone())
            }
            Some(sha) => {
                eprintln!(
                    "note: commit {sha} is not in this clone: the pre-flight checks this checkout's migrations instead"
                );
                Shipped::Checkout
            }
            None => Shipped::Checkout,
        }
    }

    fn trigger_call(&self, ids: &Ids) -> Call {
        if let Some(commit) = &self.commit {
            return Call::Api(Op::DeployCommit {
                environment_id: ids.environment_id.clone(),
                service_id: ids.service_id.clone(),
                commit: commit.clone(),
            });
        }
        if self.up {
            return Call::Up {
                path: config_source::project_root(),
            };
        }
        Call::Redeploy {
            from_source: self.from_source,
        }
    }

    fn trigger(&self, sh: &Shell, pre: &PreFlight, call: &Call) -> anyhow::Result<Triggered> {
        let railway = &pre.railway;
        match call {
            Call::Api(Op::DeployCommit { commit, .. }) => Ok(Triggered {
                id: railway.deploy_commit(sh, &pre.ids, commit)?,
                commit: Some(commit.clone()),
            }),
            Call::Up { path } => {
                let commit = working_tree_commit(sh)?;
                let _stamp = BuildStamp::write(path, &commit)?;
                Ok(Triggered {
                    id: railway.up(sh, path)?,
                    commit: Some(commit),
                })
            }
            Call::Redeploy { from_source: true } => {
                let before: Vec<String> = railway
                    .deployments(sh, 10)?
                    .into_iter()
                    .map(|d| d.id)
                    .collect();
                railway.redeploy(sh, true)?;
                // `--from-source` prints no id: the new deployment is the one not there before.
                let id = railway.find_new(sh, &before, release::cadence(&self.wait))?;
                Ok(Triggered { id, commit: None })
            }
            _ => {
                // The image of the newest deployment is redeployed: so is its commit.
                let commit = pre.history.first().and_then(Deployment::commit);
                let id = railway.redeploy(sh, false)?.ok_or_else(|| {
                    Reported("deploy: `railway redeploy --json` printed no deployment id".into())
                })?;
                Ok(Triggered { id, commit })
            }
        }
    }

    fn dry_run(&self, sh: &Shell, pre: &PreFlight, trigger: &Call, say: Say) -> anyhow::Result<()> {
        let railway = &pre.railway;
        let commit = match trigger {
            Call::Up { .. } => Some(working_tree_commit(sh)?),
            Call::Api(Op::DeployCommit { commit, .. }) => Some(commit.clone()),
            Call::Redeploy { from_source: false } => {
                pre.history.first().and_then(Deployment::commit)
            }
            _ => None,
        };
        say.line("dry run: would run");
        say.line(&format!("  {}", railway.display(trigger)));
        say.line(&format!(
            "  {}   (every {:?}, until an outcome or {:?})",
            railway.display(&Call::Deployments { limit: 20 }),
            self.wait.poll_interval,
            self.wait.timeout
        ));
        let url = pre.health_url.as_deref();
        say.line(&format!(
            "  GET {}, then {} (expecting commit {})",
            url.unwrap_or("<no RAILWAY_PUBLIC_DOMAIN: pass --health-url>"),
            url.map(crate::release::health::build_url)
                .unwrap_or_default(),
            commit
                .as_deref()
                .unwrap_or("unknown until the platform says")
        ));
        if let (Some(url), FrontendOrigin::Origin(origin)) = (url, &pre.frontend_origin) {
            say.line(&format!(
                "  OPTIONS {}{} from {origin} (the CORS preflight a browser on FRONTEND_URL sends)",
                crate::release::health::origin_of(url),
                release::CORS_PATH
            ));
        }
        if self.json {
            let doc = json!({ "ok": true, "dry_run": true, "trigger": railway.display(trigger), "health_url": url, "commit": commit });
            println!("{doc}");
        }
        Ok(())
    }

    /// With --rollback-on-failure: an unhealthy or stale new deployment, or one that stops
    /// being active within --watch, is rolled back to the deployment that served before.
    #[allow(clippy::too_many_arguments)]
    fn after_cutover(
        &self,
        sh: &Shell,
        pre: &PreFlight,
        id: &str,
        verdict: Verdict,
        masker: &Masker,
        say: Say,
        started: Instant,
    ) -> anyhow::Result<Option<rollback::OnFailure>> {
        if !self.rollback_on_failure {
            return Ok(None);
        }
        let reason = match verdict {
            Verdict::Unhealthy => "was unhealthy".to_owned(),
            Verdict::StaleBuild => "did not serve its commit".to_owned(),
            Verdict::CorsRefused => "refused the frontend's CORS preflight".to_owned(),
            Verdict::Deployed => {
                say.line(&format!(
                    "watching {id} for {:?} (--rollback-on-failure)",
                    self.watch
                ));
                match pre.railway.watch_active(
                    sh,
                    id,
                    self.wait.poll_interval,
                    self.watch,
                    &mut |_| Ok(()),
                )? {
                    None => return Ok(None),
                    Some(d) => format!("became {} within {:?} of cutover", d.status, self.watch),
                }
            }
            // It never took traffic: what served before still does.
            _ => return Ok(None),
        };
        let Some(previous) = pre.serving() else {
            return Ok(Some(rollback::OnFailure::impossible(
                reason,
                "no deployment was serving before this one",
            )));
        };
        let target = pre
            .railway
            .history(sh, &pre.ids)?
            .into_iter()
            .find(|d| d.id == previous.id)
            .unwrap_or_else(|| previous.clone());
        say.line(&format!(
            "deployment {id} {reason}: rolling back to {} (--rollback-on-failure)",
            target.id
        ));
        if target.can_rollback != Some(true) {
            return Ok(Some(rollback::OnFailure::impossible(
                reason,
                &format!(
                    "Railway says {} cannot be rolled back to (canRollback: false)",
                    target.id
                ),
            )));
        }
        if let Some(why) = self.schema_refusal(sh, pre, &target, say) {
            return Ok(Some(rollback::OnFailure::impossible(reason, &why)));
        }
        let url = pre.health_url.as_deref();
        let run = rollback::execute(
            sh,
            &pre.railway,
            &target,
            &self.wait,
            masker,
            url,
            &pre.frontend_origin,
            say,
            started,
        )?;
        Ok(Some(rollback::OnFailure::ran(
            reason, target, run, &self.wait,
        )))
    }
}

impl flags::Deploy {
    /// A failed pre-flight's checklist: on stdout, or on stderr when stdout carries JSON.
    fn print_failed(&self, report: &intowork_config::Report) -> anyhow::Result<()> {
        if self.json {
            eprint!("{}", checklist::human(report, false));
            Ok(())
        } else {
            checklist::print(report, false)
        }
    }

    /// `--rollback-on-failure` promises a rollback: before anything is deployed, the one it
    /// would make — to the deployment serving now, across the migrations applied since its
    /// commit and those this deploy applies — must be possible and judged safe for the
    /// schema. A contract migration, or anything that cannot be judged (no commit, an
    /// unreadable database), fails the pre-flight unless --accept-schema.
    fn can_roll_back(
        &self,
        sh: &Shell,
        env: &crate::railway::Target,
        variables: &Variables,
        history: &[Deployment],
        shipped: &guard::preflight::Shipped,
        say: Say,
    ) -> anyhow::Result<()> {
        let Some(serving) = history.iter().find(|d| d.status.phase() == Phase::Active) else {
            say.line("--rollback-on-failure: no deployment serves yet, so there is nothing to roll back to");
            return Ok(());
        };
        let refused = |why: String| -> anyhow::Error {
            Reported(format!(
                "deploy: pre-flight failed: --rollback-on-failure could not roll back to {} if this deploy fails: {why}; nothing was deployed. Fix that first, rerun with --accept-schema after reading why, or deploy without --rollback-on-failure",
                serving.id
            ))
            .into()
        };
        if serving.can_rollback != Some(true) {
            return Err(refused(format!(
                "Railway says {} cannot be rolled back to (canRollback: false)",
                serving.id
            )));
        }
        let upcoming = guard::rollback::Upcoming::Shipped(shipped);
        let judgement = guard::rollback::judge(sh, serving, variables, env, upcoming);
        match judgement.refusal() {
            None => say.line(&format!(
                "--rollback-on-failure: a rollback to {} is possible; schema: {}",
                serving.id,
                guard::rollback::expand_note(&judgement, serving, true)
            )),
            Some(why) if self.accept_schema => {
                eprintln!(
                    "WARNING: --accept-schema: deploying with --rollback-on-failure although {why}"
                );
            }
            Some(why) => return Err(refused(why)),
        }
        Ok(())
    }

    /// Why rolling back to `target` would break on the schema (a contract migration applied
    /// since, or what cannot be known), unless --accept-schema.
    fn schema_refusal(
        &self,
        sh: &Shell,
        pre: &PreFlight,
        target: &Deployment,
        say: Say,
    ) -> Option<String> {
        let env = (&pre.variables, &pre.railway.target);
        let files = guard::rollback::Upcoming::Deployed(&pre.shipped);
        guard::rollback::check(sh, target, env, files, self.accept_schema, say)
            .err()
            .map(|refused| refused.to_string())
    }
}

/// `git rev-parse HEAD`, with `-dirty` when the working tree has uncommitted changes: what
/// `railway up` uploads.
fn working_tree_commit(sh: &Shell) -> anyhow::Result<String> {
    let head = cmd!(sh, "git rev-parse HEAD")
        .quiet()
        .read()
        .context("`deploy --up` names the commit it uploads: `git rev-parse HEAD` failed")?;
    let dirty = !cmd!(sh, "git status --porcelain --untracked-files=no")
        .quiet()
        .read()
        .context("`git status` failed")?
        .trim()
        .is_empty();
    Ok(if dirty { format!("{head}-dirty") } else { head })
}

/// `.build-commit` at the root of the uploaded tree, for the duration of `railway up`: the
/// upload has no `.git`, and the backend's build script reads the commit from it. Git
/// ignores it; `.railwayignore` lets `railway up` upload it.
struct BuildStamp(PathBuf);

impl BuildStamp {
    fn write(root: &std::path::Path, commit: &str) -> anyhow::Result<BuildStamp> {
        let path = root.join(".build-commit");
        std::fs::write(&path, format!("{commit}\n"))
            .with_context(|| format!("failed to write `{}`", path.display()))?;
        Ok(BuildStamp(path))
    }
}

impl Drop for BuildStamp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
