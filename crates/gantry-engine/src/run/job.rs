//! Running one job (one matrix combination): its steps, in order, in a
//! private workspace.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gantry_expr::{Allowed, Object, Value};
use gantry_workflow::model::{
    Job, JobKind, OrExpr, Runs, Spanned, Step, StepAction, StepsJob, Text, Workflow,
};
use gantry_workflow::{ReadOptions, SourceFile, read_action};
use indexmap::IndexMap;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::commands::Stopper;
use super::process::{self, Exit, Stream};
use super::runners::{CommandFile, CommandFiles};
use super::scope::{Scope, Status, step_value, strings};
use super::{Backend, Conclusion, Masker, RunEvent, RunOptions, actions, files, shell};

/// What every job of a run shares.
pub(crate) struct Shared {
    pub options: Arc<RunOptions>,
    pub backend: Arc<dyn Backend>,
    pub masker: Masker,
    pub events: UnboundedSender<RunEvent>,
    pub run_id: u64,
    /// Stops every process now.
    pub force: CancellationToken,
    /// The runner folders jobs take turns with.
    pub runners: super::runners::Runners,
}

impl Shared {
    pub(crate) fn emit(&self, event: RunEvent) {
        let _ = self.events.send(event);
    }
}

/// One job instance to run.
pub(crate) struct JobSpec {
    /// The name shown: `test (unit, 3.11)`.
    pub key: String,
    pub job: Job,
    /// The workflow that defines the job (a called workflow for nested jobs).
    pub workflow: Arc<Workflow>,
    /// `github`, `needs`, `matrix`, `strategy`, `inputs`, `secrets`, `vars`.
    pub scope: Scope,
    pub matrix_json: Option<String>,
    pub cancel: CancellationToken,
}

/// How a job ended and what it produced.
#[derive(Debug, Clone)]
pub(crate) struct JobResult {
    pub conclusion: Conclusion,
    pub outputs: IndexMap<String, String>,
}

/// How a step ended.
pub(crate) struct StepExec {
    pub outcome: Conclusion,
    pub exit_code: Option<i32>,
    pub outputs: Vec<(String, String)>,
}

impl StepExec {
    pub(crate) fn failed(message: impl Into<String>, log: &mut LogSink) -> StepExec {
        log.error(&message.into());
        StepExec {
            outcome: Conclusion::Failure,
            exit_code: None,
            outputs: Vec::new(),
        }
    }

    pub(crate) fn ok(outputs: Vec<(String, String)>) -> StepExec {
        StepExec {
            outcome: Conclusion::Success,
            exit_code: None,
            outputs,
        }
    }
}

/// Where a step's lines go: masked, to its log file and as events.
pub(crate) struct LogSink {
    shared: Arc<Shared>,
    job: String,
    step: Option<usize>,
    /// Where the log goes; the file is created with the first line, so a
    /// silent step costs no file.
    path: Option<PathBuf>,
    file: Option<std::fs::File>,
    group: Option<String>,
}

impl LogSink {
    fn new(shared: Arc<Shared>, job: &str, step: Option<usize>, path: Option<PathBuf>) -> Self {
        Self {
            shared,
            job: job.to_string(),
            step,
            path,
            file: None,
            group: None,
        }
    }

    /// The log file, opened on first use. A log that cannot be opened is
    /// given up once, not retried on every line.
    fn file(&mut self) -> Option<&mut std::fs::File> {
        if self.file.is_none() {
            let path = self.path.take()?;
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            self.file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .ok();
        }
        self.file.as_mut()
    }

    pub(crate) fn line(&mut self, stream: Stream, text: &str) {
        use std::io::Write;
        let masked = self.shared.masker.mask(text);
        if let Some(f) = self.file() {
            let _ = writeln!(f, "{masked}");
        }
        self.shared.emit(RunEvent::Log {
            job: self.job.clone(),
            step: self.step,
            stream,
            line: masked,
            group: self.group.clone(),
        });
    }

    pub(crate) fn info(&mut self, text: &str) {
        self.line(Stream::Stdout, text);
    }

    pub(crate) fn error(&mut self, text: &str) {
        self.annotate("error", text, None, None);
    }

    pub(crate) fn warning(&mut self, text: &str) {
        self.annotate("warning", text, None, None);
    }

    fn annotate(&mut self, level: &str, text: &str, file: Option<String>, line: Option<u32>) {
        let masked = self.shared.masker.mask(text);
        self.line(Stream::Stderr, &format!("{level}: {masked}"));
        self.shared.emit(RunEvent::Annotation {
            job: self.job.clone(),
            step: self.step,
            level: level.to_string(),
            message: masked,
            file,
            line,
        });
    }
}

/// A step that runs when the job ends (an action's `post`).
pub(crate) struct PostStep {
    pub name: String,
    pub condition: String,
    pub action: PostAction,
}

pub(crate) enum PostAction {
    SaveCache {
        key: String,
        version: String,
        paths: Vec<String>,
    },
    Node {
        script: PathBuf,
        env: Vec<(String, String)>,
    },
}

