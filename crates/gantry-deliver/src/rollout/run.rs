//! The library calls behind `gantry rollout run|status|promote|abort`:
//! reading the rollout file, starting the traffic provider, driving the
//! controller with the store (status out, commands in) and the ledger
//! (every event), and reading or steering a rollout from another process.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use gantry_ledger::Ledger;
use gantry_store::{Store, StoreError};
use gantry_traffic::{Router, RouterError, RouterOptions, TrafficProvider};

use super::config::{RolloutConfig, RolloutConfigError, Strategy, TrafficConfig};
use super::controller::{
    Command, Control, Controller, ControllerOptions, EventSink, HttpOutside, Phase, RolloutEvent,
    RolloutReport, RolloutStatus, SystemClock,
};
use super::evidence::RolloutEvidence;

/// Why a rollout could not run (or be read or steered).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RolloutError {
    #[error(transparent)]
    Config(#[from] RolloutConfigError),
    #[error("failed to start the router: {0}")]
    Router(#[from] RouterError),
    #[error("the traffic provider: {0}")]
    Traffic(#[from] gantry_traffic::TrafficError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("failed to append to the ledger: {0}")]
    Ledger(#[from] gantry_ledger::LedgerError),
    #[error("the recorded status of rollout `{name}` is unreadable: {reason}")]
    Status { name: String, reason: String },
}

impl RolloutError {
    /// Whether the user's input is at fault (exit 2), not the run.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            RolloutError::Config(_)
                | RolloutError::Router(_)
                | RolloutError::Traffic(_)
                | RolloutError::Store(
                    StoreError::RolloutRunning { .. }
                        | StoreError::RolloutNotRunning { .. }
                        | StoreError::NoRollout { .. }
                )
        )
    }
}

/// What `gantry rollout run` was given besides the file.
pub struct RunRequest<'a> {
    /// The repository root holding `.gantry/rollouts/`.
    pub root: &'a Path,
    pub name: &'a str,
    pub store: &'a Store,
    pub ledger: &'a Ledger,
    /// Called with every event, in order (the terminal's progress).
    pub on_event: &'a mut (dyn FnMut(&RolloutEvent) + Send),
    /// Where the router listened and previews, once it does.
    pub on_listen: &'a mut (dyn FnMut(&RouterInfo) + Send),
    /// Set (by a signal handler) to abort: traffic back to stable, then
    /// the run ends.
    pub interrupted: &'a std::sync::atomic::AtomicBool,
}

/// Where the router listens.
#[derive(Debug, Clone, Serialize)]
pub struct RouterInfo {
    pub listen: std::net::SocketAddr,
    pub preview: Option<std::net::SocketAddr>,
}

/// What a run produced: the report and what could not be recorded.
#[derive(Debug, Serialize)]
pub struct RunOutcome {
    pub report: RolloutReport,
    /// Events the ledger or the store refused (the rollout went on).
    pub warnings: Vec<String>,
}

/// Runs rollout `name` to its end.
pub async fn run_rollout(request: RunRequest<'_>) -> Result<RunOutcome, RolloutError> {
    let config = RolloutConfig::load(request.root, request.name)?;
    match &config.traffic {
        TrafficConfig::Router => {
            let mut options =
                RouterOptions::new(config.listen, config.stable.clone(), config.canary.clone());
            if let Strategy::BlueGreen(bg) = &config.strategy {
                options.preview_listen = bg.preview_listen;
            }
            options.shutdown_grace = Duration::from_secs(5);
            let router = Router::start(options).await?;
            (request.on_listen)(&RouterInfo {
                listen: router.local_addr(),
                preview: router.preview_addr(),
            });
            let load = start_load(&config, Some(router.local_addr()));
            let outcome = drive(&config, &router, request).await;
            if let Some(load) = load {
                load.abort();
            }
            router.shutdown().await;
            outcome
        }
        TrafficConfig::Haproxy {
            runtime_api,
            backend,
            stable_server,
            canary_server,
        } => {
            let provider = gantry_traffic::haproxy::HaproxyProvider::new(
                runtime_api,
                backend,
                stable_server,
                canary_server,
            )?;
            let load = start_load(&config, None);
            let outcome = drive(&config, &provider, request).await;
            if let Some(load) = load {
                load.abort();
            }
            outcome
        }
    }
}

/// Starts `analysis.load` against its URL (the router's address when it
/// names none): load until the rollout ends, when the task is aborted.
/// Without a URL and a router there is nothing to aim at, and no load.
fn start_load(
    config: &RolloutConfig,
    router: Option<std::net::SocketAddr>,
) -> Option<tokio::task::JoinHandle<()>> {
    let load = config.analysis.as_ref()?.load.as_ref()?;
    let url = match (&load.url, router) {
        (Some(url), _) => url.clone(),
        (None, Some(addr)) => format!("http://{addr}/"),
        (None, None) => return None,
    };
    let spec = gantry_traffic::load::LoadSpec::new(
        &url,
        gantry_traffic::load::Model::Rate(load.rate),
        // Longer than any rollout: the task is aborted when it ends.
        Duration::from_secs(7 * 86_400),
    );
    Some(tokio::spawn(async move {
        let _ = gantry_traffic::load::run(&spec).await;
    }))
}

