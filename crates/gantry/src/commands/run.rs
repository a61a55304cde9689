//! `gantry run`: execute workflows on this machine.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use gantry_engine::concurrency::{LockError, Waiting};
use gantry_engine::plan::{SelectError, select_runs};
use gantry_engine::run::{Conclusion, RunEvent, Stop, Stream, values};
use gantry_engine::session::{self, Session, SessionError};
use gantry_store::Home;
use gantry_workflow::Workflow;
use indexmap::IndexMap;

use super::{CliError, read_text};
use crate::Outcome;
use crate::render;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum RunFormat {
    /// Live output prefixed by job, and a summary.
    #[default]
    Human,
    /// Newline-delimited JSON events on stdout.
    Json,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Workflow files, or names under `.github/workflows/` [default: every
    /// workflow the event triggers].
    pub workflows: Vec<PathBuf>,

    /// The event: push, pull_request, workflow_dispatch, ...
    #[arg(long, short = 'e', default_value = "push")]
    pub event: String,

    /// The branch or tag [default: the current branch].
    #[arg(long = "ref", value_name = "REF")]
    pub git_ref: Option<String>,

    /// A workflow input, `NAME=VALUE` (repeatable).
    #[arg(long = "input", short = 'i', value_name = "NAME=VALUE")]
    pub inputs: Vec<String>,

    /// A webhook payload as JSON (`github.event`).
    #[arg(long, value_name = "FILE")]
    pub event_file: Option<PathBuf>,

    /// A secret, `NAME=VALUE` (repeatable). Masked in every output.
    #[arg(long = "secret", short = 's', value_name = "NAME=VALUE")]
    pub secrets: Vec<String>,

    /// A file of secrets, one `NAME=VALUE` a line (`#` comments allowed).
    #[arg(long, value_name = "FILE")]
    pub secret_file: Option<PathBuf>,

    /// A configuration variable (`vars.NAME`), `NAME=VALUE` (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,

    /// A file of variables, one `NAME=VALUE` a line.
    #[arg(long, value_name = "FILE")]
    pub var_file: Option<PathBuf>,

    /// How many jobs may run at once [default: the number of CPUs].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,

    /// Run only this job (repeatable), after the jobs it needs.
    #[arg(long = "job", value_name = "ID")]
    pub job: Vec<String>,

    /// With --job: run the job alone; what it needs comes from the newest
    /// successful run of the same workflow at the same commit.
    #[arg(long, requires = "job")]
    pub no_deps: bool,

    /// Run jobs whose `runs-on` has LABEL on this machine, whatever
    /// operating system the label names (`-P windows-latest=host`;
    /// repeatable). Without it a Windows or macOS label is refused.
    #[arg(short = 'P', long = "platform", value_name = "LABEL=host", value_parser = parse_platform)]
    pub platforms: Vec<(String, String)>,

    /// Run only the matrix combinations where KEY is VALUE (repeatable;
    /// `python:3.12`). Jobs whose matrix has no KEY are not filtered.
    #[arg(long = "matrix", value_name = "KEY:VALUE", value_parser = parse_matrix)]
    pub matrix: Vec<(String, String)>,

    /// Run `container:` and `services:` with this engine [default: the
    /// first of podman and docker on PATH].
    #[arg(long, value_name = "podman|docker", value_parser = parse_engine)]
    pub container_engine: Option<gantry_container::EngineKind>,

    /// How long a service container may take to become healthy (`30s`,
    /// `10m`) [default: 5m].
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub service_timeout: Option<Duration>,

    /// Check out uncommitted changes too, not only committed files.
    #[arg(long)]
    pub include_uncommitted: bool,

    /// Skip steps that use actions gantry cannot run offline, with a
    /// warning, instead of failing them.
    #[arg(long)]
    pub skip_unsupported: bool,

    /// Keep the job workspaces after the run (under $GANTRY_HOME/work).
    #[arg(long)]
    pub keep_workspaces: bool,

    /// When a setup action (setup-python, setup-node, setup-go,
    /// setup-java) asks for a version no installed toolchain satisfies:
    /// fail the step, or run the nearest installed version with a warning.
    #[arg(long, value_enum, value_name = "WHAT", default_value_t)]
    pub toolchain_mismatch: ToolchainMismatchArg,

    #[arg(long, value_enum, default_value_t)]
    pub format: RunFormat,

    /// How long a job waits for its environment's reviewers before it
    /// fails (`30s`, `10m`, `2h`) [default: 30 days, as GitHub].
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub approval_timeout: Option<Duration>,

    /// Sign SLSA v1 provenance for every artifact the run uploads, once it
    /// succeeds (needs --key).
    #[arg(long, requires = "key", help_heading = "Provenance")]
    pub attest: bool,

    /// The private key that signs the provenance (repeatable); encrypted
    /// keys are opened with $GANTRY_KEY_PASSWORD.
    #[arg(
        long,
        value_name = "KEY",
        requires = "attest",
        help_heading = "Provenance"
    )]
    pub key: Vec<PathBuf>,

    /// Where the signed provenance goes [default:
    /// $GANTRY_HOME/attestations/<run id>].
    #[arg(
        long,
        value_name = "DIR",
        requires = "attest",
        help_heading = "Provenance"
    )]
    pub attest_dir: Option<PathBuf>,

    /// The `builder.id` recorded in provenance: who ran the build.
    #[arg(
        long,
        value_name = "URI",
        env = "GANTRY_BUILDER_ID",
        default_value = gantry_attest::provenance::DEFAULT_BUILDER_ID,
        help_heading = "Provenance"
    )]
    pub builder_id: String,
}

