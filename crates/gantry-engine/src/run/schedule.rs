//! The scheduler: a job starts as soon as every job it `needs` has
//! finished (a dependency graph, not stages), up to the parallelism limit;
//! matrices expand into instances with `max-parallel` and `fail-fast`;
//! reusable workflows run their jobs nested under the calling job.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use gantry_expr::{Object, Value};
use gantry_workflow::matrix;
use gantry_workflow::model::{CallJob, CallSecrets, InputType, Job, JobKind, OrExpr, Workflow};
use gantry_workflow::yaml::NodeKind;
use gantry_workflow::{ReadOptions, SourceFile, read_workflow};
use indexmap::IndexMap;
use tokio::sync::{Semaphore, mpsc::UnboundedSender};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::expand::{condition, expand, expand_value, or_expr_bool};
use super::job::{JobResult, JobSpec, Shared, run_job};
use super::scope::{Scope, Status, strings};
use super::{Backend, Conclusion, Masker, RunEvent, RunOptions, RunRecord};

/// How deeply reusable workflows may call each other.
const MAX_CALL_DEPTH: usize = 10;

/// A finished job (all its matrix instances), as `needs` sees it.
#[derive(Debug, Clone)]
struct Done {
    result: Conclusion,
    outputs: IndexMap<String, String>,
}

pub(crate) async fn run_workflow(
    workflow: Arc<Workflow>,
    options: Arc<RunOptions>,
    backend: Arc<dyn Backend>,
    masker: Masker,
    events: UnboundedSender<RunEvent>,
    stop: super::Stop,
) -> Result<(u64, Conclusion), String> {
    let cancel = stop.graceful.clone();
    let started = Instant::now();
    for value in options.secrets.values() {
        masker.add(value);
    }
    let event = &options.event;
    let inputs_json = serde_json::to_string(&event.inputs).unwrap_or_default();
    let run_id = backend.begin_run(&RunRecord {
        workflow_path: workflow.source.name().to_string(),
        workflow_name: workflow.display_name().to_string(),
        event: event.name.clone(),
        git_ref: event.git_ref.clone(),
        commit: options.sha.clone(),
        inputs_json,
    })?;
    let work_dir = options.work_dir.clone();
    std::fs::create_dir_all(&work_dir)
        .map_err(|e| format!("cannot create {}: {e}", work_dir.display()))?;
    let event_path = work_dir.join(format!("event-{run_id}.json"));
    std::fs::write(
        &event_path,
        serde_json::to_vec_pretty(&event.payload).unwrap_or_default(),
    )
    .map_err(|e| format!("cannot write {}: {e}", event_path.display()))?;
    let github = github_context(&workflow, &options, run_id, &event_path);
    let _ = events.send(RunEvent::RunStarted {
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
        runners: super::runners::Runners::new(&work_dir),
    });
    let slots = Arc::new(Semaphore::new(options.parallel.max(1)));
    let mut scope = Scope::default();
    scope.set("github", github);
    scope.set(
        "inputs",
        typed_inputs(&workflow, &event.inputs, &event.name),
    );
    scope.set("secrets", strings(options.secrets.iter()));
    scope.set("vars", strings(options.vars.iter()));
    let results = run_jobs(
        shared.clone(),
        slots,
        workflow,
        scope,
        cancel.clone(),
        String::new(),
        0,
    )
    .await;
    let conclusion = aggregate(results.values().map(|d| d.result), cancel.is_cancelled());
    if let Err(e) = backend.finish_run(run_id, conclusion) {
        // The run itself is over; only its record is incomplete. Said on
        // the run's own line (no job), not as a job's failure.
        shared.emit(RunEvent::Log {
            job: String::new(),
            step: None,
            stream: super::Stream::Stderr,
            line: format!("warning: {e}"),
            group: None,
        });
    }
    shared.runners.remove_all();
    if !options.keep_workspaces {
        let _ = std::fs::remove_file(&event_path);
        // Empty by now unless something outlived its job.
        let _ = std::fs::remove_dir(&work_dir);
    }
    shared.emit(RunEvent::RunFinished {
        run_id,
        conclusion,
        duration_ms: started.elapsed().as_millis() as u64,
    });
    Ok((run_id, conclusion))
}