/// The state of a running job.
pub(crate) struct JobRun {
    pub shared: Arc<Shared>,
    pub key: String,
    pub job_row: u64,
    pub workflow: Arc<Workflow>,
    pub base: Scope,
    pub workspace: PathBuf,
    pub temp: PathBuf,
    pub tool_cache: PathBuf,
    /// The runner's `$GITHUB_OUTPUT`, `$GITHUB_ENV`, ... files.
    pub command_files: CommandFiles,
    /// Workflow, job and `$GITHUB_ENV` variables, in layering order.
    pub env: IndexMap<String, String>,
    pub path_prepend: Vec<String>,
    pub cancel: CancellationToken,
    pub failed: bool,
    pub post: Vec<PostStep>,
    pub summary: String,
    pub next_step: usize,
    pub defaults_shell: Option<String>,
    pub defaults_dir: Option<String>,
    pub deadline: Instant,
    /// How long a step that runs after cancellation may take.
    pub cancel_timeout: Duration,
    pub outputs: IndexMap<String, String>,
    pub cache_hits: u32,
    pub cache_misses: u32,
}

/// Environment variables of the gantry process that steps do not inherit.
fn inherited(name: &str) -> bool {
    !(name.starts_with("GITHUB_")
        || name.starts_with("RUNNER_")
        || name.starts_with("ACTIONS_")
        || name.starts_with("INPUT_")
        || name.starts_with("GANTRY_")
        || name == "CI")
}

fn sanitize(key: &str) -> String {
    let s: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    s.trim_matches('-').chars().take(80).collect()
}

/// Evaluates a template string (text with `${{ }}`) to text.
pub(crate) fn expand(text: &str, scope: &Scope) -> Result<String, String> {
    if !text.contains("${{") {
        return Ok(text.to_string());
    }
    let template = gantry_expr::parse_template(text).map_err(|e| e.to_string())?;
    template
        .evaluate_to_string(scope)
        .map_err(|e| e.to_string())
}

/// Evaluates a template string to a value (a single expression keeps its
/// type).
pub(crate) fn expand_value(text: &str, scope: &Scope) -> Result<Value, String> {
    if !text.contains("${{") {
        return Ok(Value::String(text.to_string()));
    }
    let template = gantry_expr::parse_template(text).map_err(|e| e.to_string())?;
    template.evaluate(scope).map_err(|e| e.to_string())
}

pub(crate) fn or_expr_bool(
    v: &Option<Spanned<OrExpr<bool>>>,
    scope: &Scope,
) -> Result<bool, String> {
    match v.as_ref().map(|s| &s.value) {
        None => Ok(false),
        Some(OrExpr::Value(b)) => Ok(*b),
        Some(OrExpr::Expr(text)) => expand_value(text, scope).map(|v| v.is_truthy()),
    }
}

pub(crate) fn or_expr_minutes(
    v: &Option<Spanned<OrExpr<f64>>>,
    scope: &Scope,
) -> Result<Option<Duration>, String> {
    let minutes = match v.as_ref().map(|s| &s.value) {
        None => return Ok(None),
        Some(OrExpr::Value(n)) => *n,
        Some(OrExpr::Expr(text)) => expand_value(text, scope)?.to_number(),
    };
    if !minutes.is_finite() || minutes < 0.0 {
        return Err(format!(
            "timeout-minutes must be a positive number, not {minutes}"
        ));
    }
    Ok(Some(Duration::from_secs_f64(minutes * 60.0)))
}

/// Evaluates an `if:` condition.
pub(crate) fn condition(text: Option<&Text>, scope: &Scope) -> Result<bool, String> {
    let text = text.map_or("success()", |t| t.value.as_str());
    let expr = gantry_expr::parse_condition(text, &Allowed::any()).map_err(|e| e.to_string())?;
    gantry_expr::evaluate(&expr, scope)
        .map(|v| v.is_truthy())
        .map_err(|e| e.to_string())
}

