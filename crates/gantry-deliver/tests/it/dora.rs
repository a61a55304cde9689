//! DORA's figures checked against an independent computation: a seeded,
//! varied deployment history (successes, failures, refusals, rollbacks,
//! incidents opened and resolved, several environments, commit times
//! known and not) is recorded in a real store, `dora::report` computes the
//! five figures and the weekly trend, and `tests/fixtures/dora_reference.py`
//! (Python's standard library only, reading the store's SQLite file)
//! computes them on its own; they must agree.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use gantry_deliver::dora::{self, Cluster, DoraQuery, DoraReport, FailReason};
use gantry_store::{
    DeploymentId, DeploymentState, IncidentId, NewDeployment, Store, StoreOptions, Timestamp,
};
use serde_json::{Value, json};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// 2026-03-02T09:00:00Z, a Monday: where the generated history begins.
const START: i64 = 1_772_442_000_000;

const ENVIRONMENTS: [&str; 3] = ["production", "staging", "eu-production"];
const WINDOWS: [&str; 4] = ["90d", "30d", "2w", "365d"];

/// xorshift64*: the same history for the same seed, everywhere.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A number in `lo..hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo) as u64) as i64
    }
    fn percent(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }
}

#[derive(Debug, Clone, Copy)]
enum Outcome {
    Success,
    Failure,
    /// Started, then an error.
    Error,
    /// Refused before it started (never `in_progress`).
    Refused,
    /// Still running at the end of the history.
    Running,
    /// Still waiting at the end of the history.
    Waiting,
}

struct Planned {
    environment: &'static str,
    commit: Option<String>,
    commit_time: Option<i64>,
    /// Index of the planned deployment it rolls back to.
    rollback_of: Option<usize>,
}

#[derive(Debug)]
enum Event {
    Create(usize),
    Status(usize, DeploymentState),
    Open(usize, usize),
    Resolve(usize),
}

/// A clock the generator sets to each event's time.
#[derive(Clone)]
struct Clock(Arc<AtomicI64>);

