//! The scheduler: drives the [`Dispatcher`] with tokio. It decides each
//! ready job (`if:` over its `needs`, the matrix, the strategy), starts the
//! instances the dispatcher allows on the runner slots (`--jobs`), and
//! hands their results back. Reusable workflows run their jobs as nested
//! schedules under the calling job ([`call`](super::call)).

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use gantry_expr::{Object, Value};
use gantry_workflow::matrix;
use gantry_workflow::model::{InputType, Job, JobKind, Workflow};
use gantry_workflow::yaml::NodeKind;
use indexmap::IndexMap;
use tokio::sync::{Semaphore, mpsc::UnboundedSender};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::dispatch::{Dispatcher, JobIndex, Next, Strategy, aggregate};
use super::expand::{ExprError, condition, expand_value, or_expr_bool};
use super::job::{JobResult, JobSpec, Shared, run_job};
use super::scope::{Scope, Status, strings};
use super::{Backend, Conclusion, Masker, RunError, RunEvent, RunOptions, RunRecord, Stop};
use crate::github::{RunPlace, run_context};

/// A finished job (all its matrix instances), as `needs` sees it.
#[derive(Debug, Clone)]
pub(crate) struct Done {
    pub result: Conclusion,
    pub outputs: IndexMap<String, String>,
}

impl Done {
    fn without_outputs(result: Conclusion) -> Self {
        Done {
            result,
            outputs: IndexMap::new(),
        }
    }
}

pub(crate) async fn run_workflow(
    workflow: Arc<Workflow>,
    options: Arc<RunOptions>,
    backend: Arc<dyn Backend>,
    masker: Masker,
    events: UnboundedSender<RunEvent>,
    stop: Stop,
) -> Result<(u64, Conclusion), RunError> {
    let parallel = super::limits::jobs(options.parallel)?;
    let started = Instant::now();
    for value in options.secrets.values() {
        masker.add(value);
    }
    if let Some(store) = &options.actions
        && !options.skip_unsupported
    {
        let missing = crate::marketplace::missing([workflow.as_ref()], &options.repo, store);
        if !missing.is_empty() {
            return Err(RunError::MissingActions { missing });
        }
    }
    let (run_id, event_path) = begin_run(&workflow, &options, backend.as_ref())?;
    let event = &options.event;
    let place = RunPlace {
        repo: &options.repo,
        run_id,
        event_path: &event_path,
    };
    let github = run_context(&workflow, event, options.sha.as_deref(), place);
    let _ = events.send(RunEvent::RunStarted {
        version: super::EVENTS_VERSION,
        run_id,
        workflow: workflow.display_name().to_string(),
        event: event.name.clone(),
        git_ref: event.git_ref.clone(),
        sha: options.sha.clone(),
    });
    let shared = Arc::new(Shared {
        options: options.clone(),
        backend: backend.clone(),
        masker,
        events,
        run_id,
        force: stop.force.clone(),
        runners: super::runners::Runners::new(&options.work_dir),
        tracking: super::reaper::RunTracking::new(run_id),
    });
    let mut scope = Scope::default();
    scope.set("github", github);
    scope.set(
        "inputs",
        typed_inputs(&workflow, &event.inputs, &event.name),
    );
    scope.set("secrets", strings(options.secrets.iter()));
    scope.set("vars", strings(options.vars.iter()));
    let cancel = stop.graceful.clone();
    let results = run_jobs(Level {
        shared: shared.clone(),
        slots: Arc::new(Semaphore::new(parallel)),
        workflow,
        scope,
        cancel: cancel.clone(),
        prefix: String::new(),
        depth: 0,
    })
    .await;
    let conclusion = aggregate(results.values().map(|d| d.result), cancel.is_cancelled());
    end_run(&shared, conclusion, &event_path);
    shared.emit(RunEvent::RunFinished {
        run_id,
        conclusion,
        duration_ms: started.elapsed().as_millis() as u64,
    });
    Ok((run_id, conclusion))
}