/// The result of several jobs or instances together.
fn aggregate(results: impl Iterator<Item = Conclusion>, cancelled: bool) -> Conclusion {
    let all: Vec<Conclusion> = results.collect();
    if all.contains(&Conclusion::Failure) {
        Conclusion::Failure
    } else if cancelled || all.contains(&Conclusion::Cancelled) {
        Conclusion::Cancelled
    } else if !all.is_empty() && all.iter().all(|c| *c == Conclusion::Skipped) {
        Conclusion::Skipped
    } else {
        Conclusion::Success
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

fn github_context(
    workflow: &Workflow,
    options: &RunOptions,
    run_id: u64,
    event_path: &std::path::Path,
) -> Value {
    let event = &options.event;
    let mut g = Object::new();
    let git_ref = event.git_ref.clone().unwrap_or_default();
    let (ref_name, ref_type) = match git_ref.strip_prefix("refs/tags/") {
        Some(tag) => (tag.to_string(), "tag"),
        None => (
            git_ref
                .strip_prefix("refs/heads/")
                .unwrap_or(&git_ref)
                .to_string(),
            "branch",
        ),
    };
    let repo_name = options
        .repo
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "repository".into());
    let owner = event
        .payload
        .pointer("/repository/owner/login")
        .and_then(|v| v.as_str())
        .unwrap_or("local")
        .to_string();
    let repository = event
        .payload
        .pointer("/repository/full_name")
        .and_then(|v| v.as_str())
        .map_or_else(|| format!("{owner}/{repo_name}"), str::to_string);
    let actor = std::env::var("USER").unwrap_or_else(|_| "gantry".into());
    let set = |g: &mut Object, k: &str, v: String| {
        g.insert(k.to_string(), Value::String(v));
    };
    set(&mut g, "event_name", event.name.clone());
    set(&mut g, "ref", git_ref.clone());
    set(&mut g, "ref_name", ref_name);
    set(&mut g, "ref_type", ref_type.to_string());
    set(&mut g, "sha", options.sha.clone().unwrap_or_default());
    set(&mut g, "repository", repository.clone());
    set(&mut g, "repository_owner", owner);
    set(&mut g, "run_id", run_id.to_string());
    set(&mut g, "run_number", run_id.to_string());
    set(&mut g, "run_attempt", "1".into());
    set(&mut g, "actor", actor.clone());
    set(&mut g, "triggering_actor", actor);
    set(&mut g, "workflow", workflow.display_name().to_string());
    set(
        &mut g,
        "workflow_ref",
        format!("{repository}/{}@{git_ref}", workflow.source.name()),
    );
    set(&mut g, "server_url", "https://github.com".into());
    set(&mut g, "api_url", "https://api.github.com".into());
    set(
        &mut g,
        "graphql_url",
        "https://api.github.com/graphql".into(),
    );
    set(&mut g, "event_path", event_path.display().to_string());
    set(&mut g, "token", String::new());
    set(&mut g, "action", String::new());
    if event.name.starts_with("pull_request") {
        let head = event
            .payload
            .pointer("/pull_request/head/ref")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string();
        set(&mut g, "head_ref", head);
        set(
            &mut g,
            "base_ref",
            git_ref
                .strip_prefix("refs/heads/")
                .unwrap_or(&git_ref)
                .to_string(),
        );
    } else {
        set(&mut g, "head_ref", String::new());
        set(&mut g, "base_ref", String::new());
    }
    g.insert("event".into(), Value::from_json(event.payload.clone()));
    Value::Object(g)
}

/// One finished instance of a job.
struct Finished {
    job: String,
    result: JobResult,
}

/// What the scheduler keeps about a job whose instances run.
struct Group {
    remaining: usize,
    results: Vec<Conclusion>,
    outputs: IndexMap<String, String>,
    fail_fast: bool,
    continue_on_error: bool,
    cancel: CancellationToken,
}

/// Runs the jobs of one workflow; returns each job's result by id.
fn run_jobs(
    shared: Arc<Shared>,
    slots: Arc<Semaphore>,
    workflow: Arc<Workflow>,
    scope: Scope,
    cancel: CancellationToken,
    prefix: String,
    depth: usize,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = IndexMap<String, Done>> + Send>> {
    Box::pin(async move {
        let mut done: IndexMap<String, Done> = IndexMap::new();
        let mut pending: Vec<String> = workflow.jobs.keys().cloned().collect();
        let mut groups: HashMap<String, Group> = HashMap::new();
        let mut running: JoinSet<Finished> = JoinSet::new();
        // Which job each task runs, to account for a task that panicked.
        let mut task_jobs: HashMap<tokio::task::Id, String> = HashMap::new();
        let lower = |s: &str| s.to_ascii_lowercase();
        loop {
            // Start every job whose needs have all finished.
            let mut i = 0;
            while i < pending.len() {
                let id = pending[i].clone();
                let Some(job) = workflow.jobs.get(&id) else {
                    pending.remove(i);
                    continue;
                };
                let ready = job.needs.iter().all(|n| {
                    done.keys().any(|d| lower(d) == lower(&n.value))
                        || !workflow.jobs.keys().any(|k| lower(k) == lower(&n.value))
                });
                if !ready {
                    i += 1;
                    continue;
                }
                pending.remove(i);
                let key = format!(
                    "{prefix}{}",
                    job.name
                        .as_ref()
                        .map_or(job.id.value.as_str(), |n| n.value.as_str())
                );
                let needs = needs_context(job, &done);
                let mut job_scope = scope.clone();
                job_scope.set("needs", needs.clone());
                job_scope.status = Some(needs_status(job, &done, cancel.is_cancelled()));
                match condition(job.condition.as_ref(), &job_scope) {
                    Ok(true) => {}
                    Ok(false) => {
                        skip(&shared, &key, job, "its `if:` is false", &mut done);
                        continue;
                    }
                    Err(e) => {
                        shared.emit(RunEvent::JobSkipped {
                            job: key.clone(),
                            reason: format!("its `if:` failed: {e}"),
                        });
                        done.insert(
                            id.clone(),
                            Done {
                                result: Conclusion::Failure,
                                outputs: IndexMap::new(),
                            },
                        );
                        continue;
                    }
                }
                job_scope.status = None;
                let combinations = match expand_matrix(job, &job_scope) {
                    Ok(c) => c,
                    Err(e) => {
                        shared.emit(RunEvent::JobSkipped {
                            job: key.clone(),
                            reason: format!("its matrix failed: {e}"),
                        });
                        done.insert(
                            id.clone(),
                            Done {
                                result: Conclusion::Failure,
                                outputs: IndexMap::new(),
                            },
                        );
                        continue;
                    }
                };
                let strategy = job.strategy.as_ref();
                let fail_fast = match strategy.and_then(|s| s.fail_fast.as_ref()) {
                    None => true,
                    Some(_) => strategy
                        .is_some_and(|s| or_expr_bool(&s.fail_fast, &job_scope).unwrap_or(true)),
                };
                let max_parallel = strategy
                    .and_then(|s| s.max_parallel.as_ref())
                    .and_then(|m| match &m.value {
                        OrExpr::Value(n) => Some(*n),
                        OrExpr::Expr(text) => {
                            expand_value(text, &job_scope).ok().map(|v| v.to_number())
                        }
                    })
                    .filter(|n| n.is_finite() && *n >= 1.0)
                    .map(|n| n as usize);
                let continue_on_error = match &job.kind {
                    JobKind::Steps(s) => s.continue_on_error.is_some(),
                    JobKind::Call(_) => false,
                };
                let group_cancel = cancel.child_token();
                let instances: Vec<Option<matrix::Combination>> = if combinations.is_empty() {
                    vec![None]
                } else {
                    combinations.into_iter().map(Some).collect()
                };
                let total = instances.len();
                groups.insert(
                    id.clone(),
                    Group {
                        remaining: total,
                        results: Vec::new(),
                        outputs: IndexMap::new(),
                        fail_fast,
                        continue_on_error,
                        cancel: group_cancel.clone(),
                    },
                );
                let limit = Arc::new(Semaphore::new(max_parallel.unwrap_or(total).max(1)));
                for (index, combination) in instances.into_iter().enumerate() {
                    let instance_key = match &combination {
                        Some(c) => c.display_name(&key),
                        None => key.clone(),
                    };
                    let mut instance_scope = job_scope.clone();
                    let mut strategy_ctx = Object::new();
                    strategy_ctx.insert("fail-fast".into(), Value::Bool(fail_fast));
                    strategy_ctx.insert("job-index".into(), Value::Number(index as f64));
                    strategy_ctx.insert("job-total".into(), Value::Number(total as f64));
                    strategy_ctx.insert(
                        "max-parallel".into(),
                        Value::Number(max_parallel.unwrap_or(total) as f64),
                    );
                    instance_scope.set("strategy", Value::Object(strategy_ctx));
                    let matrix_value = combination
                        .as_ref()
                        .map_or(Value::Object(Object::new()), matrix::Combination::to_value);
                    let matrix_json = combination
                        .as_ref()
                        .map(|c| c.to_value().to_json().to_string());
                    instance_scope.set("matrix", matrix_value);
                    let shared = shared.clone();
                    let slots = slots.clone();
                    let limit = limit.clone();
                    let job = job.clone();
                    let workflow = workflow.clone();
                    let token = group_cancel.child_token();
                    let run_cancelled = cancel.clone();
                    let job_id = id.clone();
                    let prefix = format!("{instance_key} / ");
                    let job_for_task = id.clone();
                    let handle = running.spawn(async move {
                        let _limit = limit.acquire_owned().await;
                        // A reusable workflow's jobs take their own slots.
                        let slot = if matches!(job.kind, JobKind::Call(_)) {
                            None
                        } else {
                            slots.clone().acquire_owned().await.ok()
                        };
                        // fail-fast cancelled this instance before it started.
                        if token.is_cancelled() && !run_cancelled.is_cancelled() {
                            shared.emit(RunEvent::JobSkipped {
                                job: instance_key.clone(),
                                reason: "cancelled by fail-fast".into(),
                            });
                            drop(slot);
                            return Finished {
                                job: job_id,
                                result: JobResult {
                                    conclusion: Conclusion::Cancelled,
                                    outputs: IndexMap::new(),
                                },
                            };
                        }
                        let result = match &job.kind {
                            JobKind::Steps(_) => {
                                run_job(
                                    shared.clone(),
                                    JobSpec {
                                        key: instance_key,
                                        job: job.clone(),
                                        workflow,
                                        scope: instance_scope,
                                        matrix_json,
                                        cancel: token,
                                    },
                                )
                                .await
                            }
                            JobKind::Call(call) => {
                                run_call(
                                    shared.clone(),
                                    slots.clone(),
                                    &instance_key,
                                    &job,
                                    call,
                                    instance_scope,
                                    token,
                                    prefix,
                                    depth,
                                )
                                .await
                            }
                        };
                        drop(slot);
                        Finished {
                            job: job_id,
                            result,
                        }
                    });
                    task_jobs.insert(handle.id(), job_for_task);
                }
            }
            let Some(joined) = running.join_next_with_id().await else {
                break;
            };
            let finished = match joined {
                Ok((_, finished)) => finished,
                Err(e) => {
                    // A job's task panicked: count that instance as failed.
                    let Some(job) = task_jobs.get(&e.id()).cloned() else {
                        continue;
                    };
                    shared.emit(RunEvent::JobSkipped {
                        job: job.clone(),
                        reason: format!("internal error: {e}"),
                    });
                    Finished {
                        job,
                        result: JobResult {
                            conclusion: Conclusion::Failure,
                            outputs: IndexMap::new(),
                        },
                    }
                }
            };
            let Some(group) = groups.get_mut(&finished.job) else {
                continue;
            };
            group.remaining -= 1;
            group.results.push(finished.result.conclusion);
            for (k, v) in finished.result.outputs {
                group.outputs.insert(k, v);
            }
            if finished.result.conclusion == Conclusion::Failure
                && group.fail_fast
                && !group.continue_on_error
            {
                group.cancel.cancel();
            }
            if group.remaining == 0
                && let Some(group) = groups.remove(&finished.job)
            {
                done.insert(
                    finished.job.clone(),
                    Done {
                        result: aggregate(group.results.into_iter(), false),
                        outputs: group.outputs,
                    },
                );
            }
        }
        // Jobs that never became ready (their needs were never defined).
        for id in pending {
            done.insert(
                id,
                Done {
                    result: Conclusion::Skipped,
                    outputs: IndexMap::new(),
                },
            );
        }
        done
    })
}

fn skip(shared: &Shared, key: &str, job: &Job, reason: &str, done: &mut IndexMap<String, Done>) {
    if let Ok(row) = shared
        .backend
        .begin_job(shared.run_id, &job.id.value, key, None)
    {
        let _ = shared.backend.finish_job(row, Conclusion::Skipped, &[]);
    }
    shared.emit(RunEvent::JobSkipped {
        job: key.to_string(),
        reason: reason.to_string(),
    });
    done.insert(
        job.id.value.clone(),
        Done {
            result: Conclusion::Skipped,
            outputs: IndexMap::new(),
        },
    );
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
fn expand_matrix(job: &Job, scope: &Scope) -> Result<Vec<matrix::Combination>, String> {
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
                        other => {
                            return Err(format!(
                                "the matrix expression gave {}, not an object",
                                other.kind_name()
                            ));
                        }
                    },
                    _ => return Err("an expression in the matrix could not be evaluated".into()),
                },
            }
        }
    };
    matrix::expand(&value).map_err(|e| e.to_string())
}

