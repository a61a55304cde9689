//! `gantry run`: executing a workflow on this machine, without containers.
//!
//! The [`schedule`] starts each job as soon as the jobs it needs have
//! finished, up to a parallelism limit, honouring matrices, `max-parallel`,
//! `fail-fast` and `if:`. A [`job`] runs its steps in a private workspace:
//! `run:` scripts through the shell GitHub would use, built-in
//! implementations of the common actions ([`actions`]), local composite
//! actions and local reusable workflows. Everything that happens is
//! reported as [`RunEvent`]s (for the terminal or NDJSON) and recorded
//! through a [`Backend`] (run history, logs, caches, artifacts).

pub mod actions;
mod call;
pub mod commands;
pub mod confine;
mod containers;
mod dispatch;
mod docker_action;
pub mod environment;
mod expand;
pub mod files;
mod job;
pub mod limits;
mod local_action;
mod log;
pub mod mask;
pub mod process;
pub mod reaper;
mod runners;
mod schedule;
pub mod scope;
mod script;
mod shell;
mod step;
pub mod values;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use gantry_workflow::Workflow;
use indexmap::IndexMap;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::plan::Event;
pub use expand::ExprError;
pub use mask::Masker;
pub use process::Stream;

/// How a run, job or step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Conclusion {
    Success,
    Failure,
    Cancelled,
    Skipped,
}

impl Conclusion {
    pub fn name(self) -> &'static str {
        match self {
            Conclusion::Success => "success",
            Conclusion::Failure => "failure",
            Conclusion::Cancelled => "cancelled",
            Conclusion::Skipped => "skipped",
        }
    }
}

/// The version of the event stream (`run --format json`), which its first
/// event, `run-started`, carries; raised when a field changes meaning or
/// goes away.
pub const EVENTS_VERSION: u32 = 1;

/// What happened, as it happens.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum RunEvent {
    RunStarted {
        /// [`EVENTS_VERSION`].
        version: u32,
        run_id: u64,
        workflow: String,
        event: String,
        #[serde(rename = "ref")]
        git_ref: Option<String>,
        sha: Option<String>,
    },
    JobStarted {
        job: String,
    },
    JobSkipped {
        job: String,
        reason: String,
    },
    /// A job waits before its steps (an environment's wait timer or
    /// reviewers); `reason` says for what and how to end the wait.
    JobWaiting {
        job: String,
        reason: String,
    },
    StepStarted {
        job: String,
        step: usize,
        name: String,
    },
    /// A line of a job's output; `job` is empty for the run's own lines.
    Log {
        job: String,
        step: Option<usize>,
        stream: Stream,
        line: String,
        /// The `::group::` the line is in, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        group: Option<String>,
    },
    Annotation {
        job: String,
        step: Option<usize>,
        level: String,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        file: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        line: Option<u32>,
    },
    StepFinished {
        job: String,
        step: usize,
        name: String,
        outcome: Conclusion,
        conclusion: Conclusion,
        #[serde(skip_serializing_if = "Option::is_none")]
        exit_code: Option<i32>,
        duration_ms: u64,
    },
    JobFinished {
        job: String,
        result: Conclusion,
        duration_ms: u64,
        cache_hits: u32,
        cache_misses: u32,
    },
    RunFinished {
        run_id: u64,
        conclusion: Conclusion,
        duration_ms: u64,
    },
}

/// A run as recorded in the history.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub workflow_path: String,
    pub workflow_name: String,
    pub event: String,
    pub git_ref: Option<String>,
    pub commit: Option<String>,
    pub inputs_json: String,
}

/// The result of restoring a cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheRestore {
    pub matched_key: String,
    pub exact: bool,
}

/// An artifact as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactStored {
    pub name: String,
    pub files: u64,
    pub bytes: u64,
}

/// The error of a [`Backend`] implementation, boxed so the engine does not
/// depend on the store behind it.
pub type BackendSource = Box<dyn std::error::Error + Send + Sync>;