/// A step's index as the backend records it. No job has four billion
/// steps; should one, its last steps share an index rather than wrap.
fn step_index(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

/// Runs one job instance to its end.
pub(crate) async fn run_job(shared: Arc<Shared>, spec: JobSpec) -> JobResult {
    let started = Instant::now();
    let JobKind::Steps(steps_job) = &spec.job.kind else {
        return JobResult {
            conclusion: Conclusion::Failure,
            outputs: IndexMap::new(),
        };
    };
    let job_row = shared
        .backend
        .begin_job(
            shared.run_id,
            &spec.job.id.value,
            &spec.key,
            spec.matrix_json.as_deref(),
        )
        .unwrap_or(0);
    shared.emit(RunEvent::JobStarted {
        job: spec.key.clone(),
    });
    let mut log = LogSink::new(
        shared.clone(),
        &spec.key,
        None,
        Some(shared.backend.log_path(shared.run_id, job_row, None)),
    );
    let runner = match shared.runners.take() {
        Ok(runner) => runner,
        Err(e) => {
            log.error(&format!(
                "cannot create the job's folders under {}: {e}",
                shared.options.work_dir.display()
            ));
            return finish(
                &shared,
                &spec.key,
                job_row,
                Conclusion::Failure,
                IndexMap::new(),
                started,
                0,
                0,
            );
        }
    };
    let mut run = JobRun {
        shared: shared.clone(),
        key: spec.key.clone(),
        job_row,
        workflow: spec.workflow.clone(),
        base: spec.scope.clone(),
        workspace: runner.workspace.clone(),
        temp: runner.temp.clone(),
        tool_cache: runner.tool_cache.clone(),
        command_files: runner.files.clone(),
        env: IndexMap::new(),
        path_prepend: Vec::new(),
        cancel: spec.cancel.clone(),
        failed: false,
        post: Vec::new(),
        summary: String::new(),
        next_step: 0,
        defaults_shell: None,
        defaults_dir: None,
        deadline: Instant::now() + Duration::from_secs(360 * 60),
        cancel_timeout: Duration::from_secs(5 * 60),
        outputs: IndexMap::new(),
        cache_hits: 0,
        cache_misses: 0,
    };
    let setup = run.setup(steps_job);
    let conclusion = match setup {
        Err(message) => {
            log.error(&message);
            Conclusion::Failure
        }
        Ok(timeout) => {
            run.deadline = Instant::now() + timeout;
            let job_cancel = run.cancel.clone();
            let timer = tokio::spawn(async move {
                tokio::time::sleep(timeout).await;
                job_cancel.cancel();
            });
            let mut steps_ctx = Object::new();
            run.run_steps(&steps_job.steps, &mut steps_ctx, None).await;
            run.run_post().await;
            timer.abort();
            let timed_out = Instant::now() >= run.deadline;
            if timed_out {
                log.error(&format!(
                    "the job ran longer than its timeout of {} minutes and was stopped",
                    timeout.as_secs_f64() / 60.0
                ));
            }
            let scope = run.scope(&steps_ctx);
            for (name, value) in &steps_job.outputs {
                match expand(&value.value.value, &scope) {
                    Ok(v) => {
                        let masked = shared.masker.mask(&v);
                        run.outputs.insert(name.clone(), masked);
                    }
                    Err(e) => log.warning(&format!("output `{name}`: {e}")),
                }
            }
            if run.failed || timed_out {
                Conclusion::Failure
            } else if run.cancel.is_cancelled() {
                Conclusion::Cancelled
            } else {
                Conclusion::Success
            }
        }
    };
    let outputs = std::mem::take(&mut run.outputs);
    let keep = shared.options.keep_workspaces.then(|| {
        shared
            .options
            .work_dir
            .join(format!("{}-{job_row}", sanitize(&spec.key)))
    });
    shared.runners.give_back(runner, keep.as_deref());
    let continue_on_error =
        or_expr_bool(&steps_job.continue_on_error, &spec.scope).unwrap_or(false);
    let conclusion = if conclusion == Conclusion::Failure && continue_on_error {
        log.warning("the job failed, but `continue-on-error` lets the run go on");
        Conclusion::Success
    } else {
        conclusion
    };
    finish(
        &shared,
        &spec.key,
        job_row,
        conclusion,
        outputs,
        started,
        run.cache_hits,
        run.cache_misses,
    )
}

#[allow(clippy::too_many_arguments)]
fn finish(
    shared: &Shared,
    key: &str,
    job_row: u64,
    conclusion: Conclusion,
    outputs: IndexMap<String, String>,
    started: Instant,
    cache_hits: u32,
    cache_misses: u32,
) -> JobResult {
    let pairs: Vec<(String, String)> = outputs
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let _ = shared.backend.finish_job(job_row, conclusion, &pairs);
    shared.emit(RunEvent::JobFinished {
        job: key.to_string(),
        result: conclusion,
        duration_ms: started.elapsed().as_millis() as u64,
        cache_hits,
        cache_misses,
    });
    JobResult {
        conclusion,
        outputs,
    }
}

/// The largest nesting of composite actions.
const MAX_ACTION_DEPTH: usize = 10;

impl JobRun {
    /// Evaluates the workflow and job settings; returns the job's timeout.
    fn setup(&mut self, job: &StepsJob) -> Result<Duration, String> {
        let scope = self.base.clone();
        for var in self.workflow.env.values() {
            let value = expand(&var.value.value, &scope)
                .map_err(|e| format!("workflow env `{}`: {e}", var.name.value))?;
            self.env.insert(var.name.value.clone(), value);
        }
        let with_env = self.scope(&Object::new());
        for var in job.env.values() {
            let value = expand(&var.value.value, &with_env)
                .map_err(|e| format!("job env `{}`: {e}", var.name.value))?;
            self.env.insert(var.name.value.clone(), value);
        }
        let defaults = job.defaults.as_ref().or(self.workflow.defaults.as_ref());
        let scope = self.scope(&Object::new());
        if let Some(d) = defaults {
            if let Some(shell) = &d.shell {
                self.defaults_shell = Some(expand(&shell.value, &scope)?);
            }
            if let Some(dir) = &d.working_directory {
                self.defaults_dir = Some(expand(&dir.value, &scope)?);
            }
        }
        if job.container.is_some() || !job.services.is_empty() {
            return Err("this job needs containers (`container:` or `services:`), and gantry runs jobs on the host without Docker; run the services yourself and drop those keys, or run this job on GitHub".into());
        }
        if let Some(t) = or_expr_minutes(&job.cancel_timeout_minutes, &scope)? {
            self.cancel_timeout = t;
        }
        Ok(or_expr_minutes(&job.timeout_minutes, &scope)?.unwrap_or(Duration::from_secs(360 * 60)))
    }

    fn status(&self) -> Status {
        if self.cancel.is_cancelled() {
            Status::Cancelled
        } else if self.failed {
            Status::Failure
        } else {
            Status::Success
        }
    }

    /// The scope of expressions in this job, with a `steps` context.
    pub(crate) fn scope(&self, steps: &Object) -> Scope {
        let mut scope = self.base.clone();
        scope.set("env", strings(self.env.iter()));
        scope.set("steps", Value::Object(steps.clone()));
        let mut job = Object::new();
        job.insert(
            "status".into(),
            Value::String(
                match self.status() {
                    Status::Success => "success",
                    Status::Failure => "failure",
                    Status::Cancelled => "cancelled",
                    Status::Skipped => "skipped",
                }
                .into(),
            ),
        );
        scope.set("job", Value::Object(job));
        let mut runner = Object::new();
        runner.insert("os".into(), Value::String(runner_os().into()));
        runner.insert("arch".into(), Value::String(runner_arch().into()));
        runner.insert("name".into(), Value::String("gantry".into()));
        runner.insert(
            "temp".into(),
            Value::String(self.temp.display().to_string()),
        );
        runner.insert(
            "tool_cache".into(),
            Value::String(self.tool_cache.display().to_string()),
        );
        runner.insert("debug".into(), Value::String(String::new()));
        scope.set("runner", Value::Object(runner));
        if let Some(Value::Object(github)) = scope.values.get_mut("github") {
            github.insert(
                "workspace".into(),
                Value::String(self.workspace.display().to_string()),
            );
            github.insert("job".into(), Value::String(self.key.clone()));
        }
        scope.workspace = Some(self.workspace.clone());
        scope.status = Some(self.status());
        scope
    }

    /// Runs steps in order. `inputs` is set inside composite actions.
    fn run_steps<'a>(
        &'a mut self,
        steps: &'a [Step],
        steps_ctx: &'a mut Object,
        action: Option<&'a ActionFrame>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>> {
        Box::pin(async move {
            for step in steps {
                self.run_step(step, steps_ctx, action).await;
            }
        })
    }

    async fn run_step(&mut self, step: &Step, steps_ctx: &mut Object, frame: Option<&ActionFrame>) {
        let index = self.next_step;
        self.next_step += 1;
        let mut scope = self.scope(steps_ctx);
        if let Some(frame) = frame {
            scope.set("inputs", frame.inputs.clone());
        }
        let name = match &step.name {
            Some(n) => expand(&n.value, &scope).unwrap_or_else(|_| n.value.clone()),
            None => step.display_name(),
        };
        let name = self.shared.masker.mask(&name);
        let _ = self.shared.backend.begin_step(
            self.job_row,
            step_index(index),
            step.id.as_ref().map(|i| i.value.as_str()),
            &name,
        );
        let log_path =
            self.shared
                .backend
                .log_path(self.shared.run_id, self.job_row, Some(step_index(index)));
        let mut log = LogSink::new(self.shared.clone(), &self.key, Some(index), Some(log_path));
        let started = Instant::now();
        let run = match condition(step.condition.as_ref(), &scope) {
            Ok(run) => run,
            Err(e) => {
                log.error(&format!("the step's `if:` failed: {e}"));
                self.failed = true;
                self.finish_step(
                    step,
                    index,
                    &name,
                    steps_ctx,
                    StepExec {
                        outcome: Conclusion::Failure,
                        exit_code: None,
                        outputs: Vec::new(),
                    },
                    false,
                    started,
                );
                return;
            }
        };
        if !run {
            self.shared.emit(RunEvent::StepStarted {
                job: self.key.clone(),
                step: index,
                name: name.clone(),
            });
            self.finish_step(
                step,
                index,
                &name,
                steps_ctx,
                StepExec {
                    outcome: Conclusion::Skipped,
                    exit_code: None,
                    outputs: Vec::new(),
                },
                false,
                started,
            );
            return;
        }
        self.shared.emit(RunEvent::StepStarted {
            job: self.key.clone(),
            step: index,
            name: name.clone(),
        });
        let continue_on_error = match or_expr_bool(&step.continue_on_error, &scope) {
            Ok(b) => b,
            Err(e) => {
                log.warning(&format!("continue-on-error: {e}"));
                false
            }
        };
        let exec = match self.step_env(step, &scope) {
            Err(e) => StepExec::failed(e, &mut log),
            Ok(step_env) => match or_expr_minutes(&step.timeout_minutes, &scope) {
                Err(e) => StepExec::failed(e, &mut log),
                Ok(timeout) => {
                    let remaining = if self.cancel.is_cancelled() {
                        self.cancel_timeout
                    } else {
                        self.deadline.saturating_duration_since(Instant::now())
                    };
                    let timeout = Some(timeout.map_or(remaining, |t| t.min(remaining)));
                    match &step.action {
                        StepAction::Run {
                            run,
                            shell,
                            working_directory,
                        } => {
                            self.exec_run(
                                &scope,
                                run,
                                shell.as_ref(),
                                working_directory.as_ref(),
                                &step_env,
                                timeout,
                                &mut log,
                            )
                            .await
                        }
                        StepAction::Uses { uses, with } => {
                            let mut inputs = IndexMap::new();
                            let mut bad = None;
                            for (k, (_, v)) in with {
                                match expand(&v.value, &scope) {
                                    Ok(v) => {
                                        inputs.insert(k.clone(), v);
                                    }
                                    Err(e) => bad = Some(format!("input `{k}`: {e}")),
                                }
                            }
                            match bad {
                                Some(e) => StepExec::failed(e, &mut log),
                                None => {
                                    self.exec_uses(
                                        &uses.value,
                                        &inputs,
                                        &step_env,
                                        timeout,
                                        frame,
                                        &mut log,
                                    )
                                    .await
                                }
                            }
                        }
                        StepAction::Invalid => {
                            StepExec::failed("this step could not be read", &mut log)
                        }
                        _ => StepExec::failed(
                            "background, wait, cancel and parallel steps are not supported yet",
                            &mut log,
                        ),
                    }
                }
            },
        };
        self.finish_step(
            step,
            index,
            &name,
            steps_ctx,
            exec,
            continue_on_error,
            started,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn finish_step(
        &mut self,
        step: &Step,
        index: usize,
        name: &str,
        steps_ctx: &mut Object,
        exec: StepExec,
        continue_on_error: bool,
        started: Instant,
    ) {
        let outcome = exec.outcome;
        let conclusion = match outcome {
            Conclusion::Failure if continue_on_error => Conclusion::Success,
            other => other,
        };
        if conclusion == Conclusion::Failure {
            self.failed = true;
        }
        let outputs: Vec<(String, String)> = exec
            .outputs
            .iter()
            .map(|(k, v)| (k.clone(), self.shared.masker.mask(v)))
            .collect();
        if let Some(id) = &step.id {
            steps_ctx.insert(
                id.value.clone(),
                step_value(&exec.outputs, outcome.name(), conclusion.name()),
            );
        }
        let _ = self.shared.backend.finish_step(
            self.job_row,
            step_index(index),
            outcome,
            conclusion,
            exec.exit_code,
            &outputs,
        );
        self.shared.emit(RunEvent::StepFinished {
            job: self.key.clone(),
            step: index,
            name: name.to_string(),
            outcome,
            conclusion,
            exit_code: exec.exit_code,
            duration_ms: started.elapsed().as_millis() as u64,
        });
    }

    /// The step's own `env:`, evaluated.
    fn step_env(&self, step: &Step, scope: &Scope) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        for var in step.env.values() {
            let value = expand(&var.value.value, scope)
                .map_err(|e| format!("env `{}`: {e}", var.name.value))?;
            out.push((var.name.value.clone(), value));
        }
        Ok(out)
    }

    /// The environment of a step's process.
    pub(crate) fn process_env(
        &self,
        step_env: &[(String, String)],
        extra: &[(String, String)],
    ) -> Vec<(String, String)> {
        let mut env: IndexMap<String, String> =
            std::env::vars().filter(|(k, _)| inherited(k)).collect();
        let github = self.base.values.get("github");
        let g = |key: &str| {
            github
                .and_then(|g| g.get(key))
                .map(|v| v.to_display_string())
                .unwrap_or_default()
        };
        let options = &self.shared.options;
        for (k, v) in [
            ("CI", "true".to_string()),
            ("GITHUB_ACTIONS", "true".to_string()),
            ("GITHUB_WORKSPACE", self.workspace.display().to_string()),
            ("GITHUB_SHA", g("sha")),
            ("GITHUB_REF", g("ref")),
            ("GITHUB_REF_NAME", g("ref_name")),
            ("GITHUB_REF_TYPE", g("ref_type")),
            ("GITHUB_HEAD_REF", g("head_ref")),
            ("GITHUB_BASE_REF", g("base_ref")),
            ("GITHUB_EVENT_NAME", g("event_name")),
            ("GITHUB_EVENT_PATH", g("event_path")),
            ("GITHUB_REPOSITORY", g("repository")),
            ("GITHUB_REPOSITORY_OWNER", g("repository_owner")),
            ("GITHUB_RUN_ID", g("run_id")),
            ("GITHUB_RUN_NUMBER", g("run_number")),
            ("GITHUB_RUN_ATTEMPT", g("run_attempt")),
            ("GITHUB_ACTOR", g("actor")),
            ("GITHUB_TRIGGERING_ACTOR", g("actor")),
            ("GITHUB_WORKFLOW", g("workflow")),
            ("GITHUB_WORKFLOW_REF", g("workflow_ref")),
            ("GITHUB_JOB", self.key.clone()),
            ("GITHUB_SERVER_URL", g("server_url")),
            ("GITHUB_API_URL", g("api_url")),
            ("GITHUB_GRAPHQL_URL", g("graphql_url")),
            ("GITHUB_RETENTION_DAYS", "90".to_string()),
            ("RUNNER_OS", runner_os().to_string()),
            ("RUNNER_ARCH", runner_arch().to_string()),
            ("RUNNER_NAME", "gantry".to_string()),
            ("RUNNER_ENVIRONMENT", "self-hosted".to_string()),
            ("RUNNER_TEMP", self.temp.display().to_string()),
            ("RUNNER_TOOL_CACHE", self.tool_cache.display().to_string()),
        ] {
            env.insert(k.to_string(), v);
        }
        let _ = options;
        for (k, v) in &self.env {
            env.insert(k.clone(), v.clone());
        }
        for (k, v) in step_env.iter().chain(extra) {
            env.insert(k.clone(), v.clone());
        }
        if !self.path_prepend.is_empty() {
            let mut parts: Vec<String> = self.path_prepend.iter().rev().cloned().collect();
            if let Some(p) = env.get("PATH") {
                parts.push(p.clone());
            }
            env.insert("PATH".into(), parts.join(":"));
        }
        env.into_iter().collect()
    }

    #[allow(clippy::too_many_arguments)]
    async fn exec_run(
        &mut self,
        scope: &Scope,
        run: &Text,
        shell: Option<&Text>,
        working_directory: Option<&Text>,
        step_env: &[(String, String)],
        timeout: Option<Duration>,
        log: &mut LogSink,
    ) -> StepExec {
        let script = match expand(&run.value, scope) {
            Ok(s) => s,
            Err(e) => return StepExec::failed(format!("the script: {e}"), log),
        };
        let shell = match shell {
            Some(s) => match expand(&s.value, scope) {
                Ok(s) => Some(s),
                Err(e) => return StepExec::failed(format!("shell: {e}"), log),
            },
            None => self.defaults_shell.clone(),
        };
        let dir = match working_directory
            .map(|w| expand(&w.value, scope))
            .transpose()
        {
            Ok(dir) => dir.or_else(|| self.defaults_dir.clone()),
            Err(e) => return StepExec::failed(format!("working-directory: {e}"), log),
        };
        let dir = match dir {
            Some(d) => self.workspace.join(d),
            None => self.workspace.clone(),
        };
        if !dir.is_dir() {
            return StepExec::failed(
                format!("the working directory {} does not exist", dir.display()),
                log,
            );
        }
        self.exec_process(shell.as_deref(), &script, &dir, step_env, timeout, log)
            .await
    }

    /// Runs a script through a shell and processes what it writes to the
    /// runner: workflow commands and the command files.
    pub(crate) async fn exec_process(
        &mut self,
        shell: Option<&str>,
        script: &str,
        dir: &Path,
        step_env: &[(String, String)],
        timeout: Option<Duration>,
        log: &mut LogSink,
    ) -> StepExec {
        let extra = self.command_files.env();
        let env = self.process_env(step_env, &extra);
        let path_var = env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let invocation = match shell::invocation(shell, script, &self.temp, &path_var) {
            Ok(i) => i,
            Err(e) => return StepExec::failed(e, log),
        };
        if let Some((path, contents)) = &invocation.script_file
            && let Err(e) = write_private(path, contents)
        {
            return StepExec::failed(
                format!("cannot write the script {}: {e}", path.display()),
                log,
            );
        }
        let insecure = env
            .iter()
            .any(|(k, v)| k == "ACTIONS_ALLOW_UNSECURE_COMMANDS" && v.eq_ignore_ascii_case("true"));
        let mut handler = LineHandler {
            stopper: Stopper::default(),
            outputs: Vec::new(),
            env_sets: Vec::new(),
            path_adds: Vec::new(),
            insecure,
            echo: false,
        };
        let spec = process::Spec {
            program: &invocation.program,
            args: &invocation.args,
            dir,
            env: &env,
            timeout,
            grace: self.shared.options.grace,
        };
        let masker = self.shared.masker.clone();
        // A step that starts after the job was cancelled (an `always()` or
        // `cancelled()` step) runs to its end; only a forced stop ends it.
        let stop = if self.cancel.is_cancelled() {
            self.shared.force.clone()
        } else {
            self.cancel.clone()
        };
        let result = process::run(spec, &stop, |stream, line| {
            handler.on_line(stream, &line, log, &masker)
        })
        .await;
        if let Some((path, _)) = &invocation.script_file {
            let _ = std::fs::remove_file(path);
        }
        let exit = match result {
            Ok(exit) => exit,
            Err(e) => {
                return StepExec::failed(
                    format!("cannot start `{}`: {e}", invocation.program),
                    log,
                );
            }
        };
        // What the step wrote to the command files.
        let mut outputs = handler.outputs;
        let mut file_error = None;
        let files = &self.command_files;
        let take = |file: CommandFile| {
            files
                .take(file)
                .map_err(|e| format!("cannot read {}: {e}", files.path(file).display()))
        };
        match take(CommandFile::Output)
            .and_then(|t| files::parse_key_values("GITHUB_OUTPUT", &t).map_err(|e| e.to_string()))
        {
            Ok(pairs) => outputs.extend(pairs),
            Err(e) => file_error = Some(e),
        }
        match take(CommandFile::Env)
            .and_then(|t| files::parse_key_values("GITHUB_ENV", &t).map_err(|e| e.to_string()))
        {
            Ok(pairs) => {
                for (k, v) in handler.env_sets.into_iter().chain(pairs) {
                    self.env.insert(k, v);
                }
            }
            Err(e) => file_error = Some(e),
        }
        match take(CommandFile::Path) {
            Ok(text) => self.path_prepend.extend(files::parse_path(&text)),
            Err(e) => file_error = Some(e),
        }
        self.path_prepend.extend(handler.path_adds);
        // `$GITHUB_STATE` feeds post steps of JavaScript actions, which
        // gantry does not run; it is emptied all the same.
        if let Err(e) = take(CommandFile::State) {
            file_error = Some(e);
        }
        match take(CommandFile::StepSummary) {
            Ok(summary) => self.summary.push_str(&self.shared.masker.mask(&summary)),
            Err(e) => file_error = Some(e),
        }
        let outcome = match exit {
            Exit::Code(0) if file_error.is_none() => Conclusion::Success,
            Exit::Code(0) => {
                if let Some(e) = &file_error {
                    log.error(e);
                }
                Conclusion::Failure
            }
            Exit::Code(code) => {
                log.error(&format!("process completed with exit code {code}"));
                Conclusion::Failure
            }
            Exit::TimedOut => {
                log.error("the step ran past its timeout and was stopped");
                Conclusion::Failure
            }
            Exit::Cancelled => {
                log.error("the step was cancelled");
                Conclusion::Cancelled
            }
        };
        StepExec {
            outcome,
            exit_code: match exit {
                Exit::Code(c) => Some(c),
                _ => None,
            },
            outputs,
        }
    }

    /// Runs a `uses:` step.
    async fn exec_uses(
        &mut self,
        uses: &str,
        inputs: &IndexMap<String, String>,
        step_env: &[(String, String)],
        timeout: Option<Duration>,
        frame: Option<&ActionFrame>,
        log: &mut LogSink,
    ) -> StepExec {
        // `./` is relative to the workspace, inside actions too, as on GitHub.
        let local = if let Some(p) = uses.strip_prefix("./") {
            Some(self.workspace.join(p))
        } else {
            uses.strip_prefix("$/")
                .map(|p| self.shared.options.repo.join(p))
        };
        if let Some(dir) = local {
            let depth = frame.map_or(0, |f| f.depth) + 1;
            return self
                .exec_local_action(uses, &dir, inputs, step_env, timeout, depth, log)
                .await;
        }
        if let Some(image) = uses.strip_prefix("docker://") {
            return self.unsupported(
                &format!(
                    "`{uses}` runs the container `{image}`, and gantry runs steps without Docker"
                ),
                log,
            );
        }
        let (name, reference) = uses.split_once('@').unwrap_or((uses, ""));
        let _ = step_env;
        match actions::find(&name.to_ascii_lowercase()) {
            Some(action) => {
                action
                    .run(actions::ActionContext {
                        run: self,
                        reference,
                        inputs,
                        log,
                    })
                    .await
            }
            None => self.unsupported(
                &format!("`{uses}` is not one of gantry's built-in actions, and gantry does not download actions"),
                log,
            ),
        }
    }

    fn unsupported(&mut self, why: &str, log: &mut LogSink) -> StepExec {
        if self.shared.options.skip_unsupported {
            log.warning(&format!("{why}; skipping the step (--skip-unsupported)"));
            StepExec {
                outcome: Conclusion::Skipped,
                exit_code: None,
                outputs: Vec::new(),
            }
        } else {
            StepExec::failed(
                format!(
                    "{why}. Run it on GitHub, replace it with a `run:` step or a local action, or pass --skip-unsupported to skip such steps"
                ),
                log,
            )
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn exec_local_action(
        &mut self,
        uses: &str,
        dir: &Path,
        inputs: &IndexMap<String, String>,
        step_env: &[(String, String)],
        timeout: Option<Duration>,
        depth: usize,
        log: &mut LogSink,
    ) -> StepExec {
        if depth > MAX_ACTION_DEPTH {
            return StepExec::failed(
                format!("actions nest more than {MAX_ACTION_DEPTH} deep at `{uses}`"),
                log,
            );
        }
        let file = ["action.yml", "action.yaml"]
            .iter()
            .map(|f| dir.join(f))
            .find(|p| p.is_file());
        let Some(file) = file else {
            return StepExec::failed(
                format!(
                    "no action.yml in {} (did a checkout step run first?)",
                    dir.display()
                ),
                log,
            );
        };
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => return StepExec::failed(format!("cannot read {}: {e}", file.display()), log),
        };
        let parsed = read_action(
            SourceFile::new(file.display().to_string(), text),
            &ReadOptions::default(),
        );
        let Some(action) = parsed.value.filter(|_| !parsed.diagnostics.has_errors()) else {
            let first = parsed.diagnostics.diagnostics.iter().find(|d| d.is_error());
            let at = first
                .and_then(|d| parsed.diagnostics.position(d))
                .map(|p| format!(":{p}"))
                .unwrap_or_default();
            return StepExec::failed(
                format!(
                    "{}{at}: {}",
                    file.display(),
                    first.map_or("invalid action", |d| d.message.as_str())
                ),
                log,
            );
        };
        // Inputs: given values, else defaults evaluated here.
        let default_scope = self.scope(&Object::new());
        let mut input_values = Object::new();
        let mut input_env = Vec::new();
        for (name, def) in &action.inputs {
            let given = inputs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone());
            let value = match (given, &def.default) {
                (Some(v), _) => v,
                (None, Some(d)) => expand(&d.value, &default_scope).unwrap_or_default(),
                (None, None) => {
                    if def.required {
                        log.warning(&format!(
                            "input `{name}` is required by `{uses}` but was not given"
                        ));
                    }
                    String::new()
                }
            };
            input_env.push((input_env_name(name), value.clone()));
            input_values.insert(name.clone(), Value::String(value));
        }
        match &action.runs {
            Some(Runs::Composite { steps }) => {
                let frame = ActionFrame {
                    inputs: Value::Object(input_values),
                    depth,
                };
                let mut inner = Object::new();
                let failed_before = self.failed;
                self.failed = false;
                self.run_steps(steps, &mut inner, Some(&frame)).await;
                let failed = self.failed;
                self.failed = failed_before;
                let mut scope = self.scope(&inner);
                scope.set("inputs", frame.inputs.clone());
                let mut outputs = Vec::new();
                for (name, out) in &action.outputs {
                    if let Some(value) = &out.value {
                        match expand(&value.value, &scope) {
                            Ok(v) => outputs.push((name.clone(), v)),
                            Err(e) => log.warning(&format!("output `{name}`: {e}")),
                        }
                    }
                }
                StepExec {
                    outcome: if failed {
                        Conclusion::Failure
                    } else if self.cancel.is_cancelled() {
                        Conclusion::Cancelled
                    } else {
                        Conclusion::Success
                    },
                    exit_code: None,
                    outputs,
                }
            }
            Some(Runs::Node {
                main,
                post,
                post_if,
                ..
            }) => {
                let script = dir.join(&main.value);
                let mut env: Vec<(String, String)> = step_env.to_vec();
                env.extend(input_env);
                if let Some(post) = post {
                    self.post.push(PostStep {
                        name: format!("Post {uses}"),
                        condition: post_if
                            .as_ref()
                            .map_or_else(|| "always()".to_string(), |p| p.value.clone()),
                        action: PostAction::Node {
                            script: dir.join(&post.value),
                            env: env.clone(),
                        },
                    });
                }
                self.exec_node(&script, &env, timeout, log).await
            }
            Some(Runs::Docker { .. }) => self.unsupported(
                &format!("`{uses}` is a container action, and gantry runs steps without Docker"),
                log,
            ),
            None => StepExec::failed(format!("`{uses}` has no `runs:`"), log),
        }
    }

    async fn exec_node(
        &mut self,
        script: &Path,
        env: &[(String, String)],
        timeout: Option<Duration>,
        log: &mut LogSink,
    ) -> StepExec {
        let quoted = script.display().to_string().replace('\'', "'\\''");
        let workspace = self.workspace.clone();
        self.exec_process(
            Some("bash {0}"),
            &format!("exec node '{quoted}'"),
            &workspace,
            env,
            timeout,
            log,
        )
        .await
    }

    /// Runs the post steps registered by actions, last first.
    async fn run_post(&mut self) {
        let posts = std::mem::take(&mut self.post);
        for post in posts.into_iter().rev() {
            let scope = self.scope(&Object::new());
            let index = self.next_step;
            self.next_step += 1;
            let run = condition(
                Some(&Spanned::new(post.condition.clone(), Default::default())),
                &scope,
            )
            .unwrap_or(false);
            self.shared.emit(RunEvent::StepStarted {
                job: self.key.clone(),
                step: index,
                name: post.name.clone(),
            });
            let started = Instant::now();
            let _ =
                self.shared
                    .backend
                    .begin_step(self.job_row, step_index(index), None, &post.name);
            let mut log = LogSink::new(
                self.shared.clone(),
                &self.key,
                Some(index),
                Some(self.shared.backend.log_path(
                    self.shared.run_id,
                    self.job_row,
                    Some(step_index(index)),
                )),
            );
            let exec = if !run {
                StepExec {
                    outcome: Conclusion::Skipped,
                    exit_code: None,
                    outputs: Vec::new(),
                }
            } else {
                match post.action {
                    PostAction::SaveCache {
                        key,
                        version,
                        paths,
                    } => actions::cache::save(self, &key, &version, &paths, &mut log),
                    PostAction::Node { script, env } => {
                        self.exec_node(&script, &env, None, &mut log).await
                    }
                }
            };
            let step = Step::default();
            let mut ctx = Object::new();
            self.finish_step(&step, index, &post.name, &mut ctx, exec, false, started);
        }
    }
}

/// The inputs and place of the composite action whose steps are running.
pub(crate) struct ActionFrame {
    pub inputs: Value,
    pub depth: usize,
}

/// The `INPUT_<NAME>` variable of an action input.
fn input_env_name(name: &str) -> String {
    format!("INPUT_{}", name.replace(' ', "_").to_ascii_uppercase())
}

/// Handles each line a step prints: workflow commands, masking, groups.
struct LineHandler {
    stopper: Stopper,
    outputs: Vec<(String, String)>,
    env_sets: Vec<(String, String)>,
    path_adds: Vec<String>,
    insecure: bool,
    echo: bool,
}

impl LineHandler {
    fn on_line(&mut self, stream: Stream, line: &str, log: &mut LogSink, masker: &Masker) {
        let Some(command) = self.stopper.process(line) else {
            if !line.starts_with("::add-mask::") {
                log.line(stream, line);
            }
            return;
        };
        match command.name.as_str() {
            "add-mask" => {
                masker.add(&command.message);
                return;
            }
            "group" => {
                log.line(stream, &format!("▸ {}", command.message));
                log.group = Some(command.message.clone());
                return;
            }
            "endgroup" => {
                log.group = None;
                return;
            }
            "error" | "warning" | "notice" => {
                let line_no = command.property("line").and_then(|l| l.parse().ok());
                let file = command.property("file").map(str::to_string);
                log.annotate(&command.name, &command.message, file, line_no);
                return;
            }
            "debug" => return,
            "echo" => {
                self.echo = command.message.eq_ignore_ascii_case("on");
                return;
            }
            "set-output" => {
                log.warning(
                    "`::set-output` is deprecated; write `name=value` to $GITHUB_OUTPUT instead",
                );
                if let Some(name) = command.property("name") {
                    self.outputs
                        .push((name.to_string(), command.message.clone()));
                }
            }
            "save-state" => {
                log.warning(
                    "`::save-state` is deprecated; write `name=value` to $GITHUB_STATE instead",
                );
            }
            "set-env" | "add-path" if !self.insecure => {
                log.error(&format!(
                    "the `{}` command is disabled; write to $GITHUB_{} instead",
                    command.name,
                    if command.name == "set-env" {
                        "ENV"
                    } else {
                        "PATH"
                    }
                ));
            }
            "set-env" => {
                if let Some(name) = command.property("name") {
                    self.env_sets
                        .push((name.to_string(), command.message.clone()));
                }
            }
            "add-path" => self.path_adds.push(command.message.clone()),
            _ => {
                log.line(stream, line);
                return;
            }
        }
        if self.echo {
            log.line(stream, line);
        }
    }
}

/// Writes a file only its owner can read.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents.as_bytes())
}

pub(crate) fn runner_os() -> &'static str {
    match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "macOS",
        "windows" => "Windows",
        other => other,
    }
}

pub(crate) fn runner_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "X64",
        "aarch64" => "ARM64",
        "x86" => "X86",
        "arm" => "ARM",
        other => other,
    }
}