/// Records the run and writes its event payload; returns the run's id and
/// the payload's file.
fn begin_run(
    workflow: &Workflow,
    options: &RunOptions,
    backend: &dyn Backend,
) -> Result<(u64, PathBuf), RunError> {
    let event = &options.event;
    let inputs_json = serde_json::to_string(&event.inputs).unwrap_or_default();
    let run_id = backend
        .begin_run(&RunRecord {
            workflow_path: workflow.source.name().to_string(),
            workflow_name: workflow.display_name().to_string(),
            event: event.name.clone(),
            git_ref: event.git_ref.clone(),
            commit: options.sha.clone(),
            inputs_json,
        })
        .map_err(RunError::Record)?;
    let work_dir = &options.work_dir;
    super::reaper::become_subreaper();
    if let Some(root) = work_dir.parent() {
        super::reaper::sweep_scripts(root);
    }
    std::fs::create_dir_all(work_dir).map_err(|source| RunError::WorkDir {
        path: work_dir.clone(),
        source,
    })?;
    let event_path = work_dir.join(format!("event-{run_id}.json"));
    std::fs::write(
        &event_path,
        serde_json::to_vec_pretty(&event.payload).unwrap_or_default(),
    )
    .map_err(|source| RunError::EventFile {
        path: event_path.clone(),
        source,
    })?;
    Ok((run_id, event_path))
}

/// Records the run's end and removes its folders.
fn end_run(shared: &Shared, conclusion: Conclusion, event_path: &Path) {
    // The run itself is over; only its record may be incomplete.
    shared.recorded(shared.backend.finish_run(shared.run_id, conclusion));
    shared.tracking.end();
    shared.runners.remove_all();
    if !shared.options.keep_workspaces {
        let _ = std::fs::remove_file(event_path);
        // Empty by now unless something outlived its job.
        let _ = std::fs::remove_dir(&shared.options.work_dir);
    }
}

/// `inputs`, typed by the workflow's declarations (`workflow_dispatch`
/// booleans and numbers keep their type), defaults filled in.
fn typed_inputs(workflow: &Workflow, given: &IndexMap<String, String>, event: &str) -> Value {
    let mut out = Object::new();
    if let Some(trigger) = workflow.on.get(event) {
        for (name, def) in &trigger.inputs {
            let value = match given.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
                Some((_, v)) => match def.kind {
                    InputType::Boolean => Value::Bool(v == "true"),
                    InputType::Number => v
                        .parse()
                        .map_or_else(|_| Value::String(v.clone()), Value::Number),
                    _ => Value::String(v.clone()),
                },
                None => def
                    .default
                    .as_ref()
                    .map_or(Value::Null, matrix::node_to_value),
            };
            out.insert(name.clone(), value);
        }
    }
    for (k, v) in given {
        if !out.keys().any(|o| o.eq_ignore_ascii_case(k)) {
            out.insert(k.clone(), Value::String(v.clone()));
        }
    }
    Value::Object(out)
}

/// One workflow's jobs to run: the run, the runner slots they share with
/// nested workflows, and what the jobs' expressions see.
pub(crate) struct Level {
    pub shared: Arc<Shared>,
    pub slots: Arc<Semaphore>,
    pub workflow: Arc<Workflow>,
    /// `github`, `inputs`, `secrets`, `vars`.
    pub scope: Scope,
    pub cancel: CancellationToken,
    /// Put before job names: `caller / ` for a called workflow's jobs.
    pub prefix: String,
    /// How many reusable-workflow calls deep these jobs are.
    pub depth: usize,
}

/// A job whose instances run.
struct Running {
    /// Cancels the job's instances (`fail-fast`).
    cancel: CancellationToken,
    outputs: IndexMap<String, String>,
    /// Each instance, until it starts.
    instances: Vec<Option<Instance>>,
}

/// A job instance, ready to start.
struct Instance {
    /// The name shown: `test (unit, 3.11)`.
    key: String,
    scope: Scope,
    matrix_json: Option<String>,
}

/// The state of one workflow's jobs while they run.
struct Jobs {
    level: Level,
    ids: Vec<String>,
    dispatcher: Dispatcher,
    done: IndexMap<String, Done>,
    running: HashMap<JobIndex, Running>,
    tasks: JoinSet<(JobIndex, JobResult)>,
    /// Which job each task runs, to account for a task that panicked.
    task_jobs: HashMap<tokio::task::Id, JobIndex>,
}

