//! What the rollout controller asks over HTTP, against loopback fakes
//! started here: a Prometheus answering `/api/v1/query`, webhook
//! receivers; and the evidence it appends to a ledger.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gantry_deliver::rollout::analysis::{HookPayload, QueryError, call_webhook, query_prometheus};
use gantry_deliver::rollout::config::{HookKind, PromQuery, RolloutConfig, Threshold, Webhook};
use gantry_deliver::rollout::controller::{EventKind, RolloutEvent};
use gantry_deliver::rollout::evidence::{ROLLOUT_PREDICATE, RolloutEvidence};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

type Seen = Arc<Mutex<Vec<String>>>;

/// Answers every request with `status` and `body`; keeps each request's
/// text (head and body).
async fn fake_http(status: u16, body: &'static str) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let kept = kept.clone();
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 4096];
                // Read the head, then as much body as content-length says.
                loop {
                    let Ok(n) = stream.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buffer.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buffer).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if buffer.len() >= end + 4 + length {
                            kept.lock().unwrap().push(text);
                            break;
                        }
                    }
                }
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    (address, seen)
}

fn query(address: &str) -> PromQuery {
    PromQuery {
        address: address.to_string(),
        promql: "sum(rate(errors[1m]))".into(),
        threshold: Threshold::Max(0.01),
    }
}

#[tokio::test]
async fn a_prometheus_instant_query_reads_the_first_sample() {
    let client = reqwest::Client::new();
    let (address, seen) = fake_http(
        200,
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.1,"0.25"]}]}}"#,
    )
    .await;
    assert_eq!(
        query_prometheus(&client, &query(&address)).await.unwrap(),
        0.25
    );
    let request = seen.lock().unwrap()[0].clone();
    assert!(
        request.starts_with("GET /api/v1/query?query=sum%28rate%28errors%5B1m%5D%29%29 "),
        "{request}"
    );

    let (scalar, _) = fake_http(
        200,
        r#"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"3"]}}"#,
    )
    .await;
    assert_eq!(
        query_prometheus(&client, &query(&scalar)).await.unwrap(),
        3.0
    );
}

#[tokio::test]
async fn prometheus_failures_are_errors_not_values() {
    let client = reqwest::Client::new();
    let (empty, _) = fake_http(
        200,
        r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
    )
    .await;
    assert!(matches!(
        query_prometheus(&client, &query(&empty)).await,
        Err(QueryError::NoData { .. })
    ));
    let (broken, _) = fake_http(503, "{}").await;
    assert!(matches!(
        query_prometheus(&client, &query(&broken)).await,
        Err(QueryError::Status { status: 503, .. })
    ));
    let (nan, _) = fake_http(
        200,
        r#"{"status":"success","data":{"resultType":"scalar","result":[1,"NaN"]}}"#,
    )
    .await;
    assert!(matches!(
        query_prometheus(&client, &query(&nan)).await,
        Err(QueryError::Shape { .. })
    ));
    // Nothing listens on a port just freed.
    let down = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    assert!(matches!(
        query_prometheus(&client, &query(&down)).await,
        Err(QueryError::Http { .. })
    ));
}

#[tokio::test]
async fn a_webhook_goes_on_a_2xx_and_gets_the_rollout_as_json() {
    let client = reqwest::Client::new();
    let metadata = BTreeMap::from([("team".to_string(), "web".to_string())]);
    let hook = |url: String| Webhook {
        name: "gate".into(),
        kind: HookKind::ConfirmPromotion,
        url,
        timeout: Duration::from_secs(5),
        metadata: metadata.clone(),
    };
    let payload = HookPayload {
        name: "gate",
        rollout: "web",
        kind: HookKind::ConfirmPromotion.name(),
        canary_weight: 50,
        metadata: &metadata,
    };
    let (yes, seen) = fake_http(200, "").await;
    assert!(call_webhook(&client, &hook(format!("{yes}/confirm")), &payload).await);
    let request = seen.lock().unwrap()[0].clone();
    assert!(request.starts_with("POST /confirm "), "{request}");
    let body = &request[request.find("\r\n\r\n").unwrap() + 4..];
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(json["type"], "confirm-promotion");
    assert_eq!(json["rollout"], "web");
    assert_eq!(json["canaryWeight"], 50);
    assert_eq!(json["metadata"]["team"], "web");
    let (no, _) = fake_http(403, "").await;
    assert!(!call_webhook(&client, &hook(no), &payload).await);
}

#[test]
fn each_event_is_a_ledger_record_linked_to_the_one_before() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = gantry_ledger::Ledger::create_or_open(&dir.path().join("ledger")).unwrap();
    let config = RolloutConfig::parse(
        "web",
        &gantry_workflow::SourceFile::new(
            ".gantry/rollouts/web.yml",
            "listen: 127.0.0.1:1\nstable: http://127.0.0.1:2\ncanary: http://127.0.0.1:3\n\
             strategy: {canary: {steps: [{setWeight: 100}]}}\n",
        ),
    )
    .unwrap();
    let mut evidence = RolloutEvidence::new(&ledger, &config, "run-1".into());
    let event = |kind| RolloutEvent {
        rollout: "web".into(),
        elapsed_ms: 5,
        canary_weight: 100,
        kind,
    };
    let first = evidence
        .append(&event(EventKind::RolledBack {
            reason: "errors".into(),
        }))
        .unwrap();
    let second = evidence.append(&event(EventKind::Promoted)).unwrap();
    let snapshot = ledger.snapshot().unwrap();
    let (first_entry, _) = snapshot.entry(first).unwrap();
    let (second_entry, _) = snapshot.entry(second).unwrap();
    let predicate = |entry: &[u8]| {
        let record: serde_json::Value = serde_json::from_slice(entry).unwrap();
        assert_eq!(record["predicateType"], ROLLOUT_PREDICATE);
        assert_eq!(record["service"], "web");
        let envelope = serde_json::to_vec(&record["envelope"]).unwrap();
        let envelope = gantry_attest::dsse::Envelope::from_json(&envelope).unwrap();
        let statement =
            gantry_attest::statement::Statement::from_payload(&envelope.payload).unwrap();
        assert_eq!(statement.predicate_type, ROLLOUT_PREDICATE);
        (
            record["kind"].as_str().unwrap().to_string(),
            statement.predicate,
        )
    };
    let (kind, one) = predicate(&first_entry);
    assert_eq!(kind, "rollout-rolled-back");
    assert_eq!(one["event"]["event"], "rolled-back");
    assert_eq!(one["event"]["reason"], "errors");
    assert_eq!(one["previous_hash"], "");
    let (kind, two) = predicate(&second_entry);
    assert_eq!(kind, "rollout-promoted");
    assert_eq!(
        two["previous_hash"],
        gantry_ledger::chain::entry_hash(&first_entry)
    );
}
