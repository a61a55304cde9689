//! The controller with a fake provider, a fake clock and scripted
//! commands: no sockets, no waiting.

#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gantry_traffic::{TrafficError, TrafficProvider, TrafficSnapshot};
use gantry_workflow::SourceFile;

use super::analysis::{HookPayload, QueryError, Verdict};
use super::config::{PromQuery, RolloutConfig, Webhook};
use super::controller::*;

/// A clock whose sleep only moves time on.
#[derive(Default)]
struct FakeClock(Mutex<Duration>);

impl Clock for FakeClock {
    fn now(&self) -> Duration {
        *self.0.lock().unwrap()
    }

    async fn sleep(&self, duration: Duration) {
        let mut now = self.0.lock().unwrap();
        *now += duration;
        // A controller that never ends fails the test instead of spinning.
        assert!(
            *now < Duration::from_secs(3600),
            "still running after an hour"
        );
    }
}

type ErrorRate = Box<dyn Fn(Duration) -> f64 + Send + Sync>;

/// A provider whose traffic is generated from the clock: `rate` requests
/// a second split by the weight; the canary fails `canary_errors(t)` of
/// its requests.
struct FakeProvider {
    clock: Arc<FakeClock>,
    rate: f64,
    canary_errors: ErrorRate,
    state: Mutex<FakeState>,
}

#[derive(Default)]
struct FakeState {
    weight: u32,
    weights: Vec<(Duration, u32)>,
    totals: TrafficSnapshot,
    generated_until: Duration,
}

impl FakeProvider {
    fn new(clock: Arc<FakeClock>, rate: f64, canary_errors: ErrorRate) -> FakeProvider {
        FakeProvider {
            clock,
            rate,
            canary_errors,
            state: Mutex::default(),
        }
    }

    fn generate(&self) {
        let now = self.clock.now();
        let mut state = self.state.lock().unwrap();
        let elapsed = (now - state.generated_until).as_secs_f64();
        let requests = (elapsed * self.rate).round() as u64;
        let canary = requests * u64::from(state.weight) / 100;
        let failing = ((canary as f64) * (self.canary_errors)(now)).round() as u64;
        state.totals.canary.status_classes[1] += canary - failing;
        state.totals.canary.status_classes[4] += failing;
        state.totals.stable.status_classes[1] += requests - canary;
        for _ in 0..canary {
            state.totals.canary.latency.record(Duration::from_millis(3));
        }
        state.generated_until = now;
    }

    fn weights(&self) -> Vec<u32> {
        self.state
            .lock()
            .unwrap()
            .weights
            .iter()
            .map(|(_, w)| *w)
            .collect()
    }

    fn weight_changes(&self) -> Vec<(Duration, u32)> {
        self.state.lock().unwrap().weights.clone()
    }
}

impl TrafficProvider for FakeProvider {
    fn kind(&self) -> &'static str {
        "fake"
    }

    async fn set_canary_weight(&self, percent: u32) -> Result<(), TrafficError> {
        self.generate();
        let now = self.clock.now();
        let mut state = self.state.lock().unwrap();
        state.weight = percent;
        state.weights.push((now, percent));
        Ok(())
    }

    async fn snapshot(&self) -> Result<TrafficSnapshot, TrafficError> {
        self.generate();
        Ok(self.state.lock().unwrap().totals.clone())
    }
}

/// Commands given at set times; every published status kept.
struct Script {
    clock: Arc<FakeClock>,
    commands: VecDeque<(Duration, Command)>,
    published: Arc<Mutex<Vec<RolloutStatus>>>,
}

impl Control for Script {
    fn take_command(&mut self) -> Option<Command> {
        match self.commands.front() {
            Some((at, _)) if *at <= self.clock.now() => self.commands.pop_front().map(|(_, c)| c),
            _ => None,
        }
    }

    fn publish(&mut self, status: &RolloutStatus) {
        self.published.lock().unwrap().push(status.clone());
    }
}

/// Webhooks answer by the clock; Prometheus answers a fixed value.
struct FakeOutside {
    clock: Arc<FakeClock>,
    /// (hook name, says yes from this time on)
    yes_from: Vec<(&'static str, Duration)>,
    query_value: Option<f64>,
}

impl Outside for FakeOutside {
    async fn query(&self, query: &PromQuery) -> Result<f64, QueryError> {
        self.query_value.ok_or(QueryError::NoData {
            promql: query.promql.clone(),
        })
    }

