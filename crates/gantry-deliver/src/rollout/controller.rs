//! The rollout controller: a state machine over the strategy's steps,
//! generic over the [`TrafficProvider`] that moves traffic, the [`Clock`]
//! it waits on, the [`Outside`] world it asks (Prometheus, webhooks), the
//! [`Control`] it reads commands from and publishes its status to, and the
//! one [`EventSink`] every event goes through.
//!
//! Each analysis interval it takes the difference of two snapshots and
//! judges the canary; a failed analysis sets the canary weight to 0 at
//! that interval and ends the rollout as rolled back (degraded). Too few
//! samples pause the rollout (inconclusive) until `promote` resumes it.

use std::future::Future;
use std::time::Duration;

use serde::Serialize;

use gantry_traffic::{TrafficProvider, TrafficSnapshot};

use super::analysis::{
    AnalysisRun, HookPayload, IntervalReport, QueryError, RunStatus, Verdict, judge,
};
use super::config::{HookKind, PromQuery, RolloutConfig, Step, Strategy, Webhook};

/// Time as the controller sees it: an offset from its start, and a way to
/// wait. Tests give a clock whose `sleep` only moves the offset.
pub trait Clock: Send + Sync {
    fn now(&self) -> Duration;
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send;
}

/// The machine's monotonic clock.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    start: std::time::Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock {
            start: std::time::Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// What the controller asks outside itself.
pub trait Outside: Send + Sync {
    fn query(&self, query: &PromQuery) -> impl Future<Output = Result<f64, QueryError>> + Send;
    /// `true` when the hook said go (2xx).
    fn call(&self, hook: &Webhook, payload: &HookPayload<'_>) -> impl Future<Output = bool> + Send;
}

/// Prometheus and webhooks over HTTP (reqwest).
#[derive(Debug, Clone, Default)]
pub struct HttpOutside {
    client: reqwest::Client,
}

impl Outside for HttpOutside {
    async fn query(&self, query: &PromQuery) -> Result<f64, QueryError> {
        super::analysis::query_prometheus(&self.client, query).await
    }

    async fn call(&self, hook: &Webhook, payload: &HookPayload<'_>) -> bool {
        super::analysis::call_webhook(&self.client, hook, payload).await
    }
}

/// A command from `gantry rollout promote|abort`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Command {
    /// Resume a pause, or skip the current step.
    Promote,
    /// Send all traffic back to stable and stop.
    Abort,
    /// The same as `Abort`, asked by a signal to the running process.
    Interrupt,
}

impl Command {
    pub fn name(self) -> &'static str {
        match self {
            Command::Promote => "promote",
            Command::Abort => "abort",
            Command::Interrupt => "interrupt",
        }
    }
}

/// Where a rollout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Progressing,
    Paused,
    Promoted,
    Aborted,
    /// A failed analysis sent every request back to stable.
    Degraded,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Progressing => "progressing",
            Phase::Paused => "paused",
            Phase::Promoted => "promoted",
            Phase::Aborted => "aborted",
            Phase::Degraded => "degraded",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, Phase::Promoted | Phase::Aborted | Phase::Degraded)
    }

    pub fn parse(text: &str) -> Option<Phase> {
        [
            Phase::Progressing,
            Phase::Paused,
            Phase::Promoted,
            Phase::Aborted,
            Phase::Degraded,
        ]
        .into_iter()
        .find(|p| p.name() == text)
    }
}

/// What `gantry rollout status` shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RolloutStatus {
    pub rollout: String,
    pub phase: Phase,
    /// The step being carried out, counted from 1; 0 before the first.
    pub step: usize,
    pub steps: usize,
    pub canary_weight: u32,
    pub message: String,
    pub last_analysis: Option<IntervalReport>,
}

/// Commands in, status out (the store, in `gantry rollout run`).
pub trait Control: Send {
    fn take_command(&mut self) -> Option<Command>;
    fn publish(&mut self, status: &RolloutStatus);
}