/// Runs the jobs of one workflow; returns each job's result by id.
pub(crate) fn run_jobs(
    level: Level,
) -> Pin<Box<dyn Future<Output = IndexMap<String, Done>> + Send>> {
    Box::pin(async move {
        let mut jobs = Jobs::new(level);
        loop {
            jobs.start_what_can();
            let Some(joined) = jobs.tasks.join_next_with_id().await else {
                break;
            };
            let (job, result) = match joined {
                Ok((id, finished)) => {
                    jobs.task_jobs.remove(&id);
                    finished
                }
                Err(e) => {
                    // A job's task panicked: count that instance as failed.
                    let Some(job) = jobs.task_jobs.remove(&e.id()) else {
                        continue;
                    };
                    jobs.level.shared.emit(RunEvent::JobSkipped {
                        job: jobs.ids[job].clone(),
                        reason: format!("internal error: {e}"),
                    });
                    (job, JobResult::without_outputs(Conclusion::Failure))
                }
            };
            jobs.instance_finished(job, result);
        }
        jobs.into_done()
    })
}

impl Jobs {
    fn new(level: Level) -> Self {
        let ids: Vec<String> = level.workflow.jobs.keys().cloned().collect();
        let needs = level
            .workflow
            .jobs
            .values()
            .map(|job| {
                job.needs
                    .iter()
                    .filter_map(|n| ids.iter().position(|k| k.eq_ignore_ascii_case(&n.value)))
                    .collect()
            })
            .collect();
        // Needed jobs left out of the run (`--no-deps`) count as done, as
        // an earlier run left them.
        let done = level
            .shared
            .options
            .selection
            .given_needs
            .iter()
            .map(|(id, given)| {
                (
                    id.clone(),
                    Done {
                        result: given.result,
                        outputs: given.outputs.clone(),
                    },
                )
            })
            .collect();
        Jobs {
            level,
            ids,
            dispatcher: Dispatcher::new(needs),
            done,
            running: HashMap::new(),
            tasks: JoinSet::new(),
            task_jobs: HashMap::new(),
        }
    }

    /// Decides every ready job and starts every instance the dispatcher
    /// allows, until nothing more can start before an instance ends.
    fn start_what_can(&mut self) {
        loop {
            let ready = self.dispatcher.ready();
            for &job in &ready {
                self.decide(job);
            }
            let next = self.dispatcher.next(self.level.cancel.is_cancelled());
            if ready.is_empty() && next.is_empty() {
                return;
            }
            for n in next {
                match n {
                    Next::Start { job, instance } => self.spawn(job, instance),
                    Next::Cancel { job, instance } => self.cancel_unstarted(job, instance),
                }
            }
        }
    }

    /// Whether a ready job runs and as which instances.
    fn decide(&mut self, index: JobIndex) {
        let level = &self.level;
        let Some(job) = level.workflow.jobs.get(&self.ids[index]) else {
            return self.conclude(index, Conclusion::Skipped);
        };
        let key = format!(
            "{}{}",
            level.prefix,
            job.name
                .as_ref()
                .map_or(job.id.value.as_str(), |n| n.value.as_str())
        );
        let mut scope = level.scope.clone();
        scope.set("needs", needs_context(job, &self.done));
        match job_runs(job, &mut scope, &self.done, level.cancel.is_cancelled()) {
            Ok(true) => {}
            Ok(false) => {
                record_skip(&level.shared, &key, job, "its `if:` is false");
                return self.conclude(index, Conclusion::Skipped);
            }
            Err(e) => return self.fail(index, &key, format!("its `if:` failed: {e}")),
        }
        let combinations = match expand_matrix(job, &scope) {
            Ok(c) => c,
            Err(e) => return self.fail(index, &key, format!("its matrix failed: {e}")),
        };
        let selection = &self.level.shared.options.selection;
        let combinations = if selection.matrix.is_empty() || combinations.is_empty() {
            combinations
        } else {
            let keys: indexmap::IndexSet<String> = combinations
                .iter()
                .flat_map(|c| c.values.keys().cloned())
                .collect();
            let kept: Vec<_> = combinations
                .into_iter()
                .filter(|c| selection.keeps(&c.values, &keys))
                .collect();
            if kept.is_empty() {
                record_skip(
                    &self.level.shared,
                    &key,
                    job,
                    "no combination of its matrix matches --matrix",
                );
                return self.conclude(index, Conclusion::Skipped);
            }
            kept
        };
        let (strategy, instances) = match instances(job, &key, combinations, &scope) {
            Ok(i) => i,
            Err(e) => return self.fail(index, &key, format!("its strategy failed: {e}")),
        };
        self.dispatcher.expand(index, strategy);
        self.running.insert(
            index,
            Running {
                cancel: self.level.cancel.child_token(),
                outputs: IndexMap::new(),
                instances: instances.into_iter().map(Some).collect(),
            },
        );
    }

