//! Running one job (one matrix combination): its steps, in order, in a
//! private workspace.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gantry_expr::{Object, Value};
use gantry_workflow::model::{Job, JobKind, Spanned, Step, StepsJob, Workflow};
use indexmap::IndexMap;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::expand::{
    EnvError, ExprError, condition, expand, expand_env, or_expr_bool, or_expr_minutes,
};
pub(crate) use super::log::LogSink;
use super::runners::{CommandFiles, Runner};
use super::scope::{Scope, Status, strings};
pub(crate) use super::step::StepExec;
use super::step::step_index;
use super::{Backend, Conclusion, Masker, RunEvent, RunOptions, actions};

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
    /// The tracking ids of the run's processes.
    pub tracking: super::reaper::RunTracking,
}

impl Shared {
    pub(crate) fn emit(&self, event: RunEvent) {
        // A skip's reason may quote an expression error, and so a value.
        let event = match event {
            RunEvent::JobSkipped { job, reason } => RunEvent::JobSkipped {
                job,
                reason: self.masker.mask(&reason),
            },
            event => event,
        };
        let _ = self.events.send(event);
    }

    /// Says, on the run's own line (no job), that recording part of the
    /// run's history failed: the run goes on, only its record is
    /// incomplete.
    pub(crate) fn history_failed(&self, error: &super::BackendError) {
        self.emit(RunEvent::Log {
            job: String::new(),
            step: None,
            stream: super::Stream::Stderr,
            line: format!("warning: {error}"),
            group: None,
        });
    }

    /// Reports a failed history write, if `result` is one.
    pub(crate) fn recorded(&self, result: Result<(), super::BackendError>) {
        if let Err(e) = result {
            self.history_failed(&e);
        }
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
    /// How long it waited for a runner slot once ready.
    pub queued: Duration,
}

/// How a job ended and what it produced.
#[derive(Debug, Clone)]
pub(crate) struct JobResult {
    pub conclusion: Conclusion,
    pub outputs: IndexMap<String, String>,
}

impl JobResult {
    pub(crate) fn without_outputs(conclusion: Conclusion) -> Self {
        JobResult {
            conclusion,
            outputs: IndexMap::new(),
        }
    }
}

/// Why a job could not start its steps.
#[derive(Debug, thiserror::Error)]
enum SetupError {
    #[error("{place} env `{name}`: {source}")]
    Env {
        place: &'static str,
        name: String,
        source: Box<ExprError>,
    },
    #[error(transparent)]
    Expr(Box<ExprError>),
    #[error(
        "`runs-on: {label}` asks for a {os} runner, and gantry runs jobs on this {host} machine; if the job runs here too, map the label to it with `-P {label}=host`"
    )]
    Platform {
        label: String,
        os: &'static str,
        host: &'static str,
    },
}

/// The operating system a GitHub-hosted or self-hosted runner label asks
/// for, when it names one.
fn label_os(label: &str) -> Option<&'static str> {
    let lower = label.to_ascii_lowercase();
    if lower.starts_with("windows") {
        Some("Windows")
    } else if lower.starts_with("macos") || lower == "osx" {
        Some("macOS")
    } else if lower.starts_with("ubuntu") || lower == "linux" {
        Some("Linux")
    } else {
        None
    }
}