impl Clock {
    fn options(&self) -> StoreOptions {
        let t = self.0.clone();
        StoreOptions {
            clock: Arc::new(move || Timestamp(t.load(Ordering::SeqCst))),
            ..StoreOptions::default()
        }
    }
    fn set(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

struct History {
    // The store closes before its folder goes.
    store: Store,
    _home: tempfile::TempDir,
    clock: Clock,
    /// After the last event: the report's `until`.
    until: Timestamp,
}

/// Records `count` deployments spread over about five months, with the
/// mix of outcomes, rollbacks, redeployed commits and incidents a real
/// team's history has.
fn generate(seed: u64, count: usize) -> History {
    let mut rng = Rng::new(seed);
    let mut plans: Vec<Planned> = Vec::new();
    let mut events: Vec<(i64, Event)> = Vec::new();
    let mut commits: Vec<(String, Option<i64>)> = Vec::new();
    // Per environment: the planned successes so far (rollback targets).
    let mut successes: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut incidents = 0usize;
    let mut t = START;
    for n in 0..count {
        t += match rng.range(0, 10) {
            0..=3 => rng.range(5 * MINUTE, 2 * HOUR),
            4..=7 => rng.range(2 * HOUR, DAY),
            _ => rng.range(DAY, 4 * DAY),
        };
        let environment = match rng.range(0, 20) {
            0..=11 => ENVIRONMENTS[0],
            12..=16 => ENVIRONMENTS[1],
            _ => ENVIRONMENTS[2],
        };
        let targets = successes.get(environment).cloned().unwrap_or_default();
        let rollback_of = (!targets.is_empty() && rng.percent(10))
            .then(|| targets[rng.range(0, targets.len() as i64) as usize]);
        let (commit, commit_time) = if let Some(target) = rollback_of {
            (plans[target].commit.clone(), plans[target].commit_time)
        } else {
            match rng.range(0, 100) {
                0..=11 if !commits.is_empty() => {
                    let (c, at) = commits[rng.range(0, commits.len() as i64) as usize].clone();
                    (Some(c), at)
                }
                12..=19 => {
                    commits.push((format!("{n:08x}"), None));
                    (Some(format!("{n:08x}")), None)
                }
                20..=23 => (None, None),
                _ => {
                    let made = t - rng.range(10 * MINUTE, 12 * DAY);
                    commits.push((format!("{n:08x}"), Some(made)));
                    (Some(format!("{n:08x}")), Some(made))
                }
            }
        };
        let outcome = if n + 4 >= count && rng.percent(50) {
            if rng.percent(50) {
                Outcome::Running
            } else {
                Outcome::Waiting
            }
        } else {
            match rng.range(0, 100) {
                0..=4 => Outcome::Refused,
                5..=66 => Outcome::Success,
                67..=84 => Outcome::Failure,
                _ => Outcome::Error,
            }
        };
        plans.push(Planned {
            environment,
            commit,
            commit_time,
            rollback_of,
        });
        events.push((t, Event::Create(n)));
        let started = t + rng.range(0, 30 * MINUTE);
        let ended = started + rng.range(MINUTE, 40 * MINUTE);
        let mut incident_after = None;
        match outcome {
            Outcome::Refused => events.push((started, Event::Status(n, DeploymentState::Error))),
            Outcome::Waiting => {}
            Outcome::Running => {
                events.push((started, Event::Status(n, DeploymentState::InProgress)));
            }
            Outcome::Success | Outcome::Failure | Outcome::Error => {
                events.push((started, Event::Status(n, DeploymentState::InProgress)));
                let state = match outcome {
                    Outcome::Success => DeploymentState::Success,
                    Outcome::Failure => DeploymentState::Failure,
                    _ => DeploymentState::Error,
                };
                events.push((ended, Event::Status(n, state)));
                if matches!(outcome, Outcome::Success) {
                    successes.entry(environment).or_default().push(n);
                    if rng.percent(18) {
                        incident_after = Some(ended);
                    }
                } else if rng.percent(5) {
                    incident_after = Some(ended);
                }
            }
        }
        if let Some(after) = incident_after {
            let many = if rng.percent(15) { 2 } else { 1 };
            for _ in 0..many {
                let opened = after + rng.range(5 * MINUTE, 2 * DAY);
                events.push((opened, Event::Open(n, incidents)));
                if rng.percent(80) {
                    let resolved = opened + rng.range(10 * MINUTE, 3 * DAY);
                    events.push((resolved, Event::Resolve(incidents)));
                }
                incidents += 1;
            }
        }
    }
    // In time order; at equal times, in the order planned.
    events.sort_by_key(|(at, _)| *at);
    let until = events.iter().map(|(at, _)| *at).max().unwrap_or(START) + HOUR;

    let home = tempfile::tempdir().unwrap();
    let clock = Clock(Arc::new(AtomicI64::new(START)));
    let store = Store::open_with(home.path(), clock.options()).unwrap();
    let mut ids: Vec<Option<DeploymentId>> = vec![None; plans.len()];
    let mut incident_ids: Vec<Option<IncidentId>> = vec![None; incidents];
    for (at, event) in &events {
        clock.set(*at);
        match *event {
            Event::Create(n) => {
                let p = &plans[n];
                let d = store
                    .create_deployment(&NewDeployment {
                        environment: p.environment.into(),
                        git_ref: Some("refs/heads/main".into()),
                        commit: p.commit.clone(),
                        commit_time: p.commit_time.map(Timestamp),
                        job_id: "deploy".into(),
                        job_name: "deploy".into(),
                        workflow_path: ".github/workflows/deploy.yml".into(),
                        creator: "carol".into(),
                        rollback_of: p.rollback_of.map(|r| ids[r].unwrap()),
                        ..NewDeployment::default()
                    })
                    .unwrap();
                ids[n] = Some(d.id);
            }
            Event::Status(n, state) => {
                store
                    .set_deployment_state(ids[n].unwrap(), state, None, None)
                    .unwrap();
            }
            Event::Open(n, i) => {
                let incident = store
                    .open_incident(ids[n].unwrap(), &format!("incident {i}"))
                    .unwrap();
                incident_ids[i] = Some(incident.id);
            }
            Event::Resolve(i) => {
                store.resolve_incident(incident_ids[i].unwrap()).unwrap();
            }
        }
    }
    History {
        store,
        _home: home,
        clock,
        until: Timestamp(until),
    }
}

fn python_available() -> bool {
    let found = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        let reason = "python3 is not installed (Debian: apt-get install python3)";
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{reason}");
        }
        eprintln!("skipping: {reason}");
    }
    found
}