/// Drives the controller over any traffic provider.
pub async fn drive<P: TrafficProvider>(
    config: &RolloutConfig,
    provider: &P,
    request: RunRequest<'_>,
) -> Result<RunOutcome, RolloutError> {
    let initial = RolloutStatus {
        rollout: config.name.clone(),
        phase: Phase::Progressing,
        step: 0,
        steps: config.steps().len(),
        canary_weight: 0,
        message: "starting".into(),
        last_analysis: None,
    };
    request
        .store
        .begin_rollout(&config.name, Phase::Progressing.name(), &to_json(&initial))?;
    let warnings = std::sync::Mutex::new(Vec::new());
    let control = StoreControl {
        store: request.store,
        name: &config.name,
        warnings: &warnings,
        interrupted: request.interrupted,
    };
    let started = jiff::Timestamp::now().to_string();
    let sinks = Sinks {
        evidence: RolloutEvidence::new(request.ledger, config, started.clone()),
        on_event: request.on_event,
        warnings: &warnings,
        outbox: Outbox {
            store: request.store,
            targets: &config.notifications,
            started,
        },
    };
    let clock = SystemClock::default();
    let outside = HttpOutside::default();
    let report = Controller::new(
        config,
        provider,
        &clock,
        &outside,
        control,
        sinks,
        ControllerOptions::default(),
    )
    .run()
    .await;
    let warnings = warnings
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Ok(RunOutcome { report, warnings })
}

fn to_json(status: &RolloutStatus) -> String {
    serde_json::to_string(status).unwrap_or_else(|_| "{}".into())
}

/// Status to the store, commands from it.
struct StoreControl<'a> {
    store: &'a Store,
    name: &'a str,
    warnings: &'a std::sync::Mutex<Vec<String>>,
    interrupted: &'a std::sync::atomic::AtomicBool,
}

impl StoreControl<'_> {
    fn warn(&self, what: String) {
        if let Ok(mut w) = self.warnings.lock() {
            w.push(what);
        }
    }
}

impl Control for StoreControl<'_> {
    fn take_command(&mut self) -> Option<Command> {
        if self.interrupted.load(std::sync::atomic::Ordering::Relaxed) {
            return Some(Command::Interrupt);
        }
        match self.store.take_rollout_command(self.name) {
            Ok(Some(text)) => match text.as_str() {
                "promote" => Some(Command::Promote),
                "abort" => Some(Command::Abort),
                other => {
                    self.warn(format!("ignored the unknown command `{other}`"));
                    None
                }
            },
            Ok(None) => None,
            Err(e) => {
                self.warn(format!("failed to read commands: {e}"));
                None
            }
        }
    }

    fn publish(&mut self, status: &RolloutStatus) {
        let json = to_json(status);
        if let Err(e) = self.store.update_rollout(
            self.name,
            status.phase.name(),
            &json,
            status.phase.is_final(),
        ) {
            self.warn(format!("failed to record the status: {e}"));
        }
    }
}

/// Every event goes here: the ledger, the caller, and (when delivery of
/// notifications is wired) the notification outbox.
struct Sinks<'a> {
    evidence: RolloutEvidence<'a>,
    on_event: &'a mut (dyn FnMut(&RolloutEvent) + Send),
    warnings: &'a std::sync::Mutex<Vec<String>>,
    outbox: Outbox<'a>,
}

impl EventSink for Sinks<'_> {
    fn emit(&mut self, event: &RolloutEvent) {
        if let Err(e) = self.evidence.append(event)
            && let Ok(mut w) = self.warnings.lock()
        {
            w.push(format!(
                "failed to append the {} event to the ledger: {e}",
                event.kind.name()
            ));
        }
        if let Err(e) = self.outbox.enqueue(event)
            && let Ok(mut w) = self.warnings.lock()
        {
            w.push(format!(
                "the {} event was not queued for notification: {e}",
                event.kind.name()
            ));
        }
        (self.on_event)(event);
    }
}

/// The rollout's notification targets, through the store's outbox: its
/// start, pauses, promotion, abort, degradation and rollback.
struct Outbox<'a> {
    store: &'a Store,
    targets: &'a [crate::notify::NotificationTarget],
    /// When this run of the rollout started: events of different runs of
    /// one rollout are different events.
    started: String,
}

