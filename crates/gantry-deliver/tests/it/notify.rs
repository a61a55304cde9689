//! Notifications through the outbox to receivers on loopback started here.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use gantry_deliver::notify::{
    self, Deliverer, EventKind, Notification, NotificationTarget, RetryPolicy, Status, TargetKind,
};
use gantry_store::{DeliveryFilter, DeliveryStatus, Store};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    idempotency_key: Option<String>,
    content_type: Option<String>,
    body: Value,
}

/// A loopback HTTP receiver answering its n-th request (from 0) with
/// `answer(n)`; it stops when dropped.
struct Receiver {
    addr: SocketAddr,
    got: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

async fn receiver(answer: impl Fn(u64) -> StatusCode + Send + Sync + 'static) -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let got = Arc::new(Mutex::new(Vec::new()));
    let answer = Arc::new(answer);
    let count = Arc::new(AtomicU64::new(0));
    let log = got.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (log, answer, count) = (log.clone(), answer.clone(), count.clone());
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let (log, answer, count) = (log.clone(), answer.clone(), count.clone());
                    async move {
                        let header = |name: &str| {
                            req.headers()
                                .get(name)
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_string)
                        };
                        let path = req.uri().path().to_string();
                        let idempotency_key = header("idempotency-key");
                        let content_type = header("content-type");
                        let bytes = req.into_body().collect().await.unwrap().to_bytes();
                        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                        log.lock().unwrap().push(Received {
                            path,
                            idempotency_key,
                            content_type,
                            body,
                        });
                        let n = count.fetch_add(1, Ordering::Relaxed);
                        let mut response = Response::new(Full::new(Bytes::from_static(b"ok")));
                        let status = answer(n);
                        *response.status_mut() = status;
                        if status == StatusCode::TOO_MANY_REQUESTS {
                            response.headers_mut().insert(
                                "retry-after",
                                hyper::header::HeaderValue::from_static("3600"),
                            );
                        }
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Receiver { addr, got, task }
}

fn fast_policy(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        timeout: Duration::from_secs(5),
    }
}

fn deployment() -> Notification {
    Notification::new(
        EventKind::Deployment,
        "production",
        Status::Success,
        "v1.4.0 deployed to production",
        "deployment-17",
    )
    .with_url("https://ci.example.test/runs/17")
    .field("ref", "refs/tags/v1.4.0")
    .field("commit", "0a1b2c3")
    .field("run", "17")
}

fn target(kind: TargetKind, url: String) -> NotificationTarget {
    NotificationTarget { kind, url }
}

