//! Jobs with `environment:`: the engine evaluates the name (and, after the
//! job, the URL) and asks the [`Backend`](super::Backend)'s
//! [`Environments`] whether the job may deploy. Protection rules,
//! deployment records and health checks live behind that trait (the
//! binary implements it on gantry-deliver and gantry-store), so the
//! engine knows nothing of them. A job without `environment:` never gets
//! here: the step path is unchanged.

use std::future::Future;
use std::pin::Pin;

use gantry_expr::Value;
use gantry_workflow::model::Environment;
use indexmap::IndexMap;
use tokio_util::sync::CancellationToken;

use super::Conclusion;
use super::expand::{expand, or_expr_bool};
use super::job::{JobSpec, LogSink, Shared};
use super::scope::Scope;

/// A boxed future, as the hooks return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A line for the job's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Say {
    Info(String),
    Warning(String),
    Error(String),
    /// The job waits (for a timer, reviewers): shown as waiting.
    Waiting(String),
}

/// Where hooks write the job's lines.
pub type Sayer<'a> = &'a (dyn Fn(Say) + Send + Sync);

/// A job about to start in an environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentEntry {
    pub run_id: u64,
    /// The job's id in the workflow.
    pub job_id: String,
    /// The job as shown (with its matrix values).
    pub job_key: String,
    pub workflow_path: String,
    /// The evaluated `environment.name`.
    pub environment: String,
    pub git_ref: Option<String>,
    pub sha: Option<String>,
    /// `environment.deployment`: `false` uses the environment's rules and
    /// secrets without recording a deployment.
    pub deployment: bool,
}

/// What a job that may go on gets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Admission {
    /// The deployment recorded for it, if one was.
    pub deployment: Option<u64>,
    /// The environment's secrets (masked like every secret) and variables,
    /// for this job only.
    pub secrets: IndexMap<String, String>,
    pub vars: IndexMap<String, String>,
}

/// How a job with an environment ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentExit {
    pub conclusion: Conclusion,
    /// The evaluated `environment.url`.
    pub url: Option<String>,
}

/// Environments' protection rules and deployments.
pub trait Environments: Send + Sync {
    /// Decides whether the job may run in its environment: the ref is
    /// checked, a wait timer and reviewers are waited for (until `cancel`),
    /// and a deployment may be recorded. `Err` is the reason the job
    /// fails.
    fn enter<'a>(
        &'a self,
        entry: &'a EnvironmentEntry,
        say: Sayer<'a>,
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<Admission, String>>;

    /// The job ended (its processes still run): records how, runs the
    /// environment's health check; gives the job's conclusion (a failed
    /// health check fails it).
    fn leave<'a>(
        &'a self,
        entry: &'a EnvironmentEntry,
        admission: &'a Admission,
        exit: EnvironmentExit,
        say: Sayer<'a>,
    ) -> BoxFuture<'a, Conclusion>;

    /// The `gantry/health-check` action: `Ok` with a summary when healthy.
    fn health_check<'a>(
        &'a self,
        inputs: &'a IndexMap<String, String>,
        say: Sayer<'a>,
    ) -> BoxFuture<'a, Result<String, String>>;
}

/// A job that entered its environment.
pub(crate) struct Entered {
    pub entry: EnvironmentEntry,
    pub admission: Admission,
    pub hooks: std::sync::Arc<dyn Environments>,
}

/// Writes hook lines to a job's log.
pub(crate) fn sayer(log: &std::sync::Mutex<&mut LogSink>, shared: &Shared, job: &str, say: Say) {
    let mut log = log
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match say {
        Say::Info(text) => log.info(&text),
        Say::Warning(text) => log.warning(&text),
        Say::Error(text) => log.error(&text),
        Say::Waiting(text) => {
            shared.emit(super::RunEvent::JobWaiting {
                job: job.to_string(),
                reason: shared.masker.mask(&text),
            });
            log.file_only(&text);
        }
    }
}

/// Evaluates the job's `environment:` and asks to enter it; `Err` when the
/// job must fail (the reason is in the log). `None` when the backend
/// keeps no environments.
pub(crate) async fn enter(
    shared: &std::sync::Arc<Shared>,
    spec: &mut JobSpec,
    env: &Environment,
    log: &mut LogSink,
) -> Result<Option<Entered>, ()> {
    let name = match expand(&env.name.value, &spec.scope) {
        Ok(name) if !name.trim().is_empty() => name,
        Ok(_) => {
            log.error("the job's `environment` name is empty");
            return Err(());
        }
        Err(e) => {
            log.error(&format!("environment: {e}"));
            return Err(());
        }
    };
    let Some(hooks) = shared.backend.environments() else {
        return Ok(None);
    };
    let deployment =
        env.deployment.is_none() || or_expr_bool(&env.deployment, &spec.scope).unwrap_or(true);
    let entry = EnvironmentEntry {
        run_id: shared.run_id,
        job_id: spec.job.id.value.clone(),
        job_key: spec.key.clone(),
        workflow_path: spec.workflow.source.name().to_string(),
        environment: name,
        git_ref: shared.options.event.git_ref.clone(),
        sha: shared.options.sha.clone(),
        deployment,
    };
    let admission = {
        let key = spec.key.clone();
        let lock = std::sync::Mutex::new(&mut *log);
        let say = |s: Say| sayer(&lock, shared, &key, s);
        hooks.enter(&entry, &say, spec.cancel.clone()).await
    };
    match admission {
        Err(reason) => {
            log.error(&reason);
            Err(())
        }
        Ok(admission) => {
            for value in admission.secrets.values() {
                shared.masker.add(value);
            }
            merge(&mut spec.scope, "secrets", &admission.secrets);
            merge(&mut spec.scope, "vars", &admission.vars);
            Ok(Some(Entered {
                entry,
                admission,
                hooks,
            }))
        }
    }
}

/// Adds `values` to the `context` object of `scope` (theirs win).
fn merge(scope: &mut Scope, context: &str, values: &IndexMap<String, String>) {
    if values.is_empty() {
        return;
    }
    let mut object = match scope.values.get(context) {
        Some(Value::Object(o)) => o.clone(),
        _ => gantry_expr::Object::new(),
    };
    for (k, v) in values {
        object.insert(k.clone(), Value::String(v.clone()));
    }
    scope.set(context, Value::Object(object));
}