impl From<ExprError> for SetupError {
    fn from(e: ExprError) -> Self {
        SetupError::Expr(Box::new(e))
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
    /// A Docker action's `post-entrypoint`.
    Docker(super::docker_action::DockerPost),
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
    /// The tracking ids of the job's processes.
    pub tracking: super::reaper::JobTracking,
    /// `environment.url`, evaluated when the steps are done.
    pub environment_url: Option<String>,
    /// Actions skipped because gantry cannot run them
    /// (`--skip-unsupported`): a job that skipped any did not do its work
    /// and concludes `skipped`, not `success`.
    pub not_run: Vec<String>,
    /// What each marketplace JavaScript action's `pre` saved
    /// (`$GITHUB_STATE`), by its step, for its main and post.
    pub pre_state: std::collections::HashMap<usize, Vec<(String, String)>>,
    /// The top-level step running now (its address), so its action finds
    /// what its `pre` saved.
    pub step_key: Option<usize>,
    /// What the last process wrote to `$GITHUB_STATE` (or `::save-state`).
    pub saved_state: Vec<(String, String)>,
    /// `GITHUB_ACTION_PATH` of the processes of the action running now.
    pub action_path: Option<PathBuf>,
    /// The job's service containers and job container, while they run.
    pub containers: Option<super::containers::JobContainers>,
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

/// Runs one job instance to its end.
pub(crate) async fn run_job(shared: Arc<Shared>, mut spec: JobSpec) -> JobResult {
    let started = Instant::now();
    let JobKind::Steps(steps_job) = &spec.job.kind else {
        return JobResult::without_outputs(Conclusion::Failure);
    };
    let job_row = shared
        .backend
        .begin_job(
            shared.run_id,
            &spec.job.id.value,
            &spec.key,
            spec.matrix_json.as_deref(),
            Some(spec.queued),
        )
        .unwrap_or_else(|e| {
            // The job still runs; its history rows are then missing.
            shared.history_failed(&e);
            0
        });
    shared.emit(RunEvent::JobStarted {
        job: spec.key.clone(),
    });
    let mut log = LogSink::new(
        shared.clone(),
        &spec.key,
        None,
        Some(shared.backend.log_path(shared.run_id, job_row, None)),
    );
    // A job in an environment may be refused, or wait, before it takes a
    // runner.
    let entered = match &steps_job.environment {
        None => None,
        Some(env) => {
            let env = env.clone();
            match super::environment::enter(&shared, &mut spec, &env, &mut log).await {
                Ok(entered) => entered,
                Err(()) => {
                    return finish(&shared, &spec.key, job_row, JobEnd::failed(), started);
                }
            }
        }
    };
    let JobKind::Steps(steps_job) = &spec.job.kind else {
        return JobResult::without_outputs(Conclusion::Failure);
    };
    let runner = match shared.runners.take() {
        Ok(runner) => runner,
        Err(e) => {
            log.error(&format!(
                "cannot create the job's folders under {}: {e}",
                shared.options.work_dir.display()
            ));
            let end = JobEnd::failed();
            return finish(&shared, &spec.key, job_row, end, started);
        }
    };
    let mut run = JobRun::new(shared.clone(), &spec, job_row, &runner);
    let mut conclusion = match run.setup(steps_job) {
        Err(message) => {
            log.error(&message.to_string());
            Conclusion::Failure
        }
        Ok(timeout) if super::containers::wanted(steps_job) => {
            match run.start_containers(steps_job, &mut log).await {
                Ok(()) => run.run_to_end(steps_job, timeout, &mut log).await,
                Err(message) => {
                    log.error(&message);
                    if run.cancel.is_cancelled() {
                        Conclusion::Cancelled
                    } else {
                        Conclusion::Failure
                    }
                }
            }
        }
        Ok(timeout) => run.run_to_end(steps_job, timeout, &mut log).await,
    };
    if let Some(entered) = &entered {
        // Before the job's processes end: a health check may need what a
        // step started.
        conclusion = leave_environment(&shared, entered, &mut run, conclusion, &mut log).await;
    }
    // Its services and container go with the job, whatever its end.
    run.remove_containers(&mut log).await;
    // Whatever the job's steps left running ends with the job.
    run.tracking.end();
    let keep = shared.options.keep_workspaces.then(|| {
        shared
            .options
            .work_dir
            .join(format!("{}-{job_row}", sanitize(&spec.key)))
    });
    shared.runners.give_back(runner, keep.as_deref());
    let conclusion = if conclusion == Conclusion::Success && !run.not_run.is_empty() {
        log.warning(&format!(
            "the job is `skipped`, not `success`: {} of its steps did not run ({}), because gantry cannot run them",
            run.not_run.len(),
            run.not_run.join(", ")
        ));
        Conclusion::Skipped
    } else {
        conclusion
    };
    let continue_on_error =
        or_expr_bool(&steps_job.continue_on_error, &spec.scope).unwrap_or(false);
    let conclusion = if conclusion == Conclusion::Failure && continue_on_error {
        log.warning("the job failed, but `continue-on-error` lets the run go on");
        Conclusion::Success
    } else {
        conclusion
    };
    let end = JobEnd {
        conclusion,
        outputs: std::mem::take(&mut run.outputs),
        cache_hits: run.cache_hits,
        cache_misses: run.cache_misses,
    };
    finish(&shared, &spec.key, job_row, end, started)
}

/// Tells the environment how the job ended, with its URL evaluated now.
async fn leave_environment(
    shared: &Arc<Shared>,
    entered: &super::environment::Entered,
    run: &mut JobRun,
    conclusion: Conclusion,
    log: &mut LogSink,
) -> Conclusion {
    let exit = super::environment::EnvironmentExit {
        conclusion,
        url: run.environment_url.take(),
    };
    let lock = std::sync::Mutex::new(&mut *log);
    let key = run.key.clone();
    let say = |s| super::environment::sayer(&lock, shared, &key, s);
    entered
        .hooks
        .leave(&entered.entry, &entered.admission, exit, &say)
        .await
}

/// How a job instance ended, for its record.
struct JobEnd {
    conclusion: Conclusion,
    outputs: IndexMap<String, String>,
    cache_hits: u32,
    cache_misses: u32,
}

impl JobEnd {
    fn failed() -> Self {
        JobEnd {
            conclusion: Conclusion::Failure,
            outputs: IndexMap::new(),
            cache_hits: 0,
            cache_misses: 0,
        }
    }
}

fn finish(shared: &Shared, key: &str, job_row: u64, end: JobEnd, started: Instant) -> JobResult {
    let pairs: Vec<(String, String)> = end
        .outputs
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    shared.recorded(shared.backend.finish_job(job_row, end.conclusion, &pairs));
    shared.emit(RunEvent::JobFinished {
        job: key.to_string(),
        result: end.conclusion,
        duration_ms: started.elapsed().as_millis() as u64,
        cache_hits: end.cache_hits,
        cache_misses: end.cache_misses,
    });
    JobResult {
        conclusion: end.conclusion,
        outputs: end.outputs,
    }
}

impl JobRun {
    fn new(shared: Arc<Shared>, spec: &JobSpec, job_row: u64, runner: &Runner) -> Self {
        let tracking = shared.tracking.job();
        JobRun {
            shared,
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
            tracking,
            environment_url: None,
            not_run: Vec::new(),
            pre_state: std::collections::HashMap::new(),
            step_key: None,
            saved_state: Vec::new(),
            action_path: None,
            containers: None,
        }
    }

    /// The job container, when the job's steps run in one.
    pub(crate) fn in_container(&self) -> Option<&gantry_container::ContainerInfo> {
        self.containers.as_ref().and_then(|c| c.job_container())
    }

    /// Runs the steps and post steps within the job's timeout, then
    /// evaluates the job's outputs.
    async fn run_to_end(
        &mut self,
        steps_job: &StepsJob,
        timeout: Duration,
        log: &mut LogSink,
    ) -> Conclusion {
        self.deadline = Instant::now() + timeout;
        let job_cancel = self.cancel.clone();
        let timer = tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            job_cancel.cancel();
        });
        let mut steps_ctx = Object::new();
        self.run_pre(&steps_job.steps).await;
        self.run_steps(&steps_job.steps, &mut steps_ctx, None).await;
        self.run_post().await;
        timer.abort();
        let timed_out = Instant::now() >= self.deadline;
        if timed_out {
            log.error(&format!(
                "the job ran longer than its timeout of {} minutes and was stopped",
                timeout.as_secs_f64() / 60.0
            ));
        }
        let scope = self.scope(&steps_ctx);
        for (name, value) in &steps_job.outputs {
            match expand(&value.value.value, &scope) {
                Ok(v) => {
                    let masked = self.shared.masker.mask(&v);
                    self.outputs.insert(name.clone(), masked);
                }
                Err(e) => log.warning(&format!("output `{name}`: {e}")),
            }
        }
        if let Some(url) = steps_job.environment.as_ref().and_then(|e| e.url.as_ref()) {
            match expand(&url.value, &scope) {
                Ok(v) if !v.is_empty() => self.environment_url = Some(self.shared.masker.mask(&v)),
                Ok(_) => {}
                Err(e) => log.warning(&format!("environment url: {e}")),
            }
        }
        if self.failed || timed_out {
            Conclusion::Failure
        } else if self.cancel.is_cancelled() {
            Conclusion::Cancelled
        } else {
            Conclusion::Success
        }
    }