    async fn call(&self, hook: &Webhook, _payload: &HookPayload<'_>) -> bool {
        self.yes_from
            .iter()
            .any(|(name, from)| *name == hook.name && self.clock.now() >= *from)
    }
}

fn rollout(text: &str) -> RolloutConfig {
    let head = "listen: 127.0.0.1:0\nstable: http://127.0.0.1:1\ncanary: http://127.0.0.1:2\n";
    RolloutConfig::parse(
        "web",
        &SourceFile::new(".gantry/rollouts/web.yml", format!("{head}{text}")),
    )
    .unwrap()
}

const ANALYSIS: &str =
    "analysis: {interval: 1s, successRate: 0.95, minSamples: 20, failureLimit: 0}\n";

struct Run {
    report: RolloutReport,
    events: Vec<RolloutEvent>,
    published: Vec<RolloutStatus>,
    provider: FakeProvider,
}

async fn run(
    config: &RolloutConfig,
    rate: f64,
    canary_errors: ErrorRate,
    commands: Vec<(u64, Command)>,
    outside: impl FnOnce(Arc<FakeClock>) -> FakeOutside,
) -> Run {
    let clock = Arc::new(FakeClock::default());
    let provider = FakeProvider::new(clock.clone(), rate, canary_errors);
    let outside = outside(clock.clone());
    let published = Arc::new(Mutex::new(Vec::new()));
    let control = Script {
        clock: clock.clone(),
        commands: commands
            .into_iter()
            .map(|(ms, c)| (Duration::from_millis(ms), c))
            .collect(),
        published: published.clone(),
    };
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = {
        let events = events.clone();
        move |e: &RolloutEvent| events.lock().unwrap().push(e.clone())
    };
    let report = Controller::new(
        config,
        &provider,
        clock.as_ref(),
        &outside,
        control,
        sink,
        ControllerOptions::default(),
    )
    .run()
    .await;
    let events = events.lock().unwrap().clone();
    let published = published.lock().unwrap().clone();
    Run {
        report,
        events,
        published,
        provider,
    }
}

fn no_outside(clock: Arc<FakeClock>) -> FakeOutside {
    FakeOutside {
        clock,
        yes_from: Vec::new(),
        query_value: None,
    }
}

fn healthy() -> ErrorRate {
    Box::new(|_| 0.0)
}

#[tokio::test]
async fn a_healthy_canary_is_promoted_through_10_50_and_100() {
    let config = rollout(&format!(
        "strategy: {{canary: {{steps: [{{setWeight: 10}}, {{analysis: {{count: 2}}}}, \
         {{setWeight: 50}}, {{analysis: {{count: 2}}}}, {{setWeight: 100}}]}}}}\n{ANALYSIS}"
    ));
    let run = run(&config, 1000.0, healthy(), vec![], no_outside).await;
    assert_eq!(run.report.outcome, Outcome::Promoted);
    assert_eq!(run.provider.weights(), [0, 10, 50, 100]);
    assert!(
        run.report.intervals.len() >= 4,
        "{:?}",
        run.report.intervals
    );
    assert!(
        run.report
            .intervals
            .iter()
            .all(|i| i.verdict == Verdict::Successful)
    );
    let kinds: Vec<&str> = run.events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(kinds.first(), Some(&"started"));
    assert_eq!(kinds.last(), Some(&"promoted"));
    assert_eq!(kinds.iter().filter(|k| **k == "step-reached").count(), 5);
    assert_eq!(run.published.last().map(|s| s.phase), Some(Phase::Promoted));
}

#[tokio::test]
async fn a_canary_whose_errors_rise_is_rolled_back_within_one_interval() {
    let config = rollout(&format!(
        "strategy: {{canary: {{steps: [{{setWeight: 10}}, {{pause: {{duration: 20s}}}}, \
         {{setWeight: 100}}]}}}}\n{ANALYSIS}"
    ));
    let starts_failing = Duration::from_millis(4500);
    let run = run(
        &config,
        1000.0,
        Box::new(move |t| if t >= starts_failing { 0.2 } else { 0.0 }),
        vec![],
        no_outside,
    )
    .await;
    assert!(
        matches!(run.report.outcome, Outcome::RolledBack { ref reason } if reason.contains("success rate")),
        "{:?}",
        run.report.outcome
    );
    let (zero_at, last) = *run.provider.weight_changes().last().unwrap();
    assert_eq!(last, 0);
    let interval = Duration::from_secs(1);
    assert!(
        zero_at >= starts_failing && zero_at - starts_failing <= interval,
        "weight 0 at {zero_at:?}, failing from {starts_failing:?}"
    );
    assert_eq!(run.provider.weights(), [0, 10, 0], "never reached 100");
    let kinds: Vec<&str> = run.events.iter().map(|e| e.kind.name()).collect();
    assert!(kinds.ends_with(&["degraded", "rolled-back"]), "{kinds:?}");
    assert_eq!(run.published.last().map(|s| s.phase), Some(Phase::Degraded));
}

#[tokio::test]
async fn too_few_samples_pause_the_rollout_instead_of_guessing() {
    let config = rollout(&format!(
        "strategy: {{canary: {{steps: [{{setWeight: 10}}, {{pause: {{duration: 20s}}}}, \
         {{setWeight: 100}}]}}}}\n{ANALYSIS}"
    ));
    // 50 requests a second, 10% to the canary: 5 per interval, under 20.
    // Promote resumes the timed pause (still inconclusive, so it pauses
    // again); abort ends it.
    let run = run(
        &config,
        50.0,
        // Failures under minSamples must not count as a failed analysis.
        Box::new(|_| 1.0),
        vec![(5_000, Command::Promote), (9_000, Command::Abort)],
        no_outside,
    )
    .await;
    assert!(
        matches!(run.report.outcome, Outcome::Aborted { .. }),
        "{:?}",
        run.report.outcome
    );
    assert_eq!(run.provider.weights(), [0, 10, 0]);
    let inconclusive = run
        .events
        .iter()
        .filter(|e| {
            matches!(
                &e.kind,
                EventKind::Paused {
                    why: PauseReason::Inconclusive,
                    ..
                }
            )
        })
        .count();
    assert_eq!(inconclusive, 2, "paused, resumed, paused again");
    assert!(
        run.report
            .intervals
            .iter()
            .all(|i| i.verdict == Verdict::Inconclusive)
    );
    assert!(
        run.published
            .iter()
            .any(|s| s.phase == Phase::Paused && s.message.contains("minSamples"))
    );
}

fn failing_in(windows: &'static [(u64, u64)]) -> ErrorRate {
    Box::new(move |t| {
        let ms = t.as_millis() as u64;
        if windows.iter().any(|(from, to)| (*from..*to).contains(&ms)) {
            0.5
        } else {
            0.0
        }
    })
}

/// Three failing intervals (at 2, 4 and 6 s) among passing ones.
const THREE_BAD: &[(u64, u64)] = &[(1_001, 2_001), (3_001, 4_001), (5_001, 6_001)];

#[tokio::test]
async fn failure_limit_tolerates_that_many_failed_intervals_over_the_run() {
    let steps = "strategy: {canary: {steps: [{setWeight: 50}, {pause: {duration: 9s}}, {setWeight: 100}]}}\n";
    let tolerant = rollout(&format!(
        "{steps}analysis: {{interval: 1s, successRate: 0.95, minSamples: 20, failureLimit: 3}}\n"
    ));
    let run_tolerant = run(&tolerant, 1000.0, failing_in(THREE_BAD), vec![], no_outside).await;
    assert_eq!(run_tolerant.report.outcome, Outcome::Promoted);
    let failed = |r: &RolloutReport| {
        r.intervals
            .iter()
            .filter(|i| i.verdict == Verdict::Failed)
            .count()
    };
    assert_eq!(failed(&run_tolerant.report), 3);

    let strict = rollout(&format!(
        "{steps}analysis: {{interval: 1s, successRate: 0.95, minSamples: 20, failureLimit: 2}}\n"
    ));
    let run_strict = run(&strict, 1000.0, failing_in(THREE_BAD), vec![], no_outside).await;
    assert!(
        matches!(run_strict.report.outcome, Outcome::RolledBack { ref reason } if reason.contains("failureLimit 2")),
        "{:?}",
        run_strict.report.outcome
    );
    // Rolled back at the third failure, not before.
    assert_eq!(failed(&run_strict.report), 3);
    assert_eq!(run_strict.report.intervals.last().map(|i| i.index), Some(6));
}

#[tokio::test]
async fn a_pause_without_duration_waits_for_promote() {
    let config =
        rollout("strategy: {canary: {steps: [{setWeight: 20}, {pause: {}}, {setWeight: 100}]}}\n");
    let run = run(
        &config,
        100.0,
        healthy(),
        vec![(30_000, Command::Promote)],
        no_outside,
    )
    .await;
    assert_eq!(run.report.outcome, Outcome::Promoted);
    let changes = run.provider.weight_changes();
    assert_eq!(changes.last().map(|c| c.1), Some(100));
    assert!(
        changes
            .last()
            .is_some_and(|c| c.0 >= Duration::from_secs(30)),
        "{changes:?}"
    );
}

#[tokio::test]
async fn webhooks_gate_the_start_and_the_promotion_and_can_roll_back() {
    let hooks = "webhooks:\n\
         - {name: ready, type: pre-rollout, url: 'http://127.0.0.1:1/'}\n\
         - {name: confirm, type: confirm-promotion, url: 'http://127.0.0.1:1/'}\n";
    let config = rollout(&format!(
        "strategy: {{canary: {{steps: [{{setWeight: 50}}]}}}}\n\
         analysis: {{interval: 1s, successRate: 0.9, minSamples: 1, failureLimit: 5}}\n{hooks}"
    ));
    let run_ok = run(&config, 100.0, healthy(), vec![], |clock| FakeOutside {
        clock,
        yes_from: vec![
            ("ready", Duration::from_secs(2)),
            ("confirm", Duration::from_secs(6)),
        ],
        query_value: None,
    })
    .await;
    assert_eq!(run_ok.report.outcome, Outcome::Promoted);
    let changes = run_ok.provider.weight_changes();
    // Traffic moved only after pre-rollout said yes, 100% only after
    // confirm-promotion did.
    assert!(changes[0].0 >= Duration::from_secs(2), "{changes:?}");
    assert!(
        changes
            .last()
            .is_some_and(|c| c.1 == 100 && c.0 >= Duration::from_secs(6)),
        "{changes:?}"
    );

    let rollback = rollout(
        "strategy: {canary: {steps: [{setWeight: 50}, {pause: {}}]}}\n\
         analysis: {interval: 1s, successRate: 0.9, minSamples: 1}\n\
         webhooks: [{name: stop, type: rollback, url: 'http://127.0.0.1:1/'}]\n",
    );
    let run_back = run(&rollback, 100.0, healthy(), vec![], |clock| FakeOutside {
        clock,
        yes_from: vec![("stop", Duration::from_secs(3))],
        query_value: None,
    })
    .await;
    assert!(
        matches!(run_back.report.outcome, Outcome::RolledBack { ref reason } if reason.contains("`stop`")),
        "{:?}",
        run_back.report.outcome
    );
}

#[tokio::test]
async fn a_prometheus_value_past_its_threshold_fails_the_analysis() {
    let config = rollout(
        "strategy: {canary: {steps: [{setWeight: 50}, {pause: {duration: 5s}}]}}\n\
         analysis: {interval: 1s, query: {address: 'http://127.0.0.1:1', promql: 'errors', max: 0.01}}\n",
    );
    let run = run(&config, 100.0, healthy(), vec![], |clock| FakeOutside {
        clock,
        yes_from: vec![],
        query_value: Some(0.5),
    })
    .await;
    assert!(
        matches!(run.report.outcome, Outcome::RolledBack { ref reason } if reason.contains("query value 0.5 is above 0.01")),
        "{:?}",
        run.report.outcome
    );
}

#[tokio::test]
async fn a_blue_green_rollout_switches_after_its_preview_analysis() {
    let config = rollout(
        "strategy: {blueGreen: {prePromotionAnalysis: {count: 2}}}\n\
         analysis: {interval: 1s, successRate: 0.9, minSamples: 1}\n",
    );
    // At weight 0 the fake provider sends the canary nothing: the preview
    // analysis is inconclusive and waits, here for a promote, which passes
    // the analysis step.
    let run = run(
        &config,
        100.0,
        healthy(),
        vec![(3_500, Command::Promote)],
        no_outside,
    )
    .await;
    assert_eq!(run.report.outcome, Outcome::Promoted);
    assert_eq!(run.provider.weights(), [0, 0, 100]);
}

#[tokio::test]
async fn a_promote_given_early_resumes_the_pause_and_skips_no_weight_step() {
    let config =
        rollout("strategy: {canary: {steps: [{setWeight: 10}, {pause: {}}, {setWeight: 100}]}}\n");
    let run = run(
        &config,
        100.0,
        healthy(),
        vec![(0, Command::Promote)],
        no_outside,
    )
    .await;
    assert_eq!(run.report.outcome, Outcome::Promoted);
    assert_eq!(run.provider.weights(), [0, 10, 100]);
}

#[tokio::test]
async fn a_pre_rollout_wait_ends_with_abort_or_promote() {
    let config = rollout(
        "strategy: {canary: {steps: [{setWeight: 100}]}}\n\
         analysis: {interval: 1s, successRate: 0.9, failureLimit: 100}\n\
         webhooks: [{name: never, type: pre-rollout, url: 'http://127.0.0.1:1/'}]\n",
    );
    let aborted = run(
        &config,
        100.0,
        healthy(),
        vec![(3_000, Command::Interrupt)],
        no_outside,
    )
    .await;
    assert_eq!(
        aborted.report.outcome,
        Outcome::Aborted {
            by: "a signal".into()
        }
    );
    assert!(aborted.provider.weights().iter().all(|w| *w == 0));
    let promoted = run(
        &config,
        100.0,
        healthy(),
        vec![(3_000, Command::Promote)],
        no_outside,
    )
    .await;
    assert_eq!(promoted.report.outcome, Outcome::Promoted);
}