/// The reference script's figures for each (environment, window).
fn reference(db: &Path, until: Timestamp, queries: &[(&str, &str)]) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dora_reference.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script).arg(db).arg(until.millis().to_string());
    for (environment, since) in queries {
        let ms = dora::parse_since(since).unwrap().as_millis();
        cmd.arg(format!("{environment}={ms}"));
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "the reference script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let Value::Array(list) = serde_json::from_slice(&out.stdout).unwrap() else {
        panic!("the reference script printed no list");
    };
    list
}

fn cluster(c: Option<Cluster>) -> Value {
    c.map_or(Value::Null, |c| c.as_str().into())
}

fn reason(r: FailReason) -> &'static str {
    match r {
        FailReason::Failed => "failed",
        FailReason::RolledBack => "rolled_back",
        FailReason::Incident => "incident",
    }
}

/// gantry's report in the reference script's shape.
fn figures(r: &DoraReport) -> Value {
    json!({
        "environment": r.environment,
        "deployments": r.deployment_frequency.deployments,
        "in_progress": r.in_progress,
        "per_day": r.deployment_frequency.per_day,
        "frequency_cluster": cluster(r.deployment_frequency.cluster),
        "lead_median": r.change_lead_time.median_seconds,
        "lead_changes": r.change_lead_time.changes,
        "without_commit_time": r.change_lead_time.without_commit_time,
        "lead_cluster": cluster(r.change_lead_time.cluster),
        "failed": r.change_fail_rate.count,
        "fail_rate": r.change_fail_rate.rate,
        "fail_cluster": cluster(r.change_fail_rate.cluster),
        "recovery_median": r.failed_deployment_recovery_time.median_seconds,
        "recovered": r.failed_deployment_recovery_time.recovered,
        "unrecovered": r.failed_deployment_recovery_time.unrecovered,
        "recovery_cluster": cluster(r.failed_deployment_recovery_time.cluster),
        "rework": r.deployment_rework_rate.count,
        "rework_rate": r.deployment_rework_rate.rate,
        "failed_ids": r.failed_changes.iter().map(|f| f.deployment.0).collect::<Vec<_>>(),
        "failed_reasons": r.failed_changes.iter()
            .map(|f| f.reasons.iter().map(|&x| reason(x)).collect::<Vec<_>>())
            .collect::<Vec<_>>(),
        "rework_ids": r.rework.iter().map(|d| d.0).collect::<Vec<_>>(),
        "weeks": r.weeks.iter().map(|w| json!({
            "start_ms": w.start.millis(),
            "deployments": w.deployments,
            "failed": w.failed_changes,
            "fail_rate": w.change_fail_rate,
            "lead_median": w.lead_time_median_seconds,
            "recovery_median": w.recovery_median_seconds,
        })).collect::<Vec<_>>(),
    })
}