fn parse_platform(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((label, "host")) if !label.trim().is_empty() => {
            Ok((label.trim().to_string(), "host".to_string()))
        }
        Some((_, other)) => Err(format!(
            "`{other}` is not a place gantry runs jobs; only `host` is (LABEL=host)"
        )),
        None => Err(format!("`{text}` is not LABEL=host")),
    }
}

/// `--toolchain-mismatch`.
#[derive(Debug, Clone, Copy, Default, clap::ValueEnum)]
pub enum ToolchainMismatchArg {
    /// The step fails, naming the installed versions.
    #[default]
    Fail,
    /// The nearest installed version runs, with a warning.
    Warn,
}

impl From<ToolchainMismatchArg> for gantry_engine::run::ToolchainMismatch {
    fn from(arg: ToolchainMismatchArg) -> Self {
        match arg {
            ToolchainMismatchArg::Fail => Self::Fail,
            ToolchainMismatchArg::Warn => Self::Warn,
        }
    }
}

fn parse_matrix(text: &str) -> Result<(String, String), String> {
    gantry_engine::select::parse_matrix(text).map_err(|e| e.to_string())
}

/// The jobs of `workflow` that `--job` asks for (all of it without
/// `--job`), and the results `--no-deps` takes from an earlier run.
fn select(
    store: &gantry_store::Store,
    root: &Path,
    workflow: Workflow,
    args: &RunArgs,
) -> Result<(Workflow, gantry_engine::select::Selection), CliError> {
    use gantry_engine::select::{GivenNeed, Selection, missing_needs, select_jobs};
    let mut selection = Selection {
        matrix: args.matrix.clone(),
        ..Selection::default()
    };
    if args.job.is_empty() {
        return Ok((workflow, selection));
    }
    let shown = workflow.source.name().to_string();
    let selected = select_jobs(&workflow, &shown, &args.job, args.no_deps).map_err(|e| {
        CliError::usage(
            e.to_string(),
            Some("`gantry plan` lists the jobs".to_string()),
        )
    })?;
    let missing = missing_needs(&selected);
    if missing.is_empty() {
        return Ok((selected, selection));
    }
    let commit = gantry_engine::source::head_commit(root).unwrap_or_default();
    let no_run = || {
        CliError::usage(
            format!(
                "--no-deps: no successful run of {shown} at commit {} to take the results of {} from",
                commit.get(..12).unwrap_or(&commit),
                missing.join(", ")
            ),
            Some("run once without --no-deps, or leave it out".to_string()),
        )
    };
    let Some((run, jobs)) = store
        .latest_success(&shown, &commit)
        .map_err(super::runs::store_error)?
    else {
        return Err(no_run());
    };
    for need in &missing {
        let records: Vec<_> = jobs
            .iter()
            .filter(|j| j.job_id.eq_ignore_ascii_case(need))
            .collect();
        if records.is_empty() {
            return Err(no_run());
        }
        let mut outputs = IndexMap::new();
        for record in &records {
            outputs.extend(record.outputs.iter().cloned());
        }
        selection.given_needs.insert(
            need.clone(),
            GivenNeed {
                result: Conclusion::Success,
                outputs,
            },
        );
    }
    selection.artifacts_from = Some(run.0);
    eprintln!(
        "gantry: --no-deps: the results, outputs and artifacts of {} come from run {run}",
        missing.join(", ")
    );
    Ok((selected, selection))
}