impl Outbox<'_> {
    fn enqueue(&self, event: &RolloutEvent) -> Result<(), crate::notify::NotifyError> {
        use super::controller::EventKind;
        use crate::notify::{EventKind as Kind, Notification, Status};
        if self.targets.is_empty() {
            return Ok(());
        }
        let (status, summary) = match &event.kind {
            EventKind::Started { provider, steps } => (
                Status::InProgress,
                format!(
                    "rollout {} started: {steps} steps through the {provider}",
                    event.rollout
                ),
            ),
            EventKind::Paused { step, .. } => (
                Status::Paused,
                format!(
                    "rollout {} paused at step {step} with the canary at {}%",
                    event.rollout, event.canary_weight
                ),
            ),
            EventKind::Promoted => (
                Status::Promoted,
                format!(
                    "rollout {} promoted: the canary takes all traffic",
                    event.rollout
                ),
            ),
            EventKind::Aborted { by } => (
                Status::Aborted,
                format!(
                    "rollout {} aborted by {by}: traffic back to stable",
                    event.rollout
                ),
            ),
            EventKind::Degraded { reason } => (
                Status::Degraded,
                format!("rollout {} degraded: {reason}", event.rollout),
            ),
            EventKind::RolledBack { reason } => (
                Status::RolledBack,
                format!("rollout {} rolled back: {reason}", event.rollout),
            ),
            EventKind::StepReached { .. }
            | EventKind::Resumed { .. }
            | EventKind::Analysis { .. } => {
                return Ok(());
            }
        };
        let notification = Notification::new(
            Kind::Rollout,
            &event.rollout,
            status,
            summary,
            format!(
                "{}/{}/{}",
                self.started,
                event.kind.name(),
                event.elapsed_ms
            ),
        )
        .field("rollout", &event.rollout)
        .field("canary weight", format!("{}%", event.canary_weight))
        .field("started", &self.started);
        crate::notify::enqueue(self.store, self.targets, &notification).map(|_| ())
    }
}

/// What `gantry rollout status NAME` shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusReport {
    /// A live process is driving it.
    pub running: bool,
    pub pid: u32,
    /// Milliseconds since the Unix epoch.
    pub updated_at: i64,
    pub status: serde_json::Value,
    pub phase: String,
}

/// The recorded status of rollout `name`.
pub fn rollout_status(store: &Store, name: &str) -> Result<StatusReport, RolloutError> {
    let record = store.rollout(name)?.ok_or_else(|| StoreError::NoRollout {
        name: name.to_string(),
    })?;
    let status: serde_json::Value =
        serde_json::from_str(&record.status_json).map_err(|e| RolloutError::Status {
            name: name.to_string(),
            reason: e.to_string(),
        })?;
    let running = record.is_running();
    // A process that died mid-rollout left an unfinished phase behind.
    let phase = if !record.finished && !running {
        "interrupted".to_string()
    } else {
        record.phase.clone()
    };
    Ok(StatusReport {
        running,
        pid: record.pid,
        updated_at: record.updated_at.millis(),
        status,
        phase,
    })
}

/// One rollout as `/metrics` and the dashboard show it: the figures of
/// its recorded status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RolloutSummary {
    pub name: String,
    /// As `rollout_status` says it (`interrupted` when its process died).
    pub phase: String,
    pub running: bool,
    pub canary_weight: u32,
    pub step: usize,
    pub steps: usize,
    pub message: String,
    /// The last analysis interval's verdict (`successful`, `failed`,
    /// `inconclusive`, `error`), if one was judged.
    pub last_verdict: Option<String>,
    pub last_success_rate: Option<f64>,
    pub last_p99_ms: Option<f64>,
    pub updated_at: gantry_store::Timestamp,
}

/// The fields of a recorded status the summary reads; anything else in
/// it is left alone, and a missing field is its default.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RecordedStatus {
    step: usize,
    steps: usize,
    canary_weight: u32,
    message: String,
    last_analysis: Option<RecordedAnalysis>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RecordedAnalysis {
    verdict: Option<String>,
    success_rate: Option<f64>,
    p99_ms: Option<f64>,
}

/// Every rollout that ran here, by name. A status that is not the
/// controller's JSON is an error naming the rollout.
pub fn rollout_summaries(store: &Store) -> Result<Vec<RolloutSummary>, RolloutError> {
    let mut out = Vec::new();
    for record in store.rollouts()? {
        let status: RecordedStatus =
            serde_json::from_str(&record.status_json).map_err(|e| RolloutError::Status {
                name: record.name.clone(),
                reason: e.to_string(),
            })?;
        let running = record.is_running();
        let phase = if !record.finished && !running {
            "interrupted".to_string()
        } else {
            record.phase.clone()
        };
        let analysis = status.last_analysis.unwrap_or_default();
        out.push(RolloutSummary {
            name: record.name,
            phase,
            running,
            canary_weight: status.canary_weight.min(100),
            step: status.step,
            steps: status.steps,
            message: status.message,
            last_verdict: analysis.verdict,
            last_success_rate: analysis.success_rate,
            last_p99_ms: analysis.p99_ms,
            updated_at: record.updated_at,
        });
    }
    Ok(out)
}

/// `GET /v1/rollouts`: every rollout that ran here, by name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RolloutsDocument {
    pub version: u32,
    pub rollouts: Vec<RolloutSummary>,
}

/// [`rollout_summaries`] as a document: what the API lists and the
/// dashboard's rollouts page shows.
pub fn rollouts_document(store: &Store) -> Result<RolloutsDocument, RolloutError> {
    Ok(RolloutsDocument {
        version: 1,
        rollouts: rollout_summaries(store)?,
    })
}

/// Leaves `command` for the process running rollout `name`.
pub fn send_command(store: &Store, name: &str, command: Command) -> Result<(), RolloutError> {
    store.queue_rollout_command(name, command.name())?;
    Ok(())
}