/// Why a [`Backend`] call failed: the implementation's own error, with
/// what it was doing when the implementation says so.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// The implementation's error as it is.
    #[error(transparent)]
    Failed(BackendSource),
    /// The implementation's error and what was being done.
    #[error("{context}: {source}")]
    Context {
        context: String,
        #[source]
        source: BackendSource,
    },
}

impl BackendError {
    /// The implementation's error `source`.
    pub fn new(source: impl Into<BackendSource>) -> Self {
        BackendError::Failed(source.into())
    }

    /// `source`, said to have happened while doing `context`.
    pub fn with_context(context: impl Into<String>, source: impl Into<BackendSource>) -> Self {
        BackendError::Context {
            context: context.into(),
            source: source.into(),
        }
    }

    /// The implementation's error, to downcast to its own type.
    pub fn inner(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        match self {
            BackendError::Failed(source) | BackendError::Context { source, .. } => source.as_ref(),
        }
    }
}

/// Where runs are recorded and caches and artifacts kept.
pub trait Backend: Send + Sync {
    fn begin_run(&self, run: &RunRecord) -> Result<u64, BackendError>;
    fn finish_run(&self, run: u64, conclusion: Conclusion) -> Result<(), BackendError>;
    /// Records a job's start; `queued` is how long it waited for a runner
    /// slot once it was ready (`None` for a job that never runs).
    fn begin_job(
        &self,
        run: u64,
        job_id: &str,
        name: &str,
        matrix_json: Option<&str>,
        queued: Option<Duration>,
    ) -> Result<u64, BackendError>;
    fn finish_job(
        &self,
        job: u64,
        conclusion: Conclusion,
        outputs: &[(String, String)],
    ) -> Result<(), BackendError>;
    /// Records the start of step `index` of a job (indexes count up from
    /// 0 in the order steps start, post steps included).
    fn begin_step(
        &self,
        job: u64,
        index: u32,
        step_id: Option<&str>,
        name: &str,
    ) -> Result<(), BackendError>;
    #[allow(clippy::too_many_arguments)]
    fn finish_step(
        &self,
        job: u64,
        index: u32,
        outcome: Conclusion,
        conclusion: Conclusion,
        exit_code: Option<i32>,
        outputs: &[(String, String)],
    ) -> Result<(), BackendError>;
    /// The file a job's log (`step: None`) or a step's log is written to.
    fn log_path(&self, run: u64, job: u64, step: Option<u32>) -> PathBuf;
    fn record_cache(&self, run: u64, key: &str, hit: Option<&str>) -> Result<(), BackendError>;
    /// Saves `paths` (relative to `root`) under `key`; `false` if the key
    /// already exists (caches are immutable).
    fn save_cache(
        &self,
        key: &str,
        version: &str,
        root: &Path,
        paths: &[String],
    ) -> Result<bool, BackendError>;
    /// Restores the exact key, else the newest entry starting with a
    /// restore key.
    fn restore_cache(
        &self,
        keys: &[String],
        version: &str,
        dest: &Path,
    ) -> Result<Option<CacheRestore>, BackendError>;
    fn upload_artifact(
        &self,
        run: u64,
        name: &str,
        root: &Path,
        paths: &[String],
        retention_days: Option<u32>,
    ) -> Result<ArtifactStored, BackendError>;
    /// Downloads artifacts whose names match `pattern` (all when `None`).
    fn download_artifact(
        &self,
        run: u64,
        pattern: Option<&str>,
        dest: &Path,
        per_artifact_dirs: bool,
    ) -> Result<Vec<ArtifactStored>, BackendError>;
    /// Records a test report a job read (`gantry/test-report`), or why it
    /// could not be read. A backend that keeps no test results ignores it.
    fn record_test_report(
        &self,
        run: u64,
        job: u64,
        path: &str,
        report: Result<&gantry_tests::ParsedReport, &gantry_tests::ParseError>,
    ) -> Result<(), BackendError> {
        let _ = (run, job, path, report);
        Ok(())
    }
    /// Environments' protection rules and deployments, for jobs with
    /// `environment:`; `None` (the default): the environment is only a
    /// name and such jobs run as any other.
    fn environments(&self) -> Option<Arc<dyn environment::Environments>> {
        None
    }
}

