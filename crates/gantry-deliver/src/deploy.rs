//! A job deploying to an environment, from its start to its end:
//!
//! 1. the ref is checked against `deployment_branches` (refused: the job
//!    fails with the rule) and the environment's window gates are asked;
//! 2. its secrets are read (by reference) and a deployment is recorded,
//!    `queued`;
//! 3. the wait timer runs out, then reviewers' approvals are waited for:
//!    the store is polled (every 200 ms at first, then every 2 s at
//!    most) until enough count, the approval timeout passes (the
//!    deployment becomes `error`) or the run is cancelled;
//! 4. `in_progress` while the steps run; then the job's end decides,
//!    with the environment's health check after a successful job:
//!    `success` (the previous success becomes `inactive`) or `failure`;
//!    a failed health check with `auto_rollback` asks for a rollback.
//!
//! Every change is a [`DeploymentEvent`] given to [`Deployer::publish`],
//! which appends it to the ledger and hands it to the events hook.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gantry_ledger::Ledger;
use gantry_promote::config::Check;
use gantry_promote::outcome::GateResult;
use gantry_store::{
    Deployment, DeploymentId, DeploymentState, NewDeployment, RunId, Store, Timestamp,
};
use indexmap::IndexMap;

use crate::approvals;
use crate::environments::{Environment, Environments};
use crate::events::{DeploymentEvent, DeploymentEvents};
use crate::evidence;
use crate::health::{self, HealthCheck, HealthReport};

/// GitHub's limit on how long a job waits for reviewers: 30 days.
pub const DEFAULT_APPROVAL_TIMEOUT: Duration = Duration::from_secs(30 * 24 * 3600);

/// The first and the longest pause between two looks for approvals.
const FIRST_POLL: Duration = Duration::from_millis(200);
const MAX_POLL: Duration = Duration::from_secs(2);

/// A line for the job's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Info(String),
    Warning(String),
    /// The job waits: shown as waiting.
    Waiting(String),
}

/// A job that asks to deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployRequest {
    pub run: RunId,
    pub job_id: String,
    pub job_name: String,
    pub workflow_path: String,
    pub environment: String,
    pub git_ref: Option<String>,
    pub commit: Option<String>,
    /// `environment.deployment` (default true): record a deployment.
    pub record: bool,
}

/// A job allowed to deploy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Admitted {
    pub deployment: Option<DeploymentId>,
    pub secrets: IndexMap<String, String>,
    pub vars: IndexMap<String, String>,
}

/// A rollback the run asks for: deploy `to` again in place of `from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackWanted {
    pub environment: String,
    pub from: DeploymentId,
    /// `None` when no earlier deployment succeeded.
    pub to: Option<DeploymentId>,
}

/// The run being a rollback: its deployments say what they roll back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackOf {
    pub target: DeploymentId,
    pub from: Option<DeploymentId>,
}

/// Why a wait ended without the job going on.
enum WaitEnd {
    /// A reviewer rejected it: the deployment fails.
    Rejected(String),
    /// Cancelled, timed out, or the store failed: the deployment errs.
    Error(String),
}

/// When a commit was made, or `None` when that cannot be said: what the
/// caller knows how to ask (the binary asks git, through the engine).
pub type CommitTimes = Arc<dyn Fn(&str) -> Option<Timestamp> + Send + Sync>;

/// Deploys jobs of one `gantry run` to the repository's environments.
pub struct Deployer {
    pub root: PathBuf,
    pub environments: Environments,
    pub store: Arc<Store>,
    /// Where the evidence ledger is (opened, or made, on the first event).
    pub ledger_dir: Option<PathBuf>,
    ledger: Mutex<Option<Ledger>>,
    /// Who starts the deployments (`$GANTRY_ACTOR`, else `$USER`).
    pub creator: String,
    pub approval_timeout: Duration,
    pub events: Arc<dyn DeploymentEvents>,
    /// Set when the run is a rollback.
    pub rollback_of: Option<RollbackOf>,
    /// Each deployment records its commit's time from here (DORA's
    /// change lead time starts there); `None` records none.
    pub commit_times: Option<CommitTimes>,
    client: Mutex<Option<reqwest::Client>>,
    rollbacks: Mutex<Vec<RollbackWanted>>,
    /// Problems recording evidence, told once the run is over.
    evidence_failures: Mutex<Vec<String>>,
}

impl std::fmt::Debug for Deployer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployer")
            .field("root", &self.root)
            .field("creator", &self.creator)
            .finish_non_exhaustive()
    }
}