    /// Refuses a job whose `runs-on` names another operating system than
    /// this machine's, unless `-P LABEL=host` maps one of its labels here.
    fn check_platform(&self, job: &StepsJob, scope: &Scope) -> Result<(), SetupError> {
        use gantry_workflow::model::RunsOn;
        let texts = match &job.runs_on {
            Some(RunsOn::Labels(labels)) => labels,
            Some(RunsOn::Group { labels, .. }) => labels,
            None => return Ok(()),
        };
        let mut labels = Vec::new();
        for text in texts {
            let value = expand(&text.value, scope)?;
            // An expression may give a list of labels as JSON.
            match serde_json::from_str::<Vec<String>>(&value) {
                Ok(list) => labels.extend(list),
                Err(_) => labels.push(value),
            }
        }
        let mapped = &self.shared.options.platforms;
        if labels
            .iter()
            .any(|l| mapped.iter().any(|(m, _)| m.eq_ignore_ascii_case(l)))
        {
            return Ok(());
        }
        let host = runner_os();
        match labels
            .iter()
            .find_map(|l| label_os(l).filter(|os| *os != host).map(|os| (l, os)))
        {
            Some((label, os)) => Err(SetupError::Platform {
                label: label.clone(),
                os,
                host,
            }),
            None => Ok(()),
        }
    }

