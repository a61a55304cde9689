//! The notification outbox: enqueue once per key and target, due times,
//! attempts, and nothing lost when the store is closed and reopened.

use std::time::Duration;

use gantry_store::{Attempt, DeliveryFilter, DeliveryStatus, NewDelivery, Store};

use crate::common::{TestClock, open_with_clock};

fn new(key: &str, url: &str) -> NewDelivery {
    NewDelivery {
        idempotency_key: key.into(),
        target_kind: "webhook".into(),
        target_url: url.into(),
        event: "deployment".into(),
        subject: "production".into(),
        summary: "v1.2.0 deployed".into(),
        body: format!("{{\"key\":\"{key}\"}}"),
    }
}

#[test]
fn the_same_key_and_target_is_enqueued_once() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _clock) = open_with_clock(dir.path());
    let first = store
        .enqueue_deliveries(&[new("k1", "http://a/"), new("k1", "http://b/")])
        .unwrap();
    assert!(first.iter().all(|e| e.new));
    let again = store.enqueue_deliveries(&[new("k1", "http://a/")]).unwrap();
    assert_eq!(again[0].id, first[0].id);
    assert!(!again[0].new);
    assert_eq!(store.deliveries(DeliveryFilter::All).unwrap().len(), 2);
}

#[test]
fn a_retry_waits_and_a_give_up_is_listed_as_failed() {
    let dir = tempfile::tempdir().unwrap();
    let (store, clock) = open_with_clock(dir.path());
    let id = store.enqueue_deliveries(&[new("k", "http://a/")]).unwrap()[0].id;
    assert_eq!(store.due_deliveries(10).unwrap().len(), 1);

    let retry = Attempt::Retry {
        http_status: Some(503),
        error: "503 Service Unavailable".into(),
        retry_after: Duration::from_secs(30),
    };
    assert_eq!(
        store.record_delivery_attempt(id, &retry).unwrap(),
        DeliveryStatus::Pending
    );
    assert!(store.due_deliveries(10).unwrap().is_empty());
    clock.advance(Duration::from_secs(31));
    let due = store.due_deliveries(10).unwrap();
    assert_eq!((due[0].attempts, due[0].last_http_status), (1, Some(503)));

    let give_up = Attempt::GiveUp {
        http_status: None,
        error: "connection refused".into(),
    };
    assert_eq!(
        store.record_delivery_attempt(id, &give_up).unwrap(),
        DeliveryStatus::Failed
    );
    let failed = store
        .deliveries(DeliveryFilter::Status(DeliveryStatus::Failed))
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attempts, 2);
    assert_eq!(failed[0].last_error.as_deref(), Some("connection refused"));
    assert!(store.due_deliveries(10).unwrap().is_empty());
    // A late success of a given-up delivery does not revive it.
    let late = Attempt::Delivered { http_status: 200 };
    assert_eq!(
        store.record_delivery_attempt(id, &late).unwrap(),
        DeliveryStatus::Failed
    );
    assert_eq!(store.retry_failed_deliveries().unwrap(), 1);
    assert_eq!(store.due_deliveries(10).unwrap()[0].attempts, 0);
}

#[test]
fn pending_deliveries_survive_closing_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::new();
    let store = Store::open_with(dir.path(), clock.options()).unwrap();
    let ids = store
        .enqueue_deliveries(&[new("a", "http://a/"), new("b", "http://a/")])
        .unwrap();
    store
        .record_delivery_attempt(ids[0].id, &Attempt::Delivered { http_status: 204 })
        .unwrap();
    drop(store);

    let store = Store::open_with(dir.path(), clock.options()).unwrap();
    let undelivered = store.deliveries(DeliveryFilter::Undelivered).unwrap();
    assert_eq!(undelivered.len(), 1);
    assert_eq!(undelivered[0].idempotency_key, "b");
    assert_eq!(undelivered[0].body, "{\"key\":\"b\"}");
    let delivered = store.delivery(ids[0].id).unwrap().unwrap();
    assert_eq!(delivered.status, DeliveryStatus::Delivered);
    assert!(delivered.delivered_at.is_some());
}

#[test]
fn a_later_event_to_a_target_waits_for_an_earlier_one_being_retried() {
    let dir = tempfile::tempdir().unwrap();
    let (store, clock) = open_with_clock(dir.path());
    let first = store.enqueue_deliveries(&[new("k1", "http://a/")]).unwrap()[0].id;
    let retry = Attempt::Retry {
        http_status: Some(503),
        error: "503".into(),
        retry_after: Duration::from_secs(30),
    };
    store.record_delivery_attempt(first, &retry).unwrap();
    store
        .enqueue_deliveries(&[new("k2", "http://a/"), new("k3", "http://b/")])
        .unwrap();
    // k2 goes to the same target as k1, which is not due yet: only k3.
    let due: Vec<String> = store
        .due_deliveries(10)
        .unwrap()
        .into_iter()
        .map(|d| d.idempotency_key)
        .collect();
    assert_eq!(due, ["k3"]);
    clock.advance(Duration::from_secs(31));
    let due: Vec<String> = store
        .due_deliveries(10)
        .unwrap()
        .into_iter()
        .map(|d| d.idempotency_key)
        .collect();
    assert_eq!(due, ["k1", "k2", "k3"]);
}