fn parse_engine(text: &str) -> Result<gantry_container::EngineKind, String> {
    text.parse()
        .map_err(|e: gantry_container::UnknownEngine| e.to_string())
}

/// `--container-engine` and `--service-timeout` as the engine's options.
fn container_options(args: &RunArgs) -> gantry_engine::run::ContainerOptions {
    let mut options = gantry_engine::run::ContainerOptions::default();
    if let Some(kind) = args.container_engine {
        options.engine = gantry_container::EngineChoice::Named(kind);
    }
    if let Some(t) = args.service_timeout {
        options.health_timeout = t;
    }
    options
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    gantry_deliver::health::parse_duration(text)
}

/// Reads `NAME=VALUE` pairs from an optional file, then arguments.
pub(super) fn pairs(
    items: &[String],
    file: Option<&Path>,
    what: &str,
) -> Result<IndexMap<String, String>, CliError> {
    let mut out = IndexMap::new();
    let hint = |e: &values::PairsError| match e {
        values::PairsError::Argument { .. } => Some(format!("e.g. --{what} NAME=value")),
        _ => None,
    };
    if let Some(path) = file {
        let text = read_text(path)?;
        values::parse_file(&text, &path.display().to_string(), &mut out)
            .map_err(|e| CliError::usage(e.to_string(), hint(&e)))?;
    }
    values::parse_arguments(items, what, &mut out)
        .map_err(|e| CliError::usage(e.to_string(), hint(&e)))?;
    Ok(out)
}

