//! Health checks against a server on loopback that fails a given number
//! of times before it answers well.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use gantry_deliver::health::{self, BodyMatch, HealthCheck, InputError};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// A server on 127.0.0.1 that answers 503 to the first `failures`
/// requests and `200 ok` after; gives its URL and the request count. It
/// stops with the test's runtime.
async fn flaky(failures: usize) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_req: Request<hyper::body::Incoming>| {
                    let n = seen.fetch_add(1, Ordering::SeqCst);
                    async move {
                        let (status, body) = if n < failures {
                            (503, "starting")
                        } else {
                            (200, "ok: version 2")
                        };
                        Ok::<_, std::convert::Infallible>(
                            Response::builder()
                                .status(status)
                                .body(Full::new(Bytes::from(body)))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (format!("http://{addr}/healthz"), count)
}

fn quick(url: &str) -> HealthCheck {
    let mut check = HealthCheck::new(url);
    check.backoff = Duration::from_millis(5);
    check.timeout = Duration::from_secs(5);
    check.deadline = Duration::from_secs(30);
    check
}

#[tokio::test]
async fn retries_until_the_server_is_healthy() {
    let (url, count) = flaky(3).await;
    let mut check = quick(&url);
    check.retries = 5;
    check.body = Some(BodyMatch::Contains("version 2".into()));
    let report = health::run(&check, &health::client().unwrap()).await;
    assert!(report.healthy, "{report:?}");
    assert_eq!(report.attempts.len(), 4);
    assert_eq!(count.load(Ordering::SeqCst), 4);
    let statuses: Vec<_> = report.attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(503), Some(503), Some(503), Some(200)]);
    assert_eq!(
        report.attempts[0].error.as_deref(),
        Some("status 503, expected 200")
    );
    assert_eq!(report.attempts[3].error, None);
    assert_eq!(
        report.summary(),
        format!("{url} is healthy after 4 attempts")
    );
}

#[tokio::test]
async fn gives_up_when_retries_run_out() {
    let (url, count) = flaky(10).await;
    let mut check = quick(&url);
    check.retries = 2;
    let report = health::run(&check, &health::client().unwrap()).await;
    assert!(!report.healthy);
    assert_eq!(report.attempts.len(), 3);
    assert_eq!(count.load(Ordering::SeqCst), 3);
    assert_eq!(
        report.reason.as_deref(),
        Some("status 503, expected 200 (no retries left of 2 retries)")
    );
}

#[tokio::test]
async fn the_deadline_ends_the_check_whatever_retries_are_left() {
    let (url, count) = flaky(usize::MAX).await;
    let mut check = quick(&url);
    check.retries = 1_000_000;
    check.backoff = Duration::from_millis(50);
    check.deadline = Duration::from_millis(400);
    let report = health::run(&check, &health::client().unwrap()).await;
    assert!(!report.healthy);
    let reason = report.reason.as_deref().unwrap();
    assert!(reason.ends_with("(deadline of 400ms reached)"), "{reason}");
    assert!(report.attempts.len() < 1_000, "{}", report.attempts.len());
    assert_eq!(count.load(Ordering::SeqCst), report.attempts.len());
}

#[tokio::test]
async fn a_body_that_does_not_match_fails_the_attempt() {
    let (url, _) = flaky(0).await;
    let mut check = quick(&url);
    check.retries = 0;
    check.body = Some(BodyMatch::Regex(
        regex::Regex::new("version [3-9]").unwrap(),
    ));
    let report = health::run(&check, &health::client().unwrap()).await;
    assert!(!report.healthy);
    assert_eq!(
        report.attempts[0].error.as_deref(),
        Some("the body does not match `version [3-9]`")
    );
}

#[tokio::test]
async fn a_closed_port_is_an_error_with_its_cause() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    drop(listener);
    let mut check = quick(&url);
    check.retries = 0;
    let report = health::run(&check, &health::client().unwrap()).await;
    assert!(!report.healthy);
    assert_eq!(report.attempts[0].status, None);
    assert!(report.attempts[0].error.is_some());
}

#[test]
fn action_inputs_become_a_check() {
    let inputs = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    };
    let check = HealthCheck::from_inputs(&inputs(&[
        ("url", "http://127.0.0.1:8080/h"),
        ("expected-status", "204"),
        ("timeout", "2s"),
        ("retries", "9"),
        ("deadline", "90"),
        ("body", "ok"),
    ]))
    .unwrap();
    assert_eq!(check.expected_status, 204);
    assert_eq!(check.timeout, Duration::from_secs(2));
    assert_eq!(check.retries, 9);
    assert_eq!(check.deadline, Duration::from_secs(90));
    assert_eq!(
        HealthCheck::from_inputs(&inputs(&[])).unwrap_err(),
        InputError::Missing { name: "url" }
    );
    assert_eq!(
        HealthCheck::from_inputs(&inputs(&[("url", "http://x/"), ("expected-status", "700")]))
            .unwrap_err()
            .to_string(),
        "input `expected-status` is `700`: expected an HTTP status code from 100 to 599"
    );
    assert!(HealthCheck::from_inputs(&inputs(&[("url", "file:///etc/passwd")])).is_err());
}

#[test]
fn full_jitter_stays_within_the_exponential_cap() {
    for n in 0..40 {
        let wait = health::full_jitter(Duration::from_millis(100), n);
        let cap = Duration::from_millis(100)
            .saturating_mul(2u32.saturating_pow(n.min(31)))
            .min(health::MAX_BACKOFF);
        assert!(wait <= cap, "{n}: {wait:?} > {cap:?}");
    }
    assert_eq!(health::full_jitter(Duration::ZERO, 3), Duration::ZERO);
}