/// Runs a job that calls a reusable workflow.
#[allow(clippy::too_many_arguments)]
async fn run_call(
    shared: Arc<Shared>,
    slots: Arc<Semaphore>,
    key: &str,
    job: &Job,
    call: &CallJob,
    scope: Scope,
    cancel: CancellationToken,
    prefix: String,
    depth: usize,
) -> JobResult {
    let failed = |message: String| {
        shared.emit(RunEvent::JobSkipped {
            job: key.to_string(),
            reason: message,
        });
        JobResult {
            conclusion: Conclusion::Failure,
            outputs: IndexMap::new(),
        }
    };
    if depth >= MAX_CALL_DEPTH {
        return failed(format!(
            "reusable workflows nest deeper than {MAX_CALL_DEPTH}"
        ));
    }
    let uses = call.uses.value.as_str();
    let Some(relative) = uses.strip_prefix("./").or_else(|| uses.strip_prefix("$/")) else {
        return failed(format!(
            "`{uses}` is a remote reusable workflow; gantry runs only workflows of this repository"
        ));
    };
    if std::path::Path::new(relative).components().any(|c| {
        !matches!(
            c,
            std::path::Component::Normal(_) | std::path::Component::CurDir
        )
    }) {
        return failed(format!("`{uses}` leaves the repository"));
    }
    let path = shared.options.repo.join(relative);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => return failed(format!("cannot read {}: {e}", path.display())),
    };
    let parsed = read_workflow(
        SourceFile::new(relative.to_string(), text),
        &ReadOptions::default(),
    );
    let Some(called) = parsed.value.filter(|_| !parsed.diagnostics.has_errors()) else {
        return failed(format!(
            "{relative} is not a valid workflow; run `gantry validate {relative}`"
        ));
    };
    let called = Arc::new(called);
    let Some(trigger) = called.on.get("workflow_call") else {
        return failed(format!("{relative} has no `on: workflow_call`"));
    };
    // Inputs: what the caller passes, typed, then the declared defaults.
    let mut inputs = Object::new();
    for (name, def) in &trigger.inputs {
        let given = call
            .with
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, (_, node))| node);
        let value = match given {
            Some(node) => match &node.kind {
                NodeKind::String(s) => match expand_value(s, &scope) {
                    Ok(v) => v,
                    Err(e) => return failed(format!("input `{name}`: {e}")),
                },
                _ => matrix::node_to_value(node),
            },
            None => match &def.default {
                Some(node) => match &node.kind {
                    NodeKind::String(s) => expand_value(s, &scope).unwrap_or(Value::Null),
                    _ => matrix::node_to_value(node),
                },
                None if def.required => {
                    return failed(format!("input `{name}` is required by {relative}"));
                }
                None => Value::Null,
            },
        };
        let value = match (def.kind, value) {
            (InputType::Boolean, Value::String(s)) => Value::Bool(s == "true"),
            (InputType::Number, Value::String(s)) => {
                s.parse().map_or(Value::String(s), Value::Number)
            }
            (_, v) => v,
        };
        inputs.insert(name.clone(), value);
    }
    let secrets = match &call.secrets {
        CallSecrets::Inherit(_) => scope.values.get("secrets").cloned().unwrap_or(Value::Null),
        CallSecrets::None => Value::Object(Object::new()),
        CallSecrets::Map(map) => {
            let mut out = Object::new();
            for (name, (_, text)) in map {
                match expand(&text.value, &scope) {
                    Ok(v) => {
                        out.insert(name.clone(), Value::String(v));
                    }
                    Err(e) => return failed(format!("secret `{name}`: {e}")),
                }
            }
            Value::Object(out)
        }
    };
    let mut nested = Scope::default();
    for name in ["github", "vars"] {
        if let Some(v) = scope.values.get(name) {
            nested.set(name, v.clone());
        }
    }
    nested.set("inputs", Value::Object(inputs));
    nested.set("secrets", secrets);
    shared.emit(RunEvent::JobStarted {
        job: key.to_string(),
    });
    let started = Instant::now();
    let results = run_jobs(
        shared.clone(),
        slots,
        called.clone(),
        nested.clone(),
        cancel.clone(),
        prefix,
        depth + 1,
    )
    .await;
    let conclusion = aggregate(results.values().map(|d| d.result), cancel.is_cancelled());
    // Outputs: the called workflow's, evaluated with its `jobs` context.
    let mut jobs = Object::new();
    for (id, d) in &results {
        let mut entry = Object::new();
        entry.insert("result".into(), Value::String(d.result.name().into()));
        entry.insert("outputs".into(), strings(d.outputs.iter()));
        jobs.insert(id.clone(), Value::Object(entry));
    }
    let mut out_scope = nested;
    out_scope.set("jobs", Value::Object(jobs));
    let mut outputs = IndexMap::new();
    for (name, def) in &trigger.outputs {
        if let Ok(v) = expand(&def.value.value, &out_scope) {
            outputs.insert(name.clone(), shared.masker.mask(&v));
        }
    }
    shared.emit(RunEvent::JobFinished {
        job: key.to_string(),
        result: conclusion,
        duration_ms: started.elapsed().as_millis() as u64,
        cache_hits: 0,
        cache_misses: 0,
    });
    let _ = job;
    JobResult {
        conclusion,
        outputs,
    }
}
