//! `gantry dora` and `gantry incident` as a user runs them: incidents
//! opened and resolved from the command line, the report's figures
//! compared with gantry-deliver's independent Python computation
//! (`crates/gantry-deliver/tests/fixtures/dora_reference.py`) over the
//! same store, and the exit codes of bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use gantry_store::{
    DeploymentId, DeploymentState as S, NewDeployment, Store, StoreOptions, Timestamp,
};
use serde_json::{Value, json};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

fn gantry(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(args)
        .current_dir(home)
        .env("GANTRY_HOME", home.join("home"))
        .output()
        .unwrap()
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Records, on a clock that starts 130 days ago: production deployments
/// before the 90-day window (one failed), then in it successes, a failure
/// and its rollback, a redeployed commit, one without a commit time, one
/// refused and one still running; and a few to staging. Every event is
/// hours away from the windows' edges. Returns production's ids and
/// every deployment's creation time.
fn history(home: &Path) -> (Vec<DeploymentId>, Vec<i64>) {
    let now = Arc::new(AtomicI64::new(Timestamp::now().millis() - 130 * DAY));
    let clock = now.clone();
    let store = Store::open_with(
        &home.join("home"),
        StoreOptions {
            clock: Arc::new(move || Timestamp(clock.load(Ordering::SeqCst))),
            ..StoreOptions::default()
        },
    )
    .unwrap();
    let advance = |ms: i64| now.fetch_add(ms, Ordering::SeqCst);
    let at = || now.load(Ordering::SeqCst);
    // (environment, commit, commit made this long before, rollback of the
    // n-th production deployment, states after queued, then wait)
    type Step<'a> = (
        &'a str,
        Option<&'a str>,
        Option<i64>,
        Option<usize>,
        &'a [S],
        i64,
    );
    let plan: [Step<'_>; 16] = [
        (
            "production",
            Some("a1"),
            Some(2 * HOUR),
            None,
            &[S::InProgress, S::Success],
            10 * DAY,
        ),
        (
            "production",
            Some("a2"),
            Some(DAY),
            None,
            &[S::InProgress, S::Failure],
            3 * HOUR,
        ),
        (
            "production",
            Some("a3"),
            Some(5 * HOUR),
            None,
            &[S::InProgress, S::Success],
            35 * DAY,
        ),
        (
            "production",
            Some("b1"),
            Some(3 * HOUR),
            None,
            &[S::InProgress, S::Success],
            2 * DAY,
        ),
        (
            "staging",
            Some("b2"),
            Some(HOUR),
            None,
            &[S::InProgress, S::Success],
            4 * HOUR,
        ),
        (
            "production",
            Some("b2"),
            Some(9 * HOUR),
            None,
            &[S::InProgress, S::Failure],
            2 * HOUR,
        ),
        (
            "production",
            Some("b1"),
            Some(3 * HOUR),
            Some(3),
            &[S::InProgress, S::Success],
            5 * DAY,
        ),
        (
            "production",
            Some("b3"),
            None,
            None,
            &[S::InProgress, S::Success],
            6 * DAY,
        ),
        (
            "production",
            Some("b4"),
            Some(40 * MIN),
            None,
            &[S::Error],
            3 * DAY,
        ),
        (
            "production",
            Some("b4"),
            Some(50 * MIN),
            None,
            &[S::InProgress, S::Success],
            9 * DAY,
        ),
        (
            "staging",
            Some("b5"),
            Some(2 * DAY),
            None,
            &[S::InProgress, S::Error],
            6 * HOUR,
        ),
        (
            "production",
            Some("b5"),
            Some(3 * DAY),
            None,
            &[S::InProgress, S::Success],
            12 * DAY,
        ),
        (
            "production",
            Some("b1"),
            Some(4 * DAY),
            None,
            &[S::InProgress, S::Success],
            8 * DAY,
        ),
        (
            "production",
            Some("b6"),
            Some(6 * HOUR),
            None,
            &[S::InProgress, S::Success],
            7 * DAY,
        ),
        (
            "staging",
            Some("b6"),
            Some(HOUR),
            None,
            &[S::InProgress, S::Success],
            2 * DAY,
        ),
        (
            "production",
            Some("b7"),
            Some(HOUR),
            None,
            &[S::InProgress],
            HOUR,
        ),
    ];
    let mut production = Vec::new();
    let mut created = Vec::new();
    for (environment, commit, lead, rollback_of, states, wait) in plan {
        let d = store
            .create_deployment(&NewDeployment {
                environment: environment.into(),
                commit: commit.map(str::to_string),
                commit_time: lead.map(|l| Timestamp(at() - l)),
                job_id: "deploy".into(),
                job_name: "deploy".into(),
                workflow_path: ".github/workflows/deploy.yml".into(),
                creator: "carol".into(),
                rollback_of: rollback_of.map(|n| production[n]),
                ..NewDeployment::default()
            })
            .unwrap();
        for &state in states {
            advance(7 * MIN);
            store.set_deployment_state(d.id, state, None, None).unwrap();
        }
        created.push(d.created_at.millis());
        if environment == "production" {
            production.push(d.id);
        }
        advance(wait);
    }
    assert!(
        at() < Timestamp::now().millis() - HOUR,
        "the history is in the past"
    );
    (production, created)
}

fn reference_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../gantry-deliver/tests/fixtures/dora_reference.py")
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