/// Why a rollout paused.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "reason")]
pub enum PauseReason {
    /// A `pause` step without a duration.
    Manual,
    /// A `pause` step with a duration.
    Timed { seconds: f64 },
    /// Too few samples to judge.
    Inconclusive,
    /// A confirm-promotion webhook has not said yes.
    AwaitingConfirmation { webhook: String },
}

/// What happened: one typed value per event, for the terminal, the
/// ledger, the store and notifications alike.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RolloutEvent {
    pub rollout: String,
    /// Since the controller started.
    pub elapsed_ms: u64,
    pub canary_weight: u32,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "event")]
pub enum EventKind {
    Started {
        provider: &'static str,
        steps: usize,
    },
    StepReached {
        step: usize,
        of: usize,
        what: String,
    },
    Paused {
        step: usize,
        why: PauseReason,
    },
    Resumed {
        step: usize,
        by: String,
    },
    Analysis {
        step: usize,
        report: IntervalReport,
    },
    Promoted,
    Aborted {
        by: String,
    },
    /// Traffic went back to stable because analysis failed.
    Degraded {
        reason: String,
    },
    RolledBack {
        reason: String,
    },
}

impl EventKind {
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Started { .. } => "started",
            EventKind::StepReached { .. } => "step-reached",
            EventKind::Paused { .. } => "paused",
            EventKind::Resumed { .. } => "resumed",
            EventKind::Analysis { .. } => "analysis",
            EventKind::Promoted => "promoted",
            EventKind::Aborted { .. } => "aborted",
            EventKind::Degraded { .. } => "degraded",
            EventKind::RolledBack { .. } => "rolled-back",
        }
    }
}

/// The one hook every event goes through.
pub trait EventSink: Send {
    fn emit(&mut self, event: &RolloutEvent);
}

impl<F: FnMut(&RolloutEvent) + Send> EventSink for F {
    fn emit(&mut self, event: &RolloutEvent) {
        self(event)
    }
}

/// How a rollout ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "outcome")]
pub enum Outcome {
    Promoted,
    RolledBack { reason: String },
    Aborted { by: String },
}

/// The result of [`Controller::run`].
#[derive(Debug, Clone, Serialize)]
pub struct RolloutReport {
    pub rollout: String,
    pub provider: &'static str,
    pub outcome: Outcome,
    pub canary_weight: u32,
    pub intervals: Vec<IntervalReport>,
    /// When (since start) the canary weight went to 0 after the failing
    /// interval was judged, for a rolled-back rollout.
    pub rolled_back_at_ms: Option<u64>,
}

/// Tunables that are not the rollout's file.
#[derive(Debug, Clone)]
pub struct ControllerOptions {
    /// How often commands are read while waiting.
    pub poll: Duration,
}

impl Default for ControllerOptions {
    fn default() -> Self {
        ControllerOptions {
            poll: Duration::from_millis(200),
        }
    }
}

/// What the step machine is doing.
#[derive(Debug, Clone, PartialEq)]
enum State {
    /// Start the step at `step` (or finish when past the last).
    Enter,
    Waiting {
        until: Duration,
    },
    Paused(PauseReason),
    Analysing {
        needed: u32,
        passed: u32,
    },
    Confirming,
}

/// The controller of one rollout.
pub struct Controller<'a, P, C, O, K, E> {
    config: &'a RolloutConfig,
    provider: &'a P,
    clock: &'a C,
    outside: &'a O,
    control: K,
    events: E,
    options: ControllerOptions,
    steps: Vec<Step>,
    step: usize,
    weight: u32,
    state: State,
    /// The state an inconclusive pause interrupted.
    interrupted: Option<State>,
    run: AnalysisRun,
    intervals: Vec<IntervalReport>,
    phase: Phase,
    message: String,
}

enum Flow {
    Continue,
    End(Outcome),
}