    /// A ready job ends without running.
    fn conclude(&mut self, index: JobIndex, result: Conclusion) {
        self.dispatcher.conclude(index);
        self.done
            .insert(self.ids[index].clone(), Done::without_outputs(result));
    }

    /// A ready job fails before it runs, saying why.
    fn fail(&mut self, index: JobIndex, key: &str, reason: String) {
        self.level.shared.emit(RunEvent::JobSkipped {
            job: key.to_string(),
            reason,
        });
        self.conclude(index, Conclusion::Failure);
    }

    /// An instance `fail-fast` cancelled before it started.
    fn cancel_unstarted(&mut self, index: JobIndex, instance: usize) {
        let key = self
            .running
            .get_mut(&index)
            .and_then(|r| r.instances.get_mut(instance))
            .and_then(Option::take)
            .map(|i| i.key);
        if let Some(key) = key {
            self.level.shared.emit(RunEvent::JobSkipped {
                job: key,
                reason: "cancelled by fail-fast".into(),
            });
        }
        self.instance_finished(index, JobResult::without_outputs(Conclusion::Cancelled));
    }

    /// Starts an instance as a task.
    fn spawn(&mut self, index: JobIndex, instance: usize) {
        let Some(running) = self.running.get_mut(&index) else {
            return;
        };
        let Some(instance) = running.instances.get_mut(instance).and_then(Option::take) else {
            return;
        };
        let Some(job) = self.level.workflow.jobs.get(&self.ids[index]) else {
            return;
        };
        let task = Task {
            shared: self.level.shared.clone(),
            slots: self.level.slots.clone(),
            workflow: self.level.workflow.clone(),
            job: job.clone(),
            cancel: running.cancel.child_token(),
            run_cancel: self.level.cancel.clone(),
            depth: self.level.depth,
        };
        let handle = self
            .tasks
            .spawn(async move { (index, task.run(instance).await) });
        self.task_jobs.insert(handle.id(), index);
    }

    /// Takes an instance's result; cancels its siblings on `fail-fast`.
    fn instance_finished(&mut self, index: JobIndex, result: JobResult) {
        let Some(running) = self.running.get_mut(&index) else {
            return;
        };
        running.outputs.extend(result.outputs);
        let finish = self.dispatcher.finished(index, result.conclusion);
        if finish.cancel_running {
            running.cancel.cancel();
        }
        if let Some(result) = finish.done
            && let Some(running) = self.running.remove(&index)
        {
            self.done.insert(
                self.ids[index].clone(),
                Done {
                    result,
                    outputs: running.outputs,
                },
            );
        }
    }

    fn into_done(mut self) -> IndexMap<String, Done> {
        // Jobs that never became ready (their needs were never met).
        for job in self.dispatcher.never_ready() {
            self.done.insert(
                self.ids[job].clone(),
                Done::without_outputs(Conclusion::Skipped),
            );
        }
        self.done
    }
}

/// What a started instance's task needs.
struct Task {
    shared: Arc<Shared>,
    slots: Arc<Semaphore>,
    workflow: Arc<Workflow>,
    job: Job,
    cancel: CancellationToken,
    run_cancel: CancellationToken,
    depth: usize,
}