/// `gantry dora --format json`'s figures in the reference's shape.
fn figures(r: &Value) -> Value {
    let ids = |list: &Value, key: Option<&str>| -> Value {
        list.as_array()
            .unwrap()
            .iter()
            .map(|v| key.map_or(v.clone(), |k| v[k].clone()))
            .collect()
    };
    json!({
        "environment": r["environment"],
        "deployments": r["deployment_frequency"]["deployments"],
        "in_progress": r["in_progress"],
        "per_day": r["deployment_frequency"]["per_day"],
        "frequency_cluster": r["deployment_frequency"]["cluster"],
        "lead_median": r["change_lead_time"]["median_seconds"],
        "lead_changes": r["change_lead_time"]["changes"],
        "without_commit_time": r["change_lead_time"]["without_commit_time"],
        "lead_cluster": r["change_lead_time"]["cluster"],
        "failed": r["change_fail_rate"]["count"],
        "fail_rate": r["change_fail_rate"]["rate"],
        "fail_cluster": r["change_fail_rate"]["cluster"],
        "recovery_median": r["failed_deployment_recovery_time"]["median_seconds"],
        "recovered": r["failed_deployment_recovery_time"]["recovered"],
        "unrecovered": r["failed_deployment_recovery_time"]["unrecovered"],
        "recovery_cluster": r["failed_deployment_recovery_time"]["cluster"],
        "rework": r["deployment_rework_rate"]["count"],
        "rework_rate": r["deployment_rework_rate"]["rate"],
        "failed_ids": ids(&r["failed_changes"], Some("deployment")),
        "failed_reasons": ids(&r["failed_changes"], Some("reasons")),
        "rework_ids": ids(&r["rework"], None),
    })
}

fn close(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        _ => a == b,
    }
}

#[test]
fn dora_from_the_command_line_matches_the_reference_computation() {
    if !python_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (production, created) = history(dir.path());

    // An incident against the b6 success, resolved; one against b5, open.
    let opened = json_of(&gantry(
        dir.path(),
        &[
            "incident",
            "open",
            "--deployment",
            &production[11].to_string(),
            "--title",
            "checkout errors",
            "--format",
            "json",
        ],
    ));
    let first = opened["incidents"][0]["id"].as_u64().unwrap().to_string();
    assert_eq!(opened["incidents"][0]["environment"], "production");
    assert_eq!(opened["incidents"][0]["resolved_at"], Value::Null);
    json_of(&gantry(
        dir.path(),
        &[
            "incident",
            "open",
            "--deployment",
            &production[9].to_string(),
            "--format",
            "json",
        ],
    ));
    let resolved = json_of(&gantry(
        dir.path(),
        &["incident", "resolve", &first, "--format", "json"],
    ));
    assert_ne!(resolved["incidents"][0]["resolved_at"], Value::Null);
    let listed = json_of(&gantry(
        dir.path(),
        &[
            "incident",
            "list",
            "--environment",
            "production",
            "--format",
            "json",
        ],
    ));
    assert_eq!(listed["incidents"].as_array().unwrap().len(), 2);

    let db = dir.path().join("home/gantry.db");
    for (environment, since) in [
        ("production", "90d"),
        ("production", "365d"),
        ("staging", "30d"),
        ("staging", "90d"),
    ] {
        let report = json_of(&gantry(
            dir.path(),
            &[
                "dora",
                "--environment",
                environment,
                "--since",
                since,
                "--format",
                "json",
            ],
        ));
        assert_eq!(report["version"], 1);
        // The report's `until`, to the second; no deployment is near it.
        let until = report["until"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond()
            + 999;
        let days: i64 = since.trim_end_matches('d').parse().unwrap();
        let edge = until - days * DAY;
        assert!(
            created.iter().all(|&c| (c - edge).abs() > 10 * MIN),
            "a deployment is too near the edge of {since}"
        );
        let out = Command::new("python3")
            .arg(reference_script())
            .arg(&db)
            .arg(until.to_string())
            .arg(format!("{environment}={}", days * DAY))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs: Value = serde_json::from_slice(&out.stdout).unwrap();
        let theirs = &theirs[0];
        let ours = figures(&report);
        for (key, value) in ours.as_object().unwrap() {
            assert!(
                close(value, &theirs[key]),
                "{environment} {since} {key}: gantry {value}, reference {}",
                theirs[key]
            );
        }
    }

    // Production's last 90 days hold the rules' cases.
    let r = json_of(&gantry(dir.path(), &["dora", "--format", "json"]));
    assert_eq!(r["environment"], "production");
    assert_eq!(r["in_progress"], 1);
    assert_eq!(r["change_lead_time"]["without_commit_time"], 1);
    assert_eq!(r["failed_deployment_recovery_time"]["unrecovered"], 1);
    let reasons: Vec<Value> = r["failed_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["reasons"].clone())
        .collect();
    for want in ["failed", "rolled_back", "incident"] {
        assert!(
            reasons
                .iter()
                .any(|r| r.as_array().unwrap().contains(&json!(want))),
            "{want}: {reasons:?}"
        );
    }
    let human = gantry(dir.path(), &["dora"]);
    assert!(human.status.success());
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("DORA for `production`"), "{text}");
    assert!(text.contains("1 deployment(s) still under way"), "{text}");
}

#[test]
fn bad_windows_and_unknown_records_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["dora", "--since", "ninety"][..],
        &["dora", "--since", "0d"],
        &["dora", "--since", "36501d"],
        &["dora", "--environment", " "],
        &["incident", "open", "--deployment", "999"],
        &["incident", "resolve", "12"],
        &["incident", "resolve", "x"],
    ] {
        let out = gantry(dir.path(), args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stderr.is_empty(), "{args:?} says nothing");
    }
    // Nothing recorded yet: an empty report, not an error.
    let r = json_of(&gantry(dir.path(), &["dora", "--format", "json"]));
    assert_eq!(r["deployment_frequency"]["deployments"], 0);
    assert_eq!(
        r["failed_deployment_recovery_time"]["median_seconds"],
        Value::Null
    );
}