/// Everything a run needs besides the workflow.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The repository (or folder) the workflow belongs to.
    pub repo: PathBuf,
    /// Where job workspaces are made.
    pub work_dir: PathBuf,
    /// The event that started the run.
    pub event: Event,
    /// The commit the run is for, when known.
    pub sha: Option<String>,
    pub secrets: IndexMap<String, String>,
    pub vars: IndexMap<String, String>,
    /// How many jobs may run at once.
    pub parallel: usize,
    /// Copy uncommitted changes into workspaces, not only committed files.
    pub include_uncommitted: bool,
    /// Skip remote actions gantry cannot run, with a warning, instead of
    /// failing the step.
    pub skip_unsupported: bool,
    /// How long a stopped process group gets before SIGKILL.
    pub grace: Duration,
    /// Keep job workspaces after the run.
    pub keep_workspaces: bool,
    /// Matrix filters and the results of needed jobs left out of the run.
    pub selection: crate::select::Selection,
    /// `-P LABEL=host`: runner labels that run on this machine whatever
    /// operating system they name.
    pub platforms: Vec<(String, String)>,
    /// The store marketplace actions (`uses: owner/repo@ref`) come from;
    /// `None`: they are not run (only built-in ones).
    pub actions: Option<gantry_actions::ActionStore>,
    /// What a `setup-*` action does when no installed toolchain matches.
    pub toolchain_mismatch: ToolchainMismatch,
    /// How jobs with `container:` or `services:` run.
    pub containers: ContainerOptions,
}

/// What a `setup-*` action does when no installed toolchain satisfies the
/// version asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ToolchainMismatch {
    /// The step fails, naming what is installed.
    #[default]
    Fail,
    /// The nearest installed version runs, with a warning.
    Warn,
}

/// How jobs with `container:` or `services:` run.
#[derive(Debug, Clone)]
pub struct ContainerOptions {
    /// `--container-engine`, or the first of podman and docker on `PATH`.
    pub engine: gantry_container::EngineChoice,
    /// How long a service container may take to become healthy.
    pub health_timeout: Duration,
}

impl Default for ContainerOptions {
    fn default() -> Self {
        ContainerOptions {
            engine: gantry_container::EngineChoice::Detect,
            health_timeout: Duration::from_secs(5 * 60),
        }
    }
}

/// How a run is stopped from outside.
#[derive(Debug, Clone, Default)]
pub struct Stop {
    /// Cancel the run as GitHub does (a first Ctrl-C): running steps are
    /// stopped; `always()` and `cancelled()` steps and jobs still run.
    pub graceful: CancellationToken,
    /// Stop everything now (a second Ctrl-C).
    pub force: CancellationToken,
}

/// Evaluates a template string (text with `${{ }}`) to text.
pub fn expand_text(text: &str, scope: &scope::Scope) -> Result<String, ExprError> {
    expand::expand(text, scope)
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    #[error(transparent)]
    Jobs(#[from] limits::JobsError),
    #[error("failed to record the run: {0}")]
    Record(#[source] BackendError),
    #[error("failed to create the work folder {}: {source}", path.display())]
    WorkDir {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Actions the store lacks, each `owner/repo@ref`; said before any
    /// job starts.
    #[error("{} not in the actions store: {}", if missing.len() == 1 { "an action the workflow uses is" } else { "actions the workflow uses are" }, missing.join(", "))]
    MissingActions { missing: Vec<String> },
    #[error("failed to write the event payload {}: {source}", path.display())]
    EventFile {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Runs a workflow to its end; returns the run's id and conclusion.
pub async fn run(
    workflow: Arc<Workflow>,
    options: Arc<RunOptions>,
    backend: Arc<dyn Backend>,
    masker: Masker,
    events: UnboundedSender<RunEvent>,
    stop: Stop,
) -> Result<(u64, Conclusion), RunError> {
    schedule::run_workflow(workflow, options, backend, masker, events, stop).await
}