/// Where `a` and `b` differ (numbers within float rounding are equal).
fn differences(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            if (x - y).abs() > 1e-9 * x.abs().max(y.abs()).max(1.0) {
                out.push(format!("{path}: gantry {x}, reference {y}"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let null = Value::Null;
                differences(
                    &format!("{path}.{k}"),
                    x.get(k).unwrap_or(&null),
                    y.get(k).unwrap_or(&null),
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                differences(&format!("{path}[{i}]"), p, q, out);
            }
        }
        _ if a == b => {}
        _ => out.push(format!("{path}: gantry {a}, reference {b}")),
    }
}

fn queries() -> Vec<(&'static str, &'static str)> {
    ENVIRONMENTS
        .iter()
        .flat_map(|e| WINDOWS.iter().map(move |w| (*e, *w)))
        .collect()
}

/// gantry's figures for each query, as of `until`.
fn gantry(store: &Store, until: Timestamp, queries: &[(&str, &str)]) -> Vec<Value> {
    queries
        .iter()
        .map(|(e, w)| {
            let q = DoraQuery::parse(Some(e), Some(w)).unwrap();
            figures(&dora::report(store, &q, until).unwrap())
        })
        .collect()
}

fn compare(ours: &[Value], theirs: &[Value]) -> Vec<String> {
    assert_eq!(ours.len(), theirs.len());
    let mut out = Vec::new();
    for (a, b) in ours.iter().zip(theirs) {
        let name = format!("{}", a["environment"]);
        differences(&name, a, b, &mut out);
    }
    out
}

#[test]
fn figures_match_an_independent_computation_over_generated_histories() {
    if !python_available() {
        return;
    }
    let queries = queries();
    // What the histories must have exercised, over all seeds.
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for seed in [1, 7, 2024, 90210] {
        let h = generate(seed, 220);
        let ours = gantry(&h.store, h.until, &queries);
        let theirs = reference(h.store.database_path(), h.until, &queries);
        let diff = compare(&ours, &theirs);
        assert!(
            diff.is_empty(),
            "seed {seed}: gantry and the reference disagree:\n{}",
            diff.join("\n")
        );
        for f in &ours {
            let n = |k: &str| f[k].as_u64().unwrap();
            for (k, what) in [
                ("deployments", "deployments"),
                ("in_progress", "deployments under way"),
                ("lead_changes", "changes with a lead time"),
                ("without_commit_time", "changes without a commit time"),
                ("recovered", "recovered failures"),
                ("unrecovered", "unrecovered failures"),
                ("rework", "rework"),
            ] {
                if n(k) > 0 {
                    seen.insert(what);
                }
            }
            for reasons in f["failed_reasons"].as_array().unwrap() {
                for r in reasons.as_array().unwrap() {
                    seen.insert(match r.as_str().unwrap() {
                        "failed" => "failed deployments",
                        "rolled_back" => "rolled-back deployments",
                        _ => "incidents",
                    });
                }
            }
            if f["weeks"].as_array().unwrap().len() > 1 {
                seen.insert("several weeks");
            }
            for k in ["frequency_cluster", "fail_cluster", "lead_cluster"] {
                if let Some(c) = f[k].as_str() {
                    seen.insert(match c {
                        "elite" => "elite",
                        "high" => "high",
                        "medium" => "medium",
                        _ => "low",
                    });
                }
            }
        }
        // The window of 90 days leaves deployments out: the history is longer.
        let all = &ours[3];
        let recent = &ours[0];
        assert!(
            recent["deployments"].as_u64() < all["deployments"].as_u64(),
            "seed {seed}: the 90-day window should leave older deployments out"
        );
    }
    for want in [
        "deployments",
        "deployments under way",
        "changes with a lead time",
        "changes without a commit time",
        "recovered failures",
        "unrecovered failures",
        "rework",
        "failed deployments",
        "rolled-back deployments",
        "incidents",
        "several weeks",
        "elite",
        "high",
        "medium",
        "low",
    ] {
        assert!(
            seen.contains(want),
            "the generated histories have no {want}"
        );
    }
}

#[test]
fn a_changed_history_changes_both_computations_alike() {
    if !python_available() {
        return;
    }
    let h = generate(42, 160);
    let queries = [("production", "90d"), ("staging", "90d")];
    let before = gantry(&h.store, h.until, &queries);
    assert!(
        compare(
            &before,
            &reference(h.store.database_path(), h.until, &queries)
        )
        .is_empty()
    );

    // An incident against the newest clean success in production, opened
    // and resolved two hours apart: one more failed change, one more
    // recovery, and nothing in staging moves.
    let history = h.store.environment_history("production").unwrap();
    let failed: BTreeSet<u64> = before[0]["failed_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let clean = history
        .iter()
        .rev()
        .find(|d| d.state == DeploymentState::Success && !failed.contains(&d.id.0))
        .or_else(|| {
            history.iter().rev().find(|d| {
                d.state == DeploymentState::Inactive
                    && !failed.contains(&d.id.0)
                    && d.created_at >= h.until.minus(Duration::from_secs(80 * 86_400))
            })
        })
        .expect("a clean success in production");
    h.clock.set(h.until.millis() - 3 * HOUR);
    let incident = h.store.open_incident(clean.id, "late regression").unwrap();
    h.clock.set(h.until.millis() - HOUR);
    h.store.resolve_incident(incident.id).unwrap();

    let after = gantry(&h.store, h.until, &queries);
    let theirs = reference(h.store.database_path(), h.until, &queries);
    let diff = compare(&after, &theirs);
    assert!(diff.is_empty(), "after the change:\n{}", diff.join("\n"));
    assert_eq!(
        after[0]["failed"].as_u64().unwrap(),
        before[0]["failed"].as_u64().unwrap() + 1
    );
    assert_eq!(
        after[0]["recovered"].as_u64().unwrap(),
        before[0]["recovered"].as_u64().unwrap() + 1
    );
    assert_ne!(after[0]["fail_rate"], before[0]["fail_rate"]);
    assert!(compare(&after[1..], &before[1..]).is_empty());
    // The old figures no longer match the reference: the comparison can fail.
    let stale = compare(&before, &theirs);
    assert!(
        stale.iter().any(|d| d.contains(".failed:")),
        "the comparison did not notice the change: {stale:?}"
    );
}