impl Task {
    /// Waits for a runner slot, then runs the instance.
    async fn run(self, instance: Instance) -> JobResult {
        let ready = std::time::Instant::now();
        // A reusable workflow's jobs take their own slots.
        let slot = if matches!(self.job.kind, JobKind::Call(_)) {
            None
        } else {
            self.slots.clone().acquire_owned().await.ok()
        };
        // fail-fast cancelled this instance while it waited for a slot.
        if self.cancel.is_cancelled() && !self.run_cancel.is_cancelled() {
            self.shared.emit(RunEvent::JobSkipped {
                job: instance.key,
                reason: "cancelled by fail-fast".into(),
            });
            return JobResult::without_outputs(Conclusion::Cancelled);
        }
        let result = match &self.job.kind {
            JobKind::Steps(_) => {
                let spec = JobSpec {
                    key: instance.key,
                    job: self.job.clone(),
                    workflow: self.workflow,
                    scope: instance.scope,
                    matrix_json: instance.matrix_json,
                    cancel: self.cancel,
                    queued: ready.elapsed(),
                };
                run_job(self.shared, spec).await
            }
            JobKind::Call(call) => {
                let caller = super::call::Caller {
                    shared: self.shared,
                    slots: self.slots,
                    key: &instance.key,
                    scope: instance.scope,
                    cancel: self.cancel,
                    depth: self.depth,
                };
                caller.run(call).await
            }
        };
        drop(slot);
        result
    }
}

/// Whether a job's `if:` lets it run, with the status functions over its
/// `needs` (`success()` unless one failed, `always()`, `cancelled()`).
fn job_runs(
    job: &Job,
    scope: &mut Scope,
    done: &IndexMap<String, Done>,
    cancelled: bool,
) -> Result<bool, ExprError> {
    scope.status = Some(needs_status(job, done, cancelled));
    let runs = condition(job.condition.as_ref(), scope);
    scope.status = None;
    runs
}

/// The job's strategy and its instances (one when it has no matrix), each
/// with its `strategy` and `matrix` contexts.
fn instances(
    job: &Job,
    key: &str,
    combinations: Vec<matrix::Combination>,
    scope: &Scope,
) -> Result<(Strategy, Vec<Instance>), super::limits::MaxParallelError> {
    let strategy = job.strategy.as_ref();
    let fail_fast = match strategy.and_then(|s| s.fail_fast.as_ref()) {
        None => true,
        Some(_) => strategy.is_some_and(|s| or_expr_bool(&s.fail_fast, scope).unwrap_or(true)),
    };
    let max_parallel =
        super::limits::max_parallel(strategy.and_then(|s| s.max_parallel.as_ref()), scope)?;
    let combinations: Vec<Option<matrix::Combination>> = if combinations.is_empty() {
        vec![None]
    } else {
        combinations.into_iter().map(Some).collect()
    };
    let total = combinations.len();
    let mut strategy_ctx = Object::new();
    strategy_ctx.insert("fail-fast".into(), Value::Bool(fail_fast));
    strategy_ctx.insert("job-total".into(), Value::Number(total as f64));
    strategy_ctx.insert(
        "max-parallel".into(),
        Value::Number(max_parallel.unwrap_or(total) as f64),
    );
    let instances = combinations
        .into_iter()
        .enumerate()
        .map(|(index, combination)| {
            let mut scope = scope.clone();
            let mut strategy_ctx = strategy_ctx.clone();
            strategy_ctx.insert("job-index".into(), Value::Number(index as f64));
            scope.set("strategy", Value::Object(strategy_ctx));
            let (key, matrix, matrix_json) = match &combination {
                Some(c) => (
                    c.display_name(key),
                    c.to_value(),
                    Some(c.to_value().to_json().to_string()),
                ),
                None => (key.to_string(), Value::Object(Object::new()), None),
            };
            scope.set("matrix", matrix);
            Instance {
                key,
                scope,
                matrix_json,
            }
        })
        .collect();
    let continue_on_error = match &job.kind {
        JobKind::Steps(s) => s.continue_on_error.is_some(),
        JobKind::Call(_) => false,
    };
    let strategy = Strategy {
        instances: total,
        max_parallel,
        fail_fast,
        continue_on_error,
    };
    Ok((strategy, instances))
}

/// Records a job that does not run as skipped, and says why.
fn record_skip(shared: &Shared, key: &str, job: &Job, reason: &str) {
    match shared
        .backend
        .begin_job(shared.run_id, &job.id.value, key, None, None)
    {
        Ok(row) => shared.recorded(shared.backend.finish_job(row, Conclusion::Skipped, &[])),
        Err(e) => shared.history_failed(&e),
    }
    shared.emit(RunEvent::JobSkipped {
        job: key.to_string(),
        reason: reason.to_string(),
    });
}