/// Delivers until nothing is pending (at most ten seconds).
async fn deliver_until_settled(deliverer: &Deliverer, store: &Store) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        deliverer.deliver_due(store).await.unwrap();
        let pending = store
            .deliveries(DeliveryFilter::Status(DeliveryStatus::Pending))
            .unwrap();
        if pending.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "still pending: {pending:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_that_fails_twice_arrives_with_one_key() {
    let receiver = receiver(|n| {
        if n < 2 {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::OK
        }
    })
    .await;
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let notification = deployment();
    let enqueued = notify::enqueue(
        &store,
        &[target(TargetKind::Webhook, receiver.url("/hook"))],
        &notification,
    )
    .unwrap();
    assert!(enqueued[0].new);

    let deliverer = Deliverer::new(fast_policy(5)).unwrap();
    let first = deliverer.deliver_due(&store).await.unwrap();
    assert_eq!(first.count(DeliveryStatus::Pending), 1);
    assert!(first.attempts[0].error.as_deref().unwrap().contains("503"));
    deliver_until_settled(&deliverer, &store).await;

    let got = receiver.got();
    assert_eq!(got.len(), 3);
    let key = notification.idempotency_key();
    for request in &got {
        assert_eq!(request.idempotency_key.as_deref(), Some(key.as_str()));
        assert_eq!(request.body["idempotency_key"], key.as_str());
        assert_eq!(request.content_type.as_deref(), Some("application/json"));
    }
    let delivery = store.delivery(enqueued[0].id).unwrap().unwrap();
    assert_eq!(delivery.status, DeliveryStatus::Delivered);
    assert_eq!(delivery.attempts, 3);
    assert_eq!(delivery.last_http_status, Some(200));
    // Nothing more is sent for a delivered notification, even when the
    // same event is reported again.
    let again = notify::enqueue(
        &store,
        &[target(TargetKind::Webhook, receiver.url("/hook"))],
        &notification,
    )
    .unwrap();
    assert!(!again[0].new);
    assert!(
        deliverer
            .deliver_due(&store)
            .await
            .unwrap()
            .attempts
            .is_empty()
    );
    assert_eq!(receiver.got().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_loses_no_notification() {
    let receiver = receiver(|_| StatusCode::NO_CONTENT).await;
    let home = tempfile::tempdir().unwrap();
    let targets = [target(TargetKind::Webhook, receiver.url("/hook"))];
    {
        let store = Store::open(home.path()).unwrap();
        notify::enqueue(&store, &targets, &deployment()).unwrap();
        let rollback = Notification::new(
            EventKind::Rollback,
            "production",
            Status::Success,
            "rolled back to v1.3.9",
            "deployment-18",
        );
        notify::enqueue(&store, &targets, &rollback).unwrap();
        // The process ends before anything is sent.
    }
    assert!(receiver.got().is_empty());

    let store = Store::open(home.path()).unwrap();
    assert_eq!(
        store.deliveries(DeliveryFilter::Undelivered).unwrap().len(),
        2
    );
    let report = Deliverer::new(fast_policy(3))
        .unwrap()
        .deliver_due(&store)
        .await
        .unwrap();
    assert_eq!(report.count(DeliveryStatus::Delivered), 2);
    let mut events: Vec<String> = receiver
        .got()
        .iter()
        .map(|r| r.body["event"].as_str().unwrap().to_string())
        .collect();
    events.sort();
    assert_eq!(events, ["deployment", "rollback"]);
    assert!(
        store
            .deliveries(DeliveryFilter::Undelivered)
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_always_fails_ends_failed_after_the_last_attempt() {
    let receiver = receiver(|_| StatusCode::INTERNAL_SERVER_ERROR).await;
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    // One target that fails, one where nothing listens.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    notify::enqueue(
        &store,
        &[
            target(TargetKind::Webhook, receiver.url("/hook")),
            target(TargetKind::Slack, closed_url),
        ],
        &deployment(),
    )
    .unwrap();
    let deliverer = Deliverer::new(fast_policy(3)).unwrap();
    deliver_until_settled(&deliverer, &store).await;

    assert_eq!(receiver.got().len(), 3);
    let failed = notify::list(&store, DeliveryFilter::Status(DeliveryStatus::Failed)).unwrap();
    assert_eq!(failed.deliveries.len(), 2);
    let refused = &failed.deliveries[1];
    assert_eq!(refused.attempts, 3);
    let error = refused.last_error.as_deref().unwrap();
    assert!(
        error.contains("could not connect") && error.contains("giving up"),
        "{error}"
    );
    let answered = &failed.deliveries[0];
    assert_eq!(answered.last_http_status, Some(500));
    assert!(
        notify::list(&store, DeliveryFilter::Undelivered)
            .unwrap()
            .deliveries
            .iter()
            .all(|d| d.status == DeliveryStatus::Failed)
    );
    // Failed deliveries are no longer attempted.
    assert!(
        deliverer
            .deliver_due(&store)
            .await
            .unwrap()
            .attempts
            .is_empty()
    );
    assert_eq!(receiver.got().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payloads_have_each_receivers_shape() {
    let receiver = receiver(|_| StatusCode::OK).await;
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let notification = deployment();
    let key = notification.idempotency_key();
    notify::enqueue(
        &store,
        &[
            target(TargetKind::Slack, receiver.url("/slack")),
            target(TargetKind::Teams, receiver.url("/teams")),
            target(TargetKind::Webhook, receiver.url("/webhook")),
        ],
        &notification,
    )
    .unwrap();
    let report = Deliverer::new(fast_policy(3))
        .unwrap()
        .deliver_due(&store)
        .await
        .unwrap();
    assert_eq!(report.count(DeliveryStatus::Delivered), 3);
    let got = receiver.got();
    let body = |path: &str| {
        got.iter()
            .find(|r| r.path == path)
            .unwrap_or_else(|| panic!("nothing at {path}"))
            .body
            .clone()
    };

    let slack = body("/slack");
    assert_eq!(
        slack["text"],
        "Deployment production: success: v1.4.0 deployed to production"
    );
    let blocks = slack["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "section");
    assert_eq!(blocks[0]["text"]["type"], "mrkdwn");
    assert_eq!(
        blocks[0]["text"]["text"],
        ":white_check_mark: *Deployment production: success*\nv1.4.0 deployed to production"
    );
    let fields = blocks[1]["fields"].as_array().unwrap();
    assert_eq!(fields.len(), 3);
    assert_eq!(fields[0]["type"], "mrkdwn");
    assert_eq!(fields[0]["text"], "*ref*\nrefs/tags/v1.4.0");
    assert_eq!(fields[2]["text"], "*run*\n17");
    assert_eq!(blocks[2]["type"], "actions");
    assert_eq!(blocks[2]["elements"][0]["type"], "button");
    assert_eq!(
        blocks[2]["elements"][0]["url"],
        "https://ci.example.test/runs/17"
    );
    assert_eq!(blocks[3]["type"], "context");
    assert!(
        blocks[3]["elements"][0]["text"]
            .as_str()
            .unwrap()
            .contains(&key)
    );

    let teams = body("/teams");
    assert_eq!(teams["type"], "message");
    let attachment = &teams["attachments"][0];
    assert_eq!(
        attachment["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert!(attachment["contentUrl"].is_null());
    let card = &attachment["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["version"], "1.4");
    assert_eq!(
        card["$schema"],
        "http://adaptivecards.io/schemas/adaptive-card.json"
    );
    assert_eq!(card["body"][0]["type"], "TextBlock");
    assert_eq!(card["body"][0]["text"], "Deployment production: success");
    assert_eq!(card["body"][0]["color"], "Good");
    assert_eq!(card["body"][1]["text"], "v1.4.0 deployed to production");
    let facts = card["body"][2]["facts"].as_array().unwrap();
    assert_eq!(card["body"][2]["type"], "FactSet");
    assert_eq!(
        facts[0],
        serde_json::json!({"title": "ref", "value": "refs/tags/v1.4.0"})
    );
    assert_eq!(facts[1]["title"], "commit");
    assert_eq!(
        facts[3],
        serde_json::json!({"title": "Idempotency key", "value": key})
    );
    assert_eq!(card["actions"][0]["type"], "Action.OpenUrl");
    assert_eq!(card["actions"][0]["url"], "https://ci.example.test/runs/17");

    let webhook = body("/webhook");
    assert_eq!(
        webhook,
        serde_json::json!({
            "version": 1,
            "idempotency_key": key,
            "event": "deployment",
            "subject": "production",
            "status": "success",
            "summary": "v1.4.0 deployed to production",
            "url": "https://ci.example.test/runs/17",
            "fields": [
                {"key": "ref", "value": "refs/tags/v1.4.0"},
                {"key": "commit", "value": "0a1b2c3"},
                {"key": "run", "value": "17"},
            ],
            "event_id": "deployment-17",
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_asking_to_wait_is_left_alone_that_long() {
    let receiver = receiver(|_| StatusCode::TOO_MANY_REQUESTS).await;
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let id = notify::enqueue(
        &store,
        &[target(TargetKind::Teams, receiver.url("/teams"))],
        &deployment(),
    )
    .unwrap()[0]
        .id;
    let policy = RetryPolicy {
        max_delay: Duration::from_secs(2 * 3600),
        ..fast_policy(5)
    };
    let report = Deliverer::new(policy)
        .unwrap()
        .deliver_due(&store)
        .await
        .unwrap();
    assert_eq!(report.count(DeliveryStatus::Pending), 1);
    let delivery = store.delivery(id).unwrap().unwrap();
    let waited = delivery
        .next_attempt_at
        .since(delivery.last_attempt_at.unwrap());
    assert!(waited >= Duration::from_secs(3600), "{waited:?}");
    assert_eq!(delivery.last_http_status, Some(429));
    assert!(store.due_deliveries(10).unwrap().is_empty());
}

#[test]
fn a_target_that_is_not_http_is_refused_before_anything_is_written() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let error = notify::enqueue(
        &store,
        &[
            target(TargetKind::Webhook, "http://127.0.0.1:1/ok".into()),
            target(TargetKind::Slack, "hooks.slack.test/abc".into()),
        ],
        &deployment(),
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("hooks.slack.test/abc"),
        "{error}"
    );
    assert!(store.deliveries(DeliveryFilter::All).unwrap().is_empty());
}