pub fn run(root: &Path, home: &Home, args: RunArgs) -> Result<Outcome, CliError> {
    let files = super::plan::workflow_files(root, &args.workflows)?;
    let event = super::plan::build_event(
        root,
        &super::plan::EventArgs {
            name: &args.event,
            git_ref: args.git_ref.as_deref(),
            activity: None,
            changed: &[],
            inputs: &args.inputs,
            event_file: args.event_file.as_deref(),
        },
    )?;
    let secrets = pairs(&args.secrets, args.secret_file.as_deref(), "secret")?;
    let vars = pairs(&args.vars, args.var_file.as_deref(), "var")?;
    // A key that cannot sign is found before anything runs.
    let attesting = if args.attest {
        Some(super::run_attest::Attesting {
            keys: args
                .key
                .iter()
                .map(|k| super::key::load_private(root, k))
                .collect::<Result<_, _>>()?,
            dir: args.attest_dir.as_ref().map(|d| super::user_path(root, d)),
            builder_id: args.builder_id.clone(),
        })
    } else {
        None
    };

    // Read every workflow first: invalid input stops before anything runs.
    let (read, invalid) = super::read_workflows(root, &files)?;
    let workflows: Vec<Arc<Workflow>> = match select_runs(read, &event, !args.workflows.is_empty())
    {
        Err(e @ SelectError::DoesNotRun { .. }) => {
            return Err(CliError::usage(
                e.to_string(),
                Some("pick the event with --event (and --ref, --input)".to_string()),
            ));
        }
        _ if invalid => return Ok(Outcome::Usage),
        Ok(selected) => selected.into_iter().map(Arc::new).collect(),
        Err(e) => {
            return Err(CliError::usage(
                e.to_string(),
                Some("see which would with `gantry plan`, or name a workflow".to_string()),
            ));
        }
    };

    // What a gantry that was killed (`kill -9`) left running ends now.
    for leftover in gantry_engine::run::reaper::end_leftovers() {
        eprintln!("gantry: {leftover}");
    }
    let store = crate::backend::open_store(home.root())?;
    let deployer = match super::deploy::deployer(root, home, store.clone(), args.approval_timeout)?
    {
        Ok(deployer) => Arc::new(deployer),
        Err(refused) => return Ok(refused),
    };
    // `--job` picks the workflows that have the jobs; `--matrix` and
    // `--no-deps` shape each run.
    let mut selected = Vec::new();
    let mut refused = None;
    for workflow in workflows {
        let wanted = args.job.is_empty()
            || args
                .job
                .iter()
                .any(|j| workflow.jobs.keys().any(|k| k.eq_ignore_ascii_case(j)));
        if !wanted {
            refused.get_or_insert_with(|| workflow.clone());
            continue;
        }
        let (workflow, selection) = select(&store, root, (*workflow).clone(), &args)?;
        selected.push((Arc::new(workflow), selection));
    }
    if selected.is_empty()
        && let Some(workflow) = refused
    {
        // Says which job is unknown, with a "did you mean".
        select(&store, root, (*workflow).clone(), &args)?;
    }
    // Every action the selected jobs need is in the store, or the run
    // says which are not (all at once) before any job starts.
    let actions = gantry_actions::ActionStore::new(home.actions());
    if !args.skip_unsupported {
        let missing = gantry_engine::marketplace::missing(
            selected.iter().map(|(w, _)| w.as_ref()),
            root,
            &actions,
        );
        if !missing.is_empty() {
            return Err(super::actions::missing_error(&missing));
        }
    }
    for (workflow, _) in &selected {
        warn_missing_secrets(workflow, &event, &secrets, &deployer.environments);
    }
    let backend = crate::backend::backend(store, deployer.clone());
    let runtime = runtime()?;
    let mut session = Session {
        repo: root.to_path_buf(),
        work_root: home.work(),
        locks: home.locks(),
        event,
        secrets,
        vars,
        jobs: args.jobs,
        include_uncommitted: args.include_uncommitted,
        skip_unsupported: args.skip_unsupported,
        keep_workspaces: args.keep_workspaces,
        commit: None,
        selection: Default::default(),
        platforms: args.platforms.clone(),
        actions: Some(actions),
        toolchain_mismatch: args.toolchain_mismatch.into(),
        containers: container_options(&args),
    };
    let mut conclusions = Vec::new();
    for (workflow, selection) in selected {
        session.selection = selection;
        let (run_id, conclusion) = runtime.block_on(run_one(
            &session,
            workflow.clone(),
            backend.clone(),
            args.format,
        ))?;
        conclusions.push(conclusion);
        let given = super::deploy::Given {
            secrets: session.secrets.clone(),
            vars: session.vars.clone(),
            format: args.format,
            approval_timeout: args.approval_timeout,
            platforms: session.platforms.clone(),
            toolchain_mismatch: session.toolchain_mismatch,
        };
        super::deploy::after_run(root, home, &deployer, &runtime, &given, &mut conclusions)?;
        if let Some(attesting) = &attesting {
            report_provenance(
                root,
                home,
                &workflow,
                &session.event,
                run_id,
                conclusion,
                attesting,
            )?;
        }
    }
    Ok(if session::all_succeeded(conclusions) {
        Outcome::Success
    } else {
        Outcome::Failure
    })
}

/// Says which secrets the workflow reads that neither `--secret` nor the
/// reading job's environment supplies: they would expand to empty strings.
fn warn_missing_secrets(
    workflow: &Workflow,
    event: &gantry_engine::plan::Event,
    given: &IndexMap<String, String>,
    environments: &gantry_deliver::environments::Environments,
) {
    let missing = gantry_engine::secrets::missing_secrets(workflow, event, |name, environment| {
        given.keys().any(|k| k.eq_ignore_ascii_case(name))
            || environment.is_some_and(|e| environments.declares_secret(e, name))
    });
    for m in missing {
        let place = if m.jobs.is_empty() {
            "the workflow's env".to_string()
        } else {
            format!("job {}", m.jobs.join(", "))
        };
        eprintln!(
            "gantry: warning: {}: secret {} is read by {place} but not supplied; it will be empty (give it with --secret {}=VALUE or --secret-file)",
            workflow.source.name(),
            m.name,
            m.name,
        );
    }
}