/// `needs.<job>.result` and `.outputs` for the jobs `job` needs.
fn needs_context(job: &Job, done: &IndexMap<String, Done>) -> Value {
    let mut needs = Object::new();
    for need in &job.needs {
        let Some((_, d)) = done
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&need.value))
        else {
            continue;
        };
        let mut entry = Object::new();
        entry.insert("result".into(), Value::String(d.result.name().into()));
        entry.insert("outputs".into(), strings(d.outputs.iter()));
        needs.insert(need.value.clone(), Value::Object(entry));
    }
    Value::Object(needs)
}

/// What the status functions say in a job's `if:`: `success()` when every
/// needed job succeeded, `failure()` when one failed, `cancelled()` when
/// the run is being cancelled.
fn needs_status(job: &Job, done: &IndexMap<String, Done>, cancelled: bool) -> Status {
    if cancelled {
        return Status::Cancelled;
    }
    let results: Vec<Conclusion> = job
        .needs
        .iter()
        .filter_map(|n| {
            done.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&n.value))
                .map(|(_, d)| d.result)
        })
        .collect();
    if results.contains(&Conclusion::Failure) {
        Status::Failure
    } else if results.iter().all(|r| *r == Conclusion::Success) {
        Status::Success
    } else {
        Status::Skipped
    }
}

/// The job's matrix combinations, expressions evaluated now that `needs`
/// is known; empty when the job has no matrix.
fn expand_matrix(job: &Job, scope: &Scope) -> Result<Vec<matrix::Combination>, ExprError> {
    let Some(node) = job.strategy.as_ref().and_then(|s| s.matrix.as_ref()) else {
        return Ok(Vec::new());
    };
    let value = match matrix::static_value(node) {
        Some(v) => v,
        None => {
            let evaluated = matrix::evaluate_value(node, &|src| {
                let expr = gantry_expr::parse(src, &gantry_expr::Allowed::any()).ok()?;
                gantry_expr::evaluate(&expr, scope).ok()
            });
            match evaluated {
                Some(v) => v,
                None => match &node.kind {
                    NodeKind::String(s) => match expand_value(s, scope)? {
                        Value::Object(o) => o,
                        other => return Err(ExprError::MatrixNotObject(other.kind_name())),
                    },
                    _ => return Err(ExprError::MatrixUnevaluated),
                },
            }
        }
    };
    Ok(matrix::expand(&value)?)
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use gantry_workflow::{ReadOptions, SourceFile, read_workflow};

    /// Whether job `b` (which needs `a`) runs when `a` ended with `result`.
    fn b_runs(condition: &str, result: Conclusion, cancelled: bool) -> bool {
        let text = format!(
            "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: true\n  b:\n    needs: a\n    if: {condition}\n    runs-on: x\n    steps:\n      - run: true\n"
        );
        let workflow = read_workflow(SourceFile::new("ci.yml", text), &ReadOptions::default())
            .value
            .expect("a valid workflow");
        let mut done = IndexMap::new();
        done.insert("a".to_string(), Done::without_outputs(result));
        let job = &workflow.jobs["b"];
        job_runs(job, &mut Scope::default(), &done, cancelled).expect("an `if:` that evaluates")
    }

    #[test]
    fn a_failed_need_skips_dependants_unless_their_if_says_otherwise() {
        assert!(b_runs("success()", Conclusion::Success, false));
        assert!(!b_runs("success()", Conclusion::Failure, false));
        assert!(!b_runs("success()", Conclusion::Skipped, false));
        assert!(b_runs("failure()", Conclusion::Failure, false));
        assert!(b_runs("always()", Conclusion::Failure, false));
    }

    #[test]
    fn a_cancelled_run_runs_only_always_and_cancelled_jobs() {
        assert!(!b_runs("success()", Conclusion::Success, true));
        assert!(b_runs("always()", Conclusion::Success, true));
        assert!(b_runs("cancelled()", Conclusion::Success, true));
    }
}
