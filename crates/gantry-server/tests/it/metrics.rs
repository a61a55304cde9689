//! `/metrics`, parsed by Prometheus's reference parser (prometheus_client
//! from PyPI), against a store whose contents the test knows.

use std::process::Command;

use gantry_server::auth::Role;
use gantry_store::{CacheEvent, Conclusion, NewJob, NewRun, NewStep, Timestamp};
use serde_json::{Value, json};

use crate::common::{Fixture, client, start};

const PARSE: &str = "\
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in family.samples:
        out.append({'family': family.name, 'type': family.type, 'name': s.name, 'labels': s.labels, 'value': s.value})
print(json.dumps(out))
";

fn sample<'a>(samples: &'a [Value], name: &str, labels: Value) -> Option<&'a Value> {
    samples.iter().find(|s| {
        s["name"] == name
            && labels
                .as_object()
                .unwrap()
                .iter()
                .all(|(k, v)| s["labels"][k] == *v)
    })
}

fn value(samples: &[Value], name: &str, labels: Value) -> f64 {
    sample(samples, name, labels.clone())
        .unwrap_or_else(|| panic!("no sample {name} {labels}"))["value"]
        .as_f64()
        .unwrap()
}

/// Three production deployments ten days ago, on a clock the test moves:
/// a success (commit an hour before), a failure, and a rollback that
/// recovers from it; and a rollout at 25% whose last analysis passed.
fn deliveries(f: &Fixture) {
    use gantry_store::{DeploymentState as S, NewDeployment};
    let t0 = Timestamp::now().millis() - 10 * 86_400_000;
    let now = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(t0));
    let clock_now = now.clone();
    let store = gantry_store::Store::open_in(
        &f.home,
        gantry_store::StoreOptions {
            clock: std::sync::Arc::new(move || {
                Timestamp(clock_now.load(std::sync::atomic::Ordering::SeqCst))
            }),
            ..gantry_store::StoreOptions::default()
        },
    )
    .unwrap();
    let advance = |s: i64| now.fetch_add(s * 1000, std::sync::atomic::Ordering::SeqCst);
    let at = || Timestamp(now.load(std::sync::atomic::Ordering::SeqCst));
    let deploy = |commit: &str, committed: Timestamp, rollback_of, end: S| {
        let d = store
            .create_deployment(&NewDeployment {
                environment: "production".into(),
                commit: Some(commit.into()),
                commit_time: Some(committed),
                job_id: "deploy".into(),
                rollback_of,
                ..NewDeployment::default()
            })
            .unwrap();
        advance(30);
        store
            .set_deployment_state(d.id, S::InProgress, None, None)
            .unwrap();
        advance(60);
        store.set_deployment_state(d.id, end, None, None).unwrap();
        d.id
    };
    let first = deploy(
        "a",
        at().minus(std::time::Duration::from_secs(3600)),
        None,
        S::Success,
    );
    advance(3600);
    deploy("b", at(), None, S::Failure);
    advance(600);
    deploy("a", at(), Some(first), S::Success);
    store
        .begin_rollout(
            "web",
            "progressing",
            &json!({
                "rollout": "web", "phase": "progressing", "step": 2, "steps": 4,
                "canary_weight": 25, "message": "at 25%",
                "last_analysis": {"index": 1, "requests": 100, "errors": 1,
                    "success_rate": 0.99, "p99_ms": 12.5, "verdict": "successful", "reasons": []}
            })
            .to_string(),
        )
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_parse_with_the_reference_parser_and_match_the_store() {
    let f = Fixture::new();
    // A clock the test sets: durations are then known exactly.
    let now = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(1_000_000));
    let clock_now = now.clone();
    let options = gantry_store::StoreOptions {
        clock: std::sync::Arc::new(move || {
            Timestamp(clock_now.load(std::sync::atomic::Ordering::SeqCst))
        }),
        ..gantry_store::StoreOptions::default()
    };
    {
        let store = gantry_store::Store::open_in(&f.home, options).unwrap();
        let advance = |ms: i64| now.fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
        for (conclusion, job_ms, step_ms) in [
            (Conclusion::Success, 2_000, 500),
            (Conclusion::Success, 45_000, 20_000),
            (Conclusion::Failure, 7_000, 3_000),
        ] {
            let run = store
                .begin_run(&NewRun {
                    workflow_path: "ci.yml".into(),
                    workflow_name: "CI".into(),
                    event: "push".into(),
                    inputs_json: "{}".into(),
                    ..NewRun::default()
                })
                .unwrap();
            let job = store
                .begin_job(
                    run,
                    &NewJob {
                        job_id: "b".into(),
                        name: "b".into(),
                        matrix_json: None,
                        // Queued for 1 s, 40 s and 6 s.
                        queued_ms: Some(u64::try_from(step_ms * 2).unwrap()),
                    },
                )
                .unwrap();
            store
                .begin_step(
                    job,
                    &NewStep {
                        index: 0,
                        step_id: None,
                        name: "s".into(),
                    },
                )
                .unwrap();
            advance(step_ms);
            store
                .finish_step(job, 0, conclusion, conclusion, Some(0), &[])
                .unwrap();
            advance(job_ms - step_ms);
            store.finish_job(job, conclusion, &[]).unwrap();
            store.finish_run(run, conclusion).unwrap();
            store
                .record_cache_event(
                    run,
                    "k",
                    CacheEvent::Hit {
                        matched_key: "k".into(),
                    },
                )
                .unwrap();
        }
        // A run whose process went away before it finished: the server's
        // store finds it crashed when it opens.
        store
            .begin_run(&NewRun {
                workflow_path: "ci.yml".into(),
                workflow_name: "CI".into(),
                event: "push".into(),
                inputs_json: "{}".into(),
                ..NewRun::default()
            })
            .unwrap();
        let last = store.runs(1).unwrap()[0].id;
        store
            .record_cache_event(last, "k", CacheEvent::Miss)
            .unwrap();
    }
    deliveries(&f);
    let deployer = f.token("ci", Role::Deployer);
    let s = start(&f).await;
    let c = client();
    // One promotion decision, so the series has a known value.
    let made: Value = c
        .post(s.url("/v1/packages"))
        .bearer_auth(&deployer)
        .json(&json!({ "services": ["db"], "version": "2.0.0" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = made["id"].as_str().unwrap();
    let promoted = c
        .post(s.url(&format!("/v1/packages/{id}/promote")))
        .bearer_auth(&deployer)
        .send()
        .await
        .unwrap();
    assert_eq!(promoted.status(), 200);
    let resp = c
        .get(s.url("/metrics"))
        .bearer_auth(&deployer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = resp.text().await.unwrap();
    s.stop().await;

    let file = f.dir.path().join("metrics.txt");
    std::fs::write(&file, &text).unwrap();
    let out = Command::new("python3")
        .arg("-c")
        .arg(PARSE)
        .arg(&file)
        .output()
        .expect("python3 with prometheus-client (see .ci/run)");
    assert!(
        out.status.success(),
        "the reference parser refused /metrics:\n{}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let samples: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    // The Grafana dashboard's list of families is what the server exposes.
    let families: std::collections::BTreeSet<&str> = samples
        .iter()
        .map(|s| s["family"].as_str().unwrap())
        .collect();
    for family in gantry_server::grafana::SERIES {
        let parsed = family.strip_suffix("_total").unwrap_or(family);
        assert!(families.contains(parsed), "{family} is not in /metrics");
    }

    assert_eq!(
        value(&samples, "gantry_runs", json!({"conclusion": "success"})),
        2.0
    );
    assert_eq!(
        value(&samples, "gantry_runs", json!({"conclusion": "failure"})),
        1.0
    );
    assert_eq!(
        value(&samples, "gantry_runs", json!({"conclusion": "crashed"})),
        1.0
    );
    assert_eq!(
        value(&samples, "gantry_jobs", json!({"conclusion": "success"})),
        2.0
    );
    // Jobs of 2 s, 7 s and 45 s.
    let job = "gantry_job_duration_seconds_bucket";
    assert_eq!(value(&samples, job, json!({"le": "1.0"})), 0.0);
    assert_eq!(value(&samples, job, json!({"le": "5.0"})), 1.0);
    assert_eq!(value(&samples, job, json!({"le": "10.0"})), 2.0);
    assert_eq!(value(&samples, job, json!({"le": "60.0"})), 3.0);
    assert_eq!(value(&samples, job, json!({"le": "+Inf"})), 3.0);
    assert_eq!(
        value(&samples, "gantry_job_duration_seconds_sum", json!({})),
        54.0
    );
    assert_eq!(
        value(&samples, "gantry_job_duration_seconds_count", json!({})),
        3.0
    );
    // Queue times of 1 s, 6 s and 40 s.
    let queue = "gantry_job_queue_seconds_bucket";
    assert_eq!(value(&samples, queue, json!({"le": "1.0"})), 1.0);
    assert_eq!(value(&samples, queue, json!({"le": "10.0"})), 2.0);
    assert_eq!(value(&samples, queue, json!({"le": "60.0"})), 3.0);
    assert_eq!(
        value(&samples, "gantry_job_queue_seconds_sum", json!({})),
        47.0
    );
    // Steps of 0.5 s, 3 s and 20 s.
    let step = "gantry_step_duration_seconds_bucket";
    assert_eq!(value(&samples, step, json!({"le": "1.0"})), 1.0);
    assert_eq!(value(&samples, step, json!({"le": "30.0"})), 3.0);
    assert_eq!(
        value(&samples, "gantry_step_duration_seconds_sum", json!({})),
        23.5
    );
    assert_eq!(value(&samples, "gantry_cache_hit_ratio", json!({})), 0.75);
    assert_eq!(
        value(&samples, "gantry_cache_events", json!({"kind": "miss"})),
        1.0
    );
    assert_eq!(
        value(
            &samples,
            "gantry_service_state",
            json!({"service": "db", "state": "compliance_ready", "version": "2.0.0"})
        ),
        1.0
    );
    assert_eq!(
        value(
            &samples,
            "gantry_promotions_total",
            json!({"decision": "promoted"})
        ),
        1.0
    );
    assert_eq!(
        value(
            &samples,
            "gantry_http_requests_total",
            json!({"method": "POST", "route": "/v1/packages", "status": "201"})
        ),
        1.0
    );
    // Deliveries: by environment and state, queue time, the rollout, DORA.
    for (state, n) in [("success", 1.0), ("inactive", 1.0), ("failure", 1.0)] {
        assert_eq!(
            value(
                &samples,
                "gantry_deployments",
                json!({"environment": "production", "state": state})
            ),
            n
        );
    }
    let queue = "gantry_deployment_queue_seconds_bucket";
    let prod = |le: &str| json!({"environment": "production", "le": le});
    assert_eq!(value(&samples, queue, prod("10.0")), 0.0);
    assert_eq!(value(&samples, queue, prod("60.0")), 3.0);
    assert_eq!(
        value(
            &samples,
            "gantry_deployment_queue_seconds_sum",
            json!({"environment": "production"})
        ),
        90.0
    );
    assert_eq!(
        value(
            &samples,
            "gantry_rollout_canary_weight",
            json!({"rollout": "web"})
        ),
        25.0
    );
    assert_eq!(
        value(&samples, "gantry_rollout_step", json!({"rollout": "web"})),
        2.0
    );
    assert_eq!(
        value(
            &samples,
            "gantry_rollout_analysis",
            json!({"rollout": "web", "verdict": "successful"})
        ),
        1.0
    );
    assert_eq!(
        value(
            &samples,
            "gantry_rollout_analysis_success_rate",
            json!({"rollout": "web"})
        ),
        0.99
    );
    let env = || json!({"environment": "production"});
    let per_day = value(&samples, "gantry_dora_deployment_frequency_per_day", env());
    assert!((per_day - 3.0 / 90.0).abs() < 1e-9, "{per_day}");
    // Commit an hour before, 90 s from queued to success.
    assert_eq!(
        value(&samples, "gantry_dora_change_lead_time_seconds", env()),
        3690.0
    );
    let fail = value(&samples, "gantry_dora_change_fail_rate", env());
    assert!((fail - 1.0 / 3.0).abs() < 1e-9, "{fail}");
    // From the failure to the rollback's success: 600 s + 90 s.
    assert_eq!(
        value(&samples, "gantry_dora_recovery_time_seconds", env()),
        690.0
    );
    let rework = value(&samples, "gantry_dora_rework_rate", env());
    assert!((rework - 1.0 / 3.0).abs() < 1e-9, "{rework}");
    assert_eq!(
        value(
            &samples,
            "gantry_dora_cluster",
            json!({"environment": "production", "metric": "change_lead_time", "cluster": "elite"})
        ),
        1.0
    );
    assert_eq!(
        value(
            &samples,
            "gantry_dora_cluster",
            json!({"environment": "production", "metric": "change_fail_rate", "cluster": "low"})
        ),
        1.0
    );
    assert_eq!(
        value(
            &samples,
            "gantry_http_request_duration_seconds_count",
            json!({"route": "/v1/packages/{id}/promote"})
        ),
        1.0
    );
}