/// The runtime runs execute on.
pub(super) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(CliError::Write)
}

/// Runs one workflow, rendering its events and the lock's notices;
/// Ctrl-C (or SIGTERM) cancels it.
pub(super) async fn run_one(
    session: &Session,
    workflow: Arc<Workflow>,
    backend: Arc<dyn gantry_engine::run::Backend>,
    format: RunFormat,
) -> Result<(u64, Conclusion), CliError> {
    let stop = Stop::default();
    // Ctrl-C (or SIGTERM, as `cancel-in-progress` sends) cancels the run;
    // a second Ctrl-C stops everything at once.
    {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            let mut count = 0;
            loop {
                tokio::select! {
                    r = tokio::signal::ctrl_c() => if r.is_err() { break },
                    Some(()) = async { match &mut term { Some(t) => t.recv().await, None => std::future::pending().await } } => {}
                }
                count += 1;
                if count == 1 {
                    eprintln!(
                        "\ngantry: cancelling the run (always() steps still run); press Ctrl-C again to stop at once"
                    );
                    stop.graceful.cancel();
                } else {
                    stop.force.cancel();
                    break;
                }
            }
        });
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let runner = tokio::spawn(
        session.run(workflow, backend, tx, stop, |waiting| match waiting {
            Waiting::Held { group } => {
                eprintln!("gantry: another run holds the concurrency group `{group}`; waiting");
            }
            Waiting::Cancelling { pid } => {
                eprintln!("gantry: cancel-in-progress: asking run process {pid} to cancel");
            }
        }),
    );
    let mut printer = Printer::new(format);
    while let Some(event) = rx.recv().await {
        printer.event(&event)?;
        // What has arrived meanwhile goes out in the same write (a bounded
        // batch, so a chatty step still shows up as it goes).
        for _ in 0..256 {
            let Ok(event) = rx.try_recv() else { break };
            printer.event(&event)?;
        }
        printer.flush()?;
    }
    let result = runner
        .await
        .map_err(|e| CliError::usage(format!("the run stopped unexpectedly: {e}"), None))?;
    result.map_err(|e| match e {
        SessionError::Lock(LockError::Io { path, source }) => CliError::Read { path, source },
        other => CliError::usage(other.to_string(), None),
    })
}

/// Signs a finished run's provenance and says where it went (on stderr,
/// so `--format json` output stays events only).
fn report_provenance(
    root: &Path,
    home: &Home,
    workflow: &Workflow,
    event: &gantry_engine::plan::Event,
    run_id: u64,
    conclusion: Conclusion,
    attesting: &super::run_attest::Attesting,
) -> Result<(), CliError> {
    if conclusion != Conclusion::Success {
        eprintln!("provenance: none signed, run {run_id} did not succeed");
        return Ok(());
    }
    let written = super::run_attest::attest_run(root, home, workflow, event, run_id, attesting)?;
    if written.is_empty() {
        eprintln!("provenance: none signed, run {run_id} uploaded no artifacts");
    }
    for w in &written {
        eprintln!(
            "provenance: artifact `{}` ({} file(s)): {}",
            w.artifact,
            w.files,
            w.path.display()
        );
    }
    Ok(())
}

/// Renders run events: live lines prefixed by job, or NDJSON.
struct Printer {
    format: RunFormat,
    colored: bool,
    progress: bool,
    status_shown: bool,
    palette: HashMap<String, usize>,
    running: IndexMap<String, String>,
    jobs: Vec<(String, Conclusion, u64, u32, u32)>,
    started: Instant,
    last_draw: Instant,
    step_names: HashMap<(String, usize), String>,
    /// Lines not yet written: the events that arrive together go out in
    /// one write (see [`Printer::flush`]).
    pending: Vec<u8>,
}