impl Deployer {
    pub fn new(
        root: PathBuf,
        environments: Environments,
        store: Arc<Store>,
        ledger_dir: Option<PathBuf>,
        creator: String,
    ) -> Deployer {
        Deployer {
            root,
            environments,
            store,
            ledger_dir,
            ledger: Mutex::new(None),
            creator,
            approval_timeout: DEFAULT_APPROVAL_TIMEOUT,
            events: Arc::new(crate::events::NoEvents),
            rollback_of: None,
            commit_times: None,
            client: Mutex::new(None),
            rollbacks: Mutex::new(Vec::new()),
            evidence_failures: Mutex::new(Vec::new()),
        }
    }

    /// The rollbacks failed health checks asked for, once each.
    pub fn take_rollbacks(&self) -> Vec<RollbackWanted> {
        std::mem::take(&mut *lock(&self.rollbacks))
    }

    /// What could not be appended to the ledger.
    pub fn take_evidence_failures(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.evidence_failures))
    }

    /// Records `event` as evidence and tells the events hook: the one
    /// place deployment events go out.
    pub fn publish(&self, event: DeploymentEvent) {
        if let Some(dir) = &self.ledger_dir {
            let mut slot = lock(&self.ledger);
            let appended = match slot.as_ref() {
                Some(ledger) => Ok(ledger),
                None => Ledger::create_or_open(dir).map(|l| &*slot.insert(l)),
            }
            .and_then(|ledger| {
                let service = self
                    .environments
                    .find(&event.deployment().environment)
                    .and_then(|e| e.service.as_deref());
                evidence::append_event(ledger, &event, jiff::Timestamp::now().to_string(), service)
            });
            if let Err(e) = appended {
                lock(&self.evidence_failures).push(format!(
                    "deployment {} ({}): {e}",
                    event.deployment().id,
                    event.name()
                ));
            }
        }
        self.events.deployment_event(&event);
    }

    fn client(&self) -> Result<reqwest::Client, String> {
        let mut slot = lock(&self.client);
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let c = health::client().map_err(|e| format!("failed to start an HTTP client: {e}"))?;
        *slot = Some(c.clone());
        Ok(c)
    }

    /// Steps 1 to 3: may the job deploy? `Err` is why not (the job fails).
    pub async fn enter(
        &self,
        request: &DeployRequest,
        say: &(dyn Fn(Notice) + Send + Sync),
        cancelled: &(dyn Fn() -> bool + Send + Sync),
    ) -> Result<Admitted, String> {
        let env = self.environments.get(&request.environment);
        env.deployment_branches
            .check(
                &env.name,
                request.git_ref.as_deref(),
                env.branches_location.as_ref(),
            )
            .map_err(|refused| refused.to_string())?;
        check_gates(&env)?;
        let secrets = env.secret_values(&self.root).map_err(|e| e.to_string())?;
        let mut admitted = Admitted {
            deployment: None,
            secrets,
            vars: env.vars.clone(),
        };
        if request.record {
            let deployment = self.create(request, &env)?;
            admitted.deployment = Some(deployment.id);
        }
        if let Err(end) = self.wait(request, &env, say, cancelled).await {
            let (state, why) = match end {
                WaitEnd::Rejected(why) => (DeploymentState::Failure, why),
                WaitEnd::Error(why) => (DeploymentState::Error, why),
            };
            if let Some(id) = admitted.deployment {
                self.set_state(&env, id, state, Some(&why), None, None);
            }
            return Err(why);
        }
        if let Some(id) = admitted.deployment {
            self.set_state(&env, id, DeploymentState::InProgress, None, None, None);
        }
        Ok(admitted)
    }

    fn create(&self, request: &DeployRequest, env: &Environment) -> Result<Deployment, String> {
        let description = self
            .rollback_of
            .as_ref()
            .map(|r| format!("rollback to deployment {}", r.target));
        let deployment = self
            .store
            .create_deployment(&NewDeployment {
                environment: env.name.clone(),
                git_ref: request.git_ref.clone(),
                commit: request.commit.clone(),
                commit_time: request
                    .commit
                    .as_deref()
                    .zip(self.commit_times.as_ref())
                    .and_then(|(commit, times)| times(commit)),
                run: Some(request.run),
                job_id: request.job_id.clone(),
                job_name: request.job_name.clone(),
                workflow_path: request.workflow_path.clone(),
                creator: self.creator.clone(),
                description,
                rollback_of: self.rollback_of.as_ref().map(|r| r.target),
            })
            .map_err(|e| format!("failed to record the deployment: {e}"))?;
        self.publish(DeploymentEvent::Created {
            deployment: deployment.clone(),
            notifications: env.notifications.clone(),
        });
        Ok(deployment)
    }

    /// Gives a deployment a new state and publishes it; a failure to
    /// record is a warning for the evidence, not the job's end.
    fn set_state(
        &self,
        env: &Environment,
        id: DeploymentId,
        state: DeploymentState,
        description: Option<&str>,
        url: Option<&str>,
        health: Option<HealthReport>,
    ) -> Option<Deployment> {
        let previous = self
            .store
            .deployment(id)
            .ok()
            .flatten()
            .map_or(DeploymentState::Queued, |d| d.state);
        match self.store.set_deployment_state(id, state, description, url) {
            Ok(change) => {
                self.publish(DeploymentEvent::StatusChanged {
                    deployment: change.deployment.clone(),
                    previous,
                    health,
                    deactivated: change.deactivated,
                    notifications: env.notifications.clone(),
                });
                Some(change.deployment)
            }
            Err(e) => {
                lock(&self.evidence_failures)
                    .push(format!("deployment {id}: failed to record `{state}`: {e}"));
                None
            }
        }
    }

    async fn wait(
        &self,
        request: &DeployRequest,
        env: &Environment,
        say: &(dyn Fn(Notice) + Send + Sync),
        cancelled: &(dyn Fn() -> bool + Send + Sync),
    ) -> Result<(), WaitEnd> {
        if !env.wait_timer.is_zero() {
            say(Notice::Waiting(format!(
                "waiting {} (wait_timer of environment `{}`)",
                minutes(env.wait_timer),
                env.name
            )));
            let end = Instant::now() + env.wait_timer;
            while Instant::now() < end {
                if cancelled() {
                    return Err(WaitEnd::Error(format!(
                        "cancelled during the wait timer of environment `{}`",
                        env.name
                    )));
                }
                let left = end.saturating_duration_since(Instant::now());
                tokio::time::sleep(left.min(MAX_POLL)).await;
            }
        }
        if env.approvals_required == 0 {
            return Ok(());
        }
        let needed = env.approvals_required;
        let names: Vec<&str> = env.reviewers.keys().map(String::as_str).collect();
        say(Notice::Waiting(format!(
            "waiting for {needed} approval{} of environment `{}` (reviewers: {}); approve from another terminal with:",
            if needed == 1 { "" } else { "s" },
            env.name,
            names.join(", ")
        )));
        for name in &names {
            say(Notice::Info(format!(
                "  gantry approve --run {} --environment {} --as {name} --key KEY",
                request.run, env.name
            )));
        }
        let started = Instant::now();
        let mut pause = FIRST_POLL;
        let mut told: Vec<String> = Vec::new();
        loop {
            let found = self
                .store
                .environment_approvals(request.run, &env.name)
                .map_err(|e| WaitEnd::Error(format!("failed to read approvals: {e}")))?;
            let reviews = approvals::counted(env, request.run, &self.creator, &found);
            if let Some((who, comment)) = reviews.rejected.first() {
                return Err(WaitEnd::Rejected(format!(
                    "{who} rejected the deployment to environment `{}`{}",
                    env.name,
                    comment
                        .as_ref()
                        .map(|c| format!(": {c}"))
                        .unwrap_or_default()
                )));
            }
            let counted = reviews.approved;
            for why in reviews.ignored {
                if !told.contains(&why) {
                    say(Notice::Warning(format!(
                        "an approval does not count: {why}"
                    )));
                    told.push(why);
                }
            }
            if counted.len() >= needed {
                say(Notice::Info(format!(
                    "approved for environment `{}` by {}",
                    env.name,
                    counted.join(", ")
                )));
                return Ok(());
            }
            if cancelled() {
                return Err(WaitEnd::Error(format!(
                    "cancelled while waiting for approval of environment `{}`",
                    env.name
                )));
            }
            if started.elapsed() >= self.approval_timeout {
                return Err(WaitEnd::Error(format!(
                    "no approval for environment `{}` within {} ({} of {needed} counted; --approval-timeout)",
                    env.name,
                    minutes(self.approval_timeout),
                    counted.len()
                )));
            }
            let left = self.approval_timeout.saturating_sub(started.elapsed());
            tokio::time::sleep(pause.min(left)).await;
            pause = (pause * 2).min(MAX_POLL);
        }
    }

    /// Step 4: the job ended as `succeeded` says, with `url`; gives
    /// whether the deployment is good (a failed health check is not).
    pub async fn leave(
        &self,
        request: &DeployRequest,
        admitted: &Admitted,
        succeeded: Option<bool>,
        url: Option<&str>,
        say: &(dyn Fn(Notice) + Send + Sync),
    ) -> bool {
        let env = self.environments.get(&request.environment);
        let mut health_report = None;
        let state = match succeeded {
            None => DeploymentState::Error,
            Some(false) => DeploymentState::Failure,
            Some(true) => match &env.health_check {
                None => DeploymentState::Success,
                Some(check) => {
                    let report = self.check(check, say).await;
                    let ok = report.as_ref().is_ok_and(|r| r.healthy);
                    health_report = report.ok();
                    if ok {
                        DeploymentState::Success
                    } else {
                        DeploymentState::Failure
                    }
                }
            },
        };
        let description = match (&health_report, state) {
            (Some(r), _) => Some(r.summary()),
            (None, DeploymentState::Failure) => Some("the job failed".to_string()),
            (None, DeploymentState::Error) => Some("the job was cancelled".to_string()),
            _ => None,
        };
        let unhealthy = health_report.as_ref().is_some_and(|r| !r.healthy);
        if let Some(id) = admitted.deployment {
            let done = self.set_state(&env, id, state, description.as_deref(), url, health_report);
            if state == DeploymentState::Success
                && let (Some(rollback), Some(deployment)) = (&self.rollback_of, done)
            {
                self.publish(DeploymentEvent::RolledBack {
                    deployment,
                    from: rollback.from,
                    to: rollback.target,
                    notifications: env.notifications.clone(),
                });
            }
            if unhealthy && env.auto_rollback && self.rollback_of.is_none() {
                let to = self.last_success(&env.name, id);
                match to {
                    Some(to) => say(Notice::Warning(format!(
                        "auto_rollback: environment `{}` goes back to deployment {to}",
                        env.name
                    ))),
                    None => say(Notice::Warning(format!(
                        "auto_rollback: environment `{}` has no earlier successful deployment to go back to",
                        env.name
                    ))),
                }
                lock(&self.rollbacks).push(RollbackWanted {
                    environment: env.name.clone(),
                    from: id,
                    to,
                });
            }
        }
        state == DeploymentState::Success
            || (admitted.deployment.is_none() && succeeded == Some(true) && !unhealthy)
    }

    fn last_success(&self, environment: &str, except: DeploymentId) -> Option<DeploymentId> {
        self.store
            .deployments(Some(environment), 1000)
            .ok()?
            .into_iter()
            .find(|d| d.id != except && d.state == DeploymentState::Success)
            .map(|d| d.id)
    }

    async fn check(
        &self,
        check: &HealthCheck,
        say: &(dyn Fn(Notice) + Send + Sync),
    ) -> Result<HealthReport, String> {
        say(Notice::Info(format!(
            "health check: GET {} (expect {}, {} retries, deadline {})",
            check.url,
            check.expected_status,
            check.retries,
            minutes(check.deadline)
        )));
        let client = match self.client() {
            Ok(c) => c,
            Err(e) => {
                say(Notice::Warning(e.clone()));
                return Err(e);
            }
        };
        let report = health::run(check, &client).await;
        for a in &report.attempts {
            if let Some(error) = &a.error {
                say(Notice::Info(format!(
                    "  attempt {}: {error} ({} ms)",
                    a.number, a.latency_ms
                )));
            }
        }
        if report.healthy {
            say(Notice::Info(report.summary()));
        } else {
            say(Notice::Warning(report.summary()));
        }
        Ok(report)
    }

    /// The `gantry/health-check` action.
    pub async fn health_check_action(
        &self,
        input: &(dyn Fn(&str) -> Option<String> + Sync),
        say: &(dyn Fn(Notice) + Send + Sync),
    ) -> Result<String, String> {
        let check = HealthCheck::from_inputs(input).map_err(|e| e.to_string())?;
        let report = self.check(&check, say).await?;
        if report.healthy {
            Ok(report.summary())
        } else {
            Err(report.summary())
        }
    }
}

/// The environment's gates, decided now.
fn check_gates(env: &Environment) -> Result<(), String> {
    for gate in env.gates.values() {
        if let Check::Window(window) = &gate.check {
            let outcome = window.check(jiff::Timestamp::now());
            if outcome.result != GateResult::Pass {
                return Err(format!(
                    "gate `{}` of environment `{}` does not allow a deployment now: {}",
                    gate.name, env.name, outcome.reason
                ));
            }
        }
    }
    Ok(())
}

/// `5 minutes`, `30 s`, `2 h`.
fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    if s < 120 {
        format!("{} s", d.as_secs_f64())
    } else if s < 2 * 3600 {
        format!("{} minutes", s / 60)
    } else {
        format!("{} h", s / 3600)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