    /// Evaluates the workflow and job settings; returns the job's timeout.
    fn setup(&mut self, job: &StepsJob) -> Result<Duration, SetupError> {
        let scope = self.base.clone();
        let env_error = |place| {
            move |e: EnvError| SetupError::Env {
                place,
                name: e.name,
                source: Box::new(e.source),
            }
        };
        let workflow_env = expand_env(&self.workflow.env, &scope).map_err(env_error("workflow"))?;
        self.env.extend(workflow_env);
        let with_env = self.scope(&Object::new());
        let job_env = expand_env(&job.env, &with_env).map_err(env_error("job"))?;
        self.env.extend(job_env);
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
        self.check_platform(job, &scope)?;
        if let Some(t) = or_expr_minutes(
            "cancel-timeout-minutes",
            &job.cancel_timeout_minutes,
            &scope,
        )? {
            self.cancel_timeout = t;
        }
        Ok(
            or_expr_minutes("timeout-minutes", &job.timeout_minutes, &scope)?
                .unwrap_or(Duration::from_secs(360 * 60)),
        )
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
        if let Some(containers) = &self.containers {
            let (container, services) = containers.contexts();
            if let Some(container) = container {
                job.insert("container".into(), container);
            }
            job.insert("services".into(), services);
        }
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

    /// Starts a step that is not in the workflow (an action's pre or
    /// post): its index, log and start time.
    pub(crate) fn begin_extra_step(&mut self, name: &str) -> (usize, LogSink, Instant) {
        let index = self.next_step;
        self.next_step += 1;
        self.shared.emit(RunEvent::StepStarted {
            job: self.key.clone(),
            step: index,
            name: name.to_string(),
        });
        let started = Instant::now();
        self.shared.recorded(self.shared.backend.begin_step(
            self.job_row,
            step_index(index),
            None,
            name,
        ));
        let log = LogSink::new(
            self.shared.clone(),
            &self.key,
            Some(index),
            Some(self.shared.backend.log_path(
                self.shared.run_id,
                self.job_row,
                Some(step_index(index)),
            )),
        );
        (index, log, started)
    }

    /// Runs the post steps registered by actions, last first.
    async fn run_post(&mut self) {
        let posts = std::mem::take(&mut self.post);
        for post in posts.into_iter().rev() {
            let scope = self.scope(&Object::new());
            let run = condition(
                Some(&Spanned::new(post.condition.clone(), Default::default())),
                &scope,
            )
            .unwrap_or(false);
            let (index, mut log, started) = self.begin_extra_step(&post.name);
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
                    PostAction::Docker(post) => self.exec_docker_post(post, &mut log).await,
                }
            };
            let step = Step::default();
            let mut ctx = Object::new();
            self.finish_step(&step, index, &post.name, &mut ctx, exec, false, started);
        }
    }
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
