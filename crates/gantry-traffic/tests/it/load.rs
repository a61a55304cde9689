//! The load generator against loopback backends started here.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use gantry_traffic::load::{self, LoadError, LoadSpec, Model};
use hyper::StatusCode;

use crate::common;

fn spec(url: String, model: Model, thresholds: &[&str]) -> LoadSpec {
    let mut spec = LoadSpec::new(&url, model, Duration::from_secs(1));
    spec.thresholds = thresholds.iter().map(|t| t.parse().unwrap()).collect();
    spec
}

fn verdicts(report: &load::LoadReport) -> Vec<(&str, bool)> {
    report
        .thresholds
        .iter()
        .map(|t| (t.threshold.as_str(), t.passed))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_share_of_failures_is_the_error_rate() {
    // Every fifth request is a 503.
    let backend = common::backend(
        "flaky",
        Arc::new(|n| {
            let status = if n % 5 == 0 {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::OK
            };
            (status, Duration::ZERO)
        }),
    )
    .await;
    let url = format!("http://{}/health?x=1", backend.addr);
    let report = load::run(&spec(
        url,
        Model::Concurrency(4),
        &["error_rate<0.1", "error_rate<0.3", "rps>1"],
    ))
    .await
    .unwrap();
    let served = backend.served.load(Ordering::Relaxed);
    assert_eq!(report.requests, served);
    assert!(served >= 10, "only {served} requests in a second");
    assert_eq!(report.errors.status_5xx, served.div_ceil(5));
    assert_eq!(report.status_classes[4], served.div_ceil(5));
    assert_eq!(report.status_classes[1], served - served.div_ceil(5));
    assert_eq!(report.errors.total(), report.errors.status_5xx);
    let rate = report.error_rate.unwrap();
    assert!((rate - 0.2).abs() < 0.05, "{rate}");
    assert_eq!(
        verdicts(&report),
        [
            ("error_rate<0.1", false),
            ("error_rate<0.3", true),
            ("rps>1", true)
        ]
    );
    assert!(!report.passed());
    assert_eq!(report.model, "concurrency");
    assert_eq!(report.connections, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_open_model_sends_one_request_per_slot_of_the_rate() {
    let backend = common::backend("ok", common::ok()).await;
    let url = format!("http://{}/", backend.addr);
    let report = load::run(&spec(
        url,
        Model::Rate(200.0),
        &["error_rate<0.01", "p99<5s"],
    ))
    .await
    .unwrap();
    // Requests due in the first second at 200/s: exactly 200.
    assert_eq!(report.requests, 200);
    assert_eq!(backend.served.load(Ordering::Relaxed), 200);
    assert_eq!(report.status_classes[1], 200);
    assert_eq!(report.error_rate, Some(0.0));
    assert!(report.passed(), "{report:?}");
    assert_eq!(report.target_rate, Some(200.0));
    let latency = &report.latency;
    assert!(latency.p50_ms <= latency.p99_ms && latency.p99_ms <= latency.max_ms);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_server_fails_a_latency_threshold_and_gets_more_connections() {
    let backend = common::backend(
        "slow",
        Arc::new(|_| (StatusCode::OK, Duration::from_millis(50))),
    )
    .await;
    let url = format!("http://{}/", backend.addr);
    let report = load::run(&spec(
        url,
        Model::Rate(100.0),
        &["p50<10ms", "p99<5s", "avg>=50ms", "max<=10s"],
    ))
    .await
    .unwrap();
    assert_eq!(report.requests, 100);
    assert!(report.latency.p50_ms.unwrap() >= 50.0, "{report:?}");
    assert_eq!(
        verdicts(&report),
        [
            ("p50<10ms", false),
            ("p99<5s", true),
            ("avg>=50ms", true),
            ("max<=10s", true)
        ]
    );
    // Four connections serve at most 80 requests a second of 50 ms each;
    // 100/s needs more, so the generator opened more.
    assert!(report.connections > 4, "{}", report.connections);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_counts_from_when_a_request_was_due() {
    // The first request stalls 400 ms; on one connection, the requests due
    // meanwhile wait, and that wait is their latency (an uncorrected
    // generator would report one slow request out of fifty).
    let backend = common::backend(
        "stall",
        Arc::new(|n| {
            let delay = if n == 0 { 400 } else { 0 };
            (StatusCode::OK, Duration::from_millis(delay))
        }),
    )
    .await;
    let url = format!("http://{}/", backend.addr);
    let mut spec = spec(url, Model::Rate(50.0), &[]);
    spec.max_connections = 1;
    let report = load::run(&spec).await.unwrap();
    assert_eq!(report.requests, 50);
    assert_eq!(report.connections, 1);
    // Requests due at 0, 20, ..., 380 ms waited for the stall: the tenth
    // of them still waited over 100 ms.
    let p90 = report.latency.p90_ms.unwrap();
    assert!(p90 >= 100.0, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connections_are_errors_by_kind() {
    let port = common::free_port();
    let mut spec = spec(
        format!("http://127.0.0.1:{port}/"),
        Model::Rate(50.0),
        &["error_rate<0.5"],
    );
    spec.duration = Duration::from_millis(200);
    let report = load::run(&spec).await.unwrap();
    assert_eq!(report.requests, 10);
    assert_eq!(report.errors.connect, 10);
    assert_eq!(report.error_rate, Some(1.0));
    assert!(!report.passed());
}

#[tokio::test]
async fn bad_settings_are_refused_before_any_request() {
    let run = |url: &str, model| {
        let spec = LoadSpec::new(url, model, Duration::from_secs(1));
        async move { load::run(&spec).await }
    };
    assert!(matches!(
        run("https://127.0.0.1:1/", Model::Rate(1.0)).await,
        Err(LoadError::Url { .. })
    ));
    assert!(matches!(
        run("127.0.0.1:1", Model::Rate(1.0)).await,
        Err(LoadError::Url { .. })
    ));
    assert!(matches!(
        run("http://127.0.0.1:1/", Model::Concurrency(0)).await,
        Err(LoadError::Settings(_))
    ));
    assert!(matches!(
        run("http://127.0.0.1:1/", Model::Rate(-1.0)).await,
        Err(LoadError::Settings(_))
    ));
    let over = run("http://127.0.0.1:1/", Model::Concurrency(100_000)).await;
    assert!(
        matches!(&over, Err(LoadError::Settings(m)) if m.contains("--max-connections")),
        "{over:?}"
    );
}