const COLORS: [&str; 6] = ["36", "35", "33", "34", "32", "96"];

impl Printer {
    fn new(format: RunFormat) -> Self {
        let stderr_tty = std::io::stderr().is_terminal();
        Self {
            format,
            colored: render::color(std::io::stdout().is_terminal()),
            progress: stderr_tty && format == RunFormat::Human,
            status_shown: false,
            palette: HashMap::new(),
            running: IndexMap::new(),
            jobs: Vec::new(),
            started: Instant::now(),
            last_draw: Instant::now(),
            step_names: HashMap::new(),
            pending: Vec::new(),
        }
    }

    /// Writes the pending lines, then redraws the progress line.
    fn flush(&mut self) -> Result<(), CliError> {
        if !self.pending.is_empty() {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&self.pending)?;
            stdout.flush()?;
            self.pending.clear();
        }
        self.draw_status();
        Ok(())
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.colored {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn prefix(&mut self, job: &str) -> String {
        let n = self.palette.len();
        let i = *self.palette.entry(job.to_string()).or_insert(n);
        self.paint(COLORS[i % COLORS.len()], &format!("[{job}]"))
    }

    fn clear_status(&mut self) {
        if self.status_shown {
            eprint!("\r\x1b[2K");
            self.status_shown = false;
        }
    }

    fn draw_status(&mut self) {
        if !self.progress
            || self.running.is_empty()
            || self.last_draw.elapsed() < Duration::from_millis(100)
        {
            return;
        }
        self.last_draw = Instant::now();
        let parts: Vec<String> = self
            .running
            .iter()
            .map(|(j, s)| format!("{j}: {s}"))
            .collect();
        let mut line = format!(
            "⏵ {} · {} done · {:.0}s",
            parts.join(" | "),
            self.jobs.len(),
            self.started.elapsed().as_secs_f64()
        );
        let width = 120;
        if line.chars().count() > width {
            line = line.chars().take(width - 1).collect::<String>() + "…";
        }
        eprint!("\r\x1b[2K{line}");
        let _ = std::io::stderr().flush();
        self.status_shown = true;
    }

    fn out(&mut self, line: String) -> Result<(), CliError> {
        self.clear_status();
        self.pending.extend_from_slice(line.as_bytes());
        self.pending.push(b'\n');
        Ok(())
    }

    fn event(&mut self, event: &RunEvent) -> Result<(), CliError> {
        if self.format == RunFormat::Json {
            serde_json::to_writer(&mut self.pending, event).map_err(std::io::Error::from)?;
            self.pending.push(b'\n');
            return Ok(());
        }
        match event {
            RunEvent::RunStarted {
                run_id,
                workflow,
                event,
                git_ref,
                ..
            } => {
                let line = format!(
                    "{} run #{run_id} of {workflow} for {event}{}",
                    self.paint("1", "gantry"),
                    git_ref
                        .as_ref()
                        .map(|r| format!(" on {r}"))
                        .unwrap_or_default()
                );
                self.out(line)?;
            }
            RunEvent::JobStarted { job } => {
                self.running.insert(job.clone(), "starting".into());
                let p = self.prefix(job);
                self.out(format!("{p} started"))?;
            }
            RunEvent::JobWaiting { job, reason } => {
                self.running.insert(job.clone(), "waiting".into());
                let p = self.prefix(job);
                let mark = self.paint("33", "waiting:");
                self.out(format!("{p} {mark} {reason}"))?;
            }
            RunEvent::JobSkipped { job, reason } => {
                let p = self.prefix(job);
                self.out(format!("{p} skipped: {reason}"))?;
                self.jobs.push((job.clone(), Conclusion::Skipped, 0, 0, 0));
            }
            RunEvent::StepStarted { job, step, name } => {
                self.step_names.insert((job.clone(), *step), name.clone());
                self.running.insert(job.clone(), name.clone());
                let p = self.prefix(job);
                let arrow = self.paint("2", "▶");
                self.out(format!("{p} {arrow} {name}"))?;
            }
            RunEvent::Log {
                job,
                stream,
                line,
                group,
                ..
            } => {
                let p = if job.is_empty() {
                    "gantry:".to_string()
                } else {
                    self.prefix(job)
                };
                let bar = if group.is_some() { "│ " } else { "" };
                let text = if *stream == Stream::Stderr && line.starts_with("error: ") {
                    self.paint("31", line)
                } else if line.starts_with("warning: ") {
                    self.paint("33", line)
                } else {
                    line.clone()
                };
                self.out(format!("{p}   {bar}{text}"))?;
            }
            RunEvent::Annotation { .. } => {}
            RunEvent::StepFinished {
                job,
                name,
                conclusion,
                outcome,
                exit_code,
                duration_ms,
                ..
            } => {
                let p = self.prefix(job);
                let secs = *duration_ms as f64 / 1000.0;
                let line = match (outcome, conclusion) {
                    (Conclusion::Skipped, _) => {
                        format!("{p} {} {name} (skipped)", self.paint("2", "○"))
                    }
                    (Conclusion::Success, _) => {
                        format!("{p} {} {name} ({secs:.1}s)", self.paint("32", "✓"))
                    }
                    (Conclusion::Failure, Conclusion::Success) => format!(
                        "{p} {} {name} failed, continuing (continue-on-error)",
                        self.paint("33", "!")
                    ),
                    (Conclusion::Cancelled, _) => {
                        format!("{p} {} {name} cancelled", self.paint("33", "⊘"))
                    }
                    _ => format!(
                        "{p} {} {name} failed{} ({secs:.1}s)",
                        self.paint("31", "✗"),
                        exit_code
                            .map(|c| format!(" with exit code {c}"))
                            .unwrap_or_default()
                    ),
                };
                self.out(line)?;
            }
            RunEvent::JobFinished {
                job,
                result,
                duration_ms,
                cache_hits,
                cache_misses,
            } => {
                self.running.shift_remove(job);
                self.jobs.push((
                    job.clone(),
                    *result,
                    *duration_ms,
                    *cache_hits,
                    *cache_misses,
                ));
                let p = self.prefix(job);
                let mark = match result {
                    Conclusion::Success => self.paint("32", "succeeded"),
                    Conclusion::Failure => self.paint("31", "failed"),
                    Conclusion::Cancelled => self.paint("33", "cancelled"),
                    Conclusion::Skipped => "skipped".into(),
                };
                self.out(format!(
                    "{p} {mark} in {:.1}s",
                    *duration_ms as f64 / 1000.0
                ))?;
            }
            RunEvent::RunFinished {
                run_id,
                conclusion,
                duration_ms,
            } => {
                self.clear_status();
                let mut summary = String::from("\nsummary\n");
                let width = self
                    .jobs
                    .iter()
                    .map(|j| j.0.chars().count())
                    .max()
                    .unwrap_or(3)
                    .max(3);
                for (job, result, ms, hits, misses) in &self.jobs {
                    let caches = if hits + misses > 0 {
                        format!("  cache {hits} hit, {misses} miss")
                    } else {
                        String::new()
                    };
                    let result_text = match result {
                        Conclusion::Success => self.paint("32", "success"),
                        Conclusion::Failure => self.paint("31", "failure"),
                        Conclusion::Cancelled => self.paint("33", "cancelled"),
                        Conclusion::Skipped => "skipped".to_string(),
                    };
                    summary.push_str(&format!(
                        "  {job:<width$}  {result_text:<9}  {:>6.1}s{caches}\n",
                        *ms as f64 / 1000.0
                    ));
                }
                let verdict = match conclusion {
                    Conclusion::Success => self.paint("32;1", "succeeded"),
                    Conclusion::Failure => self.paint("31;1", "failed"),
                    Conclusion::Cancelled => self.paint("33;1", "was cancelled"),
                    Conclusion::Skipped => "was skipped".into(),
                };
                summary.push_str(&format!(
                    "run #{run_id} {verdict} in {:.1}s; logs: gantry logs {run_id}",
                    *duration_ms as f64 / 1000.0
                ));
                self.out(summary)?;
            }
        }
        Ok(())
    }
}