impl<'a, P, C, O, K, E> Controller<'a, P, C, O, K, E>
where
    P: TrafficProvider,
    C: Clock,
    O: Outside,
    K: Control,
    E: EventSink,
{
    pub fn new(
        config: &'a RolloutConfig,
        provider: &'a P,
        clock: &'a C,
        outside: &'a O,
        control: K,
        events: E,
        options: ControllerOptions,
    ) -> Self {
        Controller {
            config,
            provider,
            clock,
            outside,
            control,
            events,
            options,
            steps: plan(config),
            step: 0,
            weight: 0,
            state: State::Enter,
            interrupted: None,
            run: AnalysisRun::default(),
            intervals: Vec::new(),
            phase: Phase::Progressing,
            message: "starting".into(),
        }
    }

    fn emit(&mut self, kind: EventKind) {
        let event = RolloutEvent {
            rollout: self.config.name.clone(),
            elapsed_ms: u64::try_from(self.clock.now().as_millis()).unwrap_or(u64::MAX),
            canary_weight: self.weight,
            kind,
        };
        self.events.emit(&event);
    }

    fn publish(&mut self) {
        let status = RolloutStatus {
            rollout: self.config.name.clone(),
            phase: self.phase,
            step: (self.step + 1).min(self.steps.len()),
            steps: self.steps.len(),
            canary_weight: self.weight,
            message: self.message.clone(),
            last_analysis: self.intervals.last().cloned(),
        };
        self.control.publish(&status);
    }

    fn hooks(&self, kind: HookKind) -> impl Iterator<Item = &'a Webhook> + use<'a, P, C, O, K, E> {
        self.config.webhooks.iter().filter(move |h| h.kind == kind)
    }

    async fn ask(&self, hook: &Webhook) -> bool {
        let payload = HookPayload {
            name: &hook.name,
            rollout: &self.config.name,
            kind: hook.kind.name(),
            canary_weight: self.weight,
            metadata: &hook.metadata,
        };
        self.outside.call(hook, &payload).await
    }

    async fn set_weight(&mut self, percent: u32) -> Result<(), String> {
        self.provider
            .set_canary_weight(percent)
            .await
            .map_err(|e| e.to_string())?;
        self.weight = percent;
        Ok(())
    }

    /// Runs the rollout to its end.
    pub async fn run(mut self) -> RolloutReport {
        let provider = self.provider.kind();
        self.emit(EventKind::Started {
            provider,
            steps: self.steps.len(),
        });
        let (outcome, rolled_back_at) = self.drive().await;
        RolloutReport {
            rollout: self.config.name.clone(),
            provider,
            outcome,
            canary_weight: self.weight,
            intervals: self.intervals,
            rolled_back_at_ms: rolled_back_at,
        }
    }

    async fn drive(&mut self) -> (Outcome, Option<u64>) {
        match self.pre_rollout().await {
            Ok(()) => {}
            Err(flow) => return self.finish(flow).await,
        }
        // Traffic starts on stable whatever the provider had.
        if let Err(e) = self.set_weight(0).await {
            return self
                .finish(Outcome::RolledBack {
                    reason: format!("failed to set the canary weight: {e}"),
                })
                .await;
        }
        let interval = self.config.analysis.as_ref().map(|a| a.interval);
        let mut next_analysis = interval.map(|i| self.clock.now() + i);
        let mut baseline = self.provider.snapshot().await.ok();
        self.publish();
        loop {
            // Commands are taken only between steps' actions: a promote
            // read while a step is being entered would skip that step.
            if self.state != State::Enter
                && let Some(command) = self.control.take_command()
            {
                match self.command(command).await {
                    Flow::Continue => {}
                    Flow::End(outcome) => return self.finish(outcome).await,
                }
            }
            if let (Some(due), Some(interval)) = (next_analysis, interval)
                && self.clock.now() >= due
            {
                next_analysis = Some(due.max(self.clock.now().saturating_sub(interval)) + interval);
                if let Flow::End(outcome) = self.analyse(&mut baseline).await {
                    return self.finish(outcome).await;
                }
            }
            match self.advance().await {
                Flow::Continue => {}
                Flow::End(outcome) => return self.finish(outcome).await,
            }
            if self.state == State::Enter {
                continue;
            }
            let mut wait = self.options.poll;
            if let Some(due) = next_analysis {
                wait = wait.min(due.saturating_sub(self.clock.now()));
            }
            if let State::Waiting { until } = self.state {
                wait = wait.min(until.saturating_sub(self.clock.now()));
            }
            self.clock.sleep(wait.max(Duration::from_millis(1))).await;
        }
    }

    /// Pre-rollout webhooks: each must say go; a refusal counts as a
    /// failed interval and is asked again an interval later.
    async fn pre_rollout(&mut self) -> Result<(), Outcome> {
        let hooks: Vec<&Webhook> = self.hooks(HookKind::PreRollout).collect();
        let limit = self.config.analysis.as_ref().map_or(0, |a| a.failure_limit);
        let wait = self
            .config
            .analysis
            .as_ref()
            .map_or(Duration::from_secs(10), |a| a.interval);
        let mut failures = 0;
        'hooks: for hook in hooks {
            while !self.ask(hook).await {
                failures += 1;
                if failures > limit {
                    return Err(Outcome::RolledBack {
                        reason: format!("pre-rollout webhook `{}` refused", hook.name),
                    });
                }
                self.message = format!("waiting for pre-rollout webhook `{}`", hook.name);
                self.publish();
                let until = self.clock.now() + wait;
                while self.clock.now() < until {
                    match self.control.take_command() {
                        Some(Command::Abort) => {
                            return Err(Outcome::Aborted {
                                by: "gantry rollout abort".into(),
                            });
                        }
                        Some(Command::Interrupt) => {
                            return Err(Outcome::Aborted {
                                by: "a signal".into(),
                            });
                        }
                        // A person says go in the webhook's place.
                        Some(Command::Promote) => continue 'hooks,
                        None => {}
                    }
                    self.clock.sleep(self.options.poll.min(wait)).await;
                }
            }
        }
        Ok(())
    }

    async fn command(&mut self, command: Command) -> Flow {
        match command {
            Command::Abort => Flow::End(Outcome::Aborted {
                by: "gantry rollout abort".into(),
            }),
            Command::Interrupt => Flow::End(Outcome::Aborted {
                by: "a signal".into(),
            }),
            Command::Promote => {
                let by = "gantry rollout promote".to_string();
                match std::mem::replace(&mut self.state, State::Enter) {
                    State::Paused(PauseReason::Inconclusive) => {
                        // A person judged what the samples could not: an
                        // analysis step counts as passed, a timed pause
                        // goes on.
                        self.state = match self.interrupted.take() {
                            Some(State::Analysing { .. }) | None => {
                                self.step += 1;
                                State::Enter
                            }
                            Some(state) => state,
                        };
                        self.phase = Phase::Progressing;
                        self.emit(EventKind::Resumed {
                            step: self.step + 1,
                            by,
                        });
                    }
                    State::Confirming => {
                        self.state = State::Confirming;
                        return self.promote().await;
                    }
                    _ => {
                        self.phase = Phase::Progressing;
                        self.emit(EventKind::Resumed {
                            step: self.step + 1,
                            by,
                        });
                        self.step += 1;
                    }
                }
                self.publish();
                Flow::Continue
            }
        }
    }

    async fn analyse(&mut self, baseline: &mut Option<TrafficSnapshot>) -> Flow {
        let Some(config) = self.config.analysis.as_ref() else {
            return Flow::Continue;
        };
        let index = u32::try_from(self.intervals.len() + 1).unwrap_or(u32::MAX);
        let query = match &config.query {
            Some(q) => Some(self.outside.query(q).await),
            None => None,
        };
        let report = match self.provider.snapshot().await {
            Ok(now) => {
                let canary = match baseline.as_ref() {
                    Some(before) => now.since(before).canary,
                    None => now.canary.clone(),
                };
                *baseline = Some(now);
                judge(config, index, &canary, query)
            }
            Err(e) => {
                let mut report = judge(config, index, &Default::default(), None);
                report.verdict = Verdict::Error;
                report.reasons = vec![format!("failed to read the traffic counters: {e}")];
                report
            }
        };
        let status = self.run.record(config, &report);
        self.intervals.push(report.clone());
        self.emit(EventKind::Analysis {
            step: self.step + 1,
            report: report.clone(),
        });
        if let RunStatus::Failed(reason) = status {
            return Flow::End(Outcome::RolledBack { reason });
        }
        let rollback: Vec<&Webhook> = self.hooks(HookKind::Rollback).collect();
        for hook in rollback {
            if self.ask(hook).await {
                return Flow::End(Outcome::RolledBack {
                    reason: format!("rollback webhook `{}` asked for it", hook.name),
                });
            }
        }
        match report.verdict {
            Verdict::Inconclusive
                if !matches!(
                    self.state,
                    State::Paused(PauseReason::Inconclusive) | State::Paused(PauseReason::Manual)
                ) =>
            {
                let why = PauseReason::Inconclusive;
                self.interrupted = Some(std::mem::replace(
                    &mut self.state,
                    State::Paused(why.clone()),
                ));
                self.phase = Phase::Paused;
                self.message = format!(
                    "paused: {} (run `gantry rollout promote {}` to go on)",
                    report.reasons.join("; "),
                    self.config.name
                );
                self.emit(EventKind::Paused {
                    step: self.step + 1,
                    why,
                });
            }
            Verdict::Successful => {
                if let State::Analysing { passed, .. } = &mut self.state {
                    *passed += 1;
                }
                self.message = format!("interval {index} passed");
            }
            _ => {
                if let State::Analysing { passed, .. } = &mut self.state {
                    *passed = 0;
                }
                self.message = format!("interval {index}: {}", report.verdict.name());
            }
        }
        self.publish();
        Flow::Continue
    }

    /// Moves the step machine on as far as it can now.
    async fn advance(&mut self) -> Flow {
        match self.state.clone() {
            State::Enter => {
                let Some(step) = self.steps.get(self.step).cloned() else {
                    self.state = State::Confirming;
                    return Flow::Continue;
                };
                let of = self.steps.len();
                let number = self.step + 1;
                match step {
                    Step::SetWeight(w) => {
                        if let Err(e) = self.set_weight(w).await {
                            return Flow::End(Outcome::RolledBack {
                                reason: format!("failed to set the canary weight: {e}"),
                            });
                        }
                        self.message = format!("canary weight {w}%");
                        self.emit(EventKind::StepReached {
                            step: number,
                            of,
                            what: format!("setWeight {w}"),
                        });
                        self.step += 1;
                    }
                    Step::Pause(duration) => {
                        self.emit(EventKind::StepReached {
                            step: number,
                            of,
                            what: match duration {
                                Some(d) => format!("pause {}s", d.as_secs_f64()),
                                None => "pause".into(),
                            },
                        });
                        let why = match duration {
                            Some(d) => {
                                self.state = State::Waiting {
                                    until: self.clock.now() + d,
                                };
                                PauseReason::Timed {
                                    seconds: d.as_secs_f64(),
                                }
                            }
                            None => {
                                self.state = State::Paused(PauseReason::Manual);
                                self.phase = Phase::Paused;
                                PauseReason::Manual
                            }
                        };
                        self.message = match why {
                            PauseReason::Manual => format!(
                                "paused until `gantry rollout promote {}`",
                                self.config.name
                            ),
                            _ => "pausing".into(),
                        };
                        self.emit(EventKind::Paused { step: number, why });
                    }
                    Step::Analysis { count } => {
                        self.message = format!("analysing: {count} passing intervals needed");
                        self.emit(EventKind::StepReached {
                            step: number,
                            of,
                            what: format!("analysis count {count}"),
                        });
                        self.state = State::Analysing {
                            needed: count,
                            passed: 0,
                        };
                    }
                }
                self.publish();
                Flow::Continue
            }
            State::Waiting { until } => {
                if self.clock.now() >= until {
                    self.step += 1;
                    self.state = State::Enter;
                }
                Flow::Continue
            }
            State::Analysing { needed, passed } => {
                if passed >= needed {
                    self.step += 1;
                    self.state = State::Enter;
                }
                Flow::Continue
            }
            State::Paused(_) => Flow::Continue,
            State::Confirming => {
                let hooks: Vec<&Webhook> = self.hooks(HookKind::ConfirmPromotion).collect();
                for hook in hooks {
                    if !self.ask(hook).await {
                        let message = format!("awaiting confirm-promotion webhook `{}`", hook.name);
                        if self.message != message {
                            self.message = message;
                            self.emit(EventKind::Paused {
                                step: self.step,
                                why: PauseReason::AwaitingConfirmation {
                                    webhook: hook.name.clone(),
                                },
                            });
                            self.publish();
                        }
                        return Flow::Continue;
                    }
                }
                self.promote().await
            }
        }
    }

    async fn promote(&mut self) -> Flow {
        if self.weight != 100
            && let Err(e) = self.set_weight(100).await
        {
            return Flow::End(Outcome::RolledBack {
                reason: format!("failed to set the canary weight: {e}"),
            });
        }
        Flow::End(Outcome::Promoted)
    }

    /// Ends the rollout: all traffic to stable unless promoted, the final
    /// events and status.
    async fn finish(&mut self, outcome: impl Into<Outcome>) -> (Outcome, Option<u64>) {
        let outcome = outcome.into();
        let mut at = None;
        match &outcome {
            Outcome::Promoted => {
                self.phase = Phase::Promoted;
                self.message = "fully promoted".into();
                self.emit(EventKind::Promoted);
            }
            Outcome::RolledBack { reason } => {
                // Even if the provider fails now, stable is where traffic
                // must go; the weight is retried once.
                if self.set_weight(0).await.is_err() {
                    let _ = self.set_weight(0).await;
                }
                at = Some(u64::try_from(self.clock.now().as_millis()).unwrap_or(u64::MAX));
                self.phase = Phase::Degraded;
                self.message = format!("rolled back: {reason}");
                self.emit(EventKind::Degraded {
                    reason: reason.clone(),
                });
                self.emit(EventKind::RolledBack {
                    reason: reason.clone(),
                });
            }
            Outcome::Aborted { by } => {
                if self.set_weight(0).await.is_err() {
                    let _ = self.set_weight(0).await;
                }
                self.phase = Phase::Aborted;
                self.message = format!("aborted by {by}");
                self.emit(EventKind::Aborted { by: by.clone() });
            }
        }
        self.publish();
        (outcome, at)
    }
}

/// The steps a strategy runs: a canary's own, or a blue-green switch as
/// steps (preview at weight 0, analysis, the promotion pause).
fn plan(config: &RolloutConfig) -> Vec<Step> {
    match &config.strategy {
        Strategy::Canary { steps } => steps.clone(),
        Strategy::BlueGreen(bg) => {
            let mut steps = vec![Step::SetWeight(0)];
            if let Some(count) = bg.pre_promotion_analysis {
                steps.push(Step::Analysis { count });
            }
            if !bg.auto_promotion_enabled {
                steps.push(Step::Pause(None));
            } else if let Some(wait) = bg.auto_promotion_seconds {
                steps.push(Step::Pause(Some(wait)));
            }
            steps
        }
    }
}
