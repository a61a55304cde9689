//! Notifications of deployments, rollbacks and rollouts to Slack and
//! Microsoft Teams incoming webhooks and to generic JSON webhooks, through
//! an outbox in the store.
//!
//! [`enqueue`] renders one body per target and writes it to the outbox in
//! one transaction before anything is sent; a [`Deliverer`] sends what is
//! due ([`Deliverer::deliver_due`]). Delivery is at least once: a delivery
//! is marked delivered only after a 2xx answer, so one cut off by a
//! restart is sent again, and a receiver that answered but whose answer
//! was lost may see it twice. Every attempt carries the same idempotency
//! key (an `Idempotency-Key` header, and in the body) for the receiver to
//! drop the repeats. Between attempts the delay doubles from
//! [`RetryPolicy::base_delay`] up to [`RetryPolicy::max_delay`], each
//! drawn between half and all of it (jitter, so that receivers coming
//! back are not hit by every sender at once); a `Retry-After` on a 429 or
//! 503 lengthens it. After [`RetryPolicy::max_attempts`] the delivery is
//! marked failed and stays listed.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use gantry_store::{
    Attempt, Delivery, DeliveryFilter, DeliveryId, DeliveryStatus, Enqueued, NewDelivery, Store,
    StoreError,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The version of the JSON documents of `gantry notifications`.
pub const DOCUMENT_VERSION: u32 = 1;

/// What went wrong with notifications.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("invalid notification target `{url}`: {reason}")]
    Target { url: String, reason: String },
    #[error("failed to set up the HTTP client for notifications: {0}")]
    Client(#[source] reqwest::Error),
}

/// Where a notification goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// A Slack incoming webhook (`text` and `blocks`).
    Slack,
    /// A Microsoft Teams workflow webhook (an Adaptive Card message).
    Teams,
    /// Any URL that takes the notification as JSON.
    Webhook,
}

impl TargetKind {
    pub const NAMES: &[&str] = &["slack", "teams", "webhook"];

    pub fn parse(s: &str) -> Option<TargetKind> {
        match s {
            "slack" => Some(TargetKind::Slack),
            "teams" => Some(TargetKind::Teams),
            "webhook" => Some(TargetKind::Webhook),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Slack => "slack",
            TargetKind::Teams => "teams",
            TargetKind::Webhook => "webhook",
        }
    }
}

/// One `{type: slack|teams|webhook, url}` of an environment's or a
/// rollout's `notifications`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationTarget {
    #[serde(rename = "type")]
    pub kind: TargetKind,
    pub url: String,
}

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Deployment,
    Rollback,
    Rollout,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Deployment => "deployment",
            EventKind::Rollback => "rollback",
            EventKind::Rollout => "rollout",
        }
    }

    fn title(self) -> &'static str {
        match self {
            EventKind::Deployment => "Deployment",
            EventKind::Rollback => "Rollback",
            EventKind::Rollout => "Rollout",
        }
    }
}

/// Where the event stands: GitHub's deployment statuses, and a rollout's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Queued,
    Waiting,
    InProgress,
    Success,
    Failure,
    Error,
    Inactive,
    Paused,
    Promoted,
    Degraded,
    Aborted,
    RolledBack,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Waiting => "waiting",
            Status::InProgress => "in_progress",
            Status::Success => "success",
            Status::Failure => "failure",
            Status::Error => "error",
            Status::Inactive => "inactive",
            Status::Paused => "paused",
            Status::Promoted => "promoted",
            Status::Degraded => "degraded",
            Status::Aborted => "aborted",
            Status::RolledBack => "rolled_back",
        }
    }

    /// Good, bad or neither, for colours and emoji.
    fn tone(self) -> Tone {
        match self {
            Status::Success | Status::Promoted => Tone::Good,
            Status::Failure
            | Status::Error
            | Status::Degraded
            | Status::Aborted
            | Status::RolledBack => Tone::Bad,
            _ => Tone::Neutral,
        }
    }
}

enum Tone {
    Good,
    Bad,
    Neutral,
}

/// One event to report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub event: EventKind,
    /// An environment or a rollout name.
    pub subject: String,
    pub status: Status,
    /// One line.
    pub summary: String,
    pub url: Option<String>,
    /// Details in order (`ref`, `commit`, `run`, …).
    pub fields: Vec<(String, String)>,
    /// What makes this event unique among events of the same kind,
    /// subject and status (a deployment id, a rollout run and step).
    pub event_id: String,
}

impl Notification {
    pub fn new(
        event: EventKind,
        subject: impl Into<String>,
        status: Status,
        summary: impl Into<String>,
        event_id: impl Into<String>,
    ) -> Notification {
        Notification {
            event,
            subject: subject.into(),
            status,
            summary: one_line(&summary.into()),
            url: None,
            fields: Vec::new(),
            event_id: event_id.into(),
        }
    }

    pub fn with_url(mut self, url: impl Into<String>) -> Notification {
        self.url = Some(url.into());
        self
    }

    pub fn field(mut self, key: impl Into<String>, value: impl Into<String>) -> Notification {
        self.fields.push((key.into(), value.into()));
        self
    }

    /// The same for every attempt and every enqueue of this event: the
    /// SHA-256 of kind, subject, status and event id, 32 hex digits.
    pub fn idempotency_key(&self) -> String {
        let mut hash = Sha256::new();
        for part in [
            "gantry-notification-v1",
            self.event.as_str(),
            &self.subject,
            self.status.as_str(),
            &self.event_id,
        ] {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        hash.finalize()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn title(&self) -> String {
        format!(
            "{} {}: {}",
            self.event.title(),
            self.subject,
            self.status.as_str()
        )
    }

    /// The body for a target of `kind`.
    pub fn payload(&self, kind: TargetKind) -> Value {
        let key = self.idempotency_key();
        match kind {
            TargetKind::Slack => self.slack(&key),
            TargetKind::Teams => self.teams(&key),
            TargetKind::Webhook => self.webhook(&key),
        }
    }

    fn slack(&self, key: &str) -> Value {
        let emoji = match self.status.tone() {
            Tone::Good => ":white_check_mark:",
            Tone::Bad => ":x:",
            Tone::Neutral => ":hourglass_flowing_sand:",
        };
        let mut blocks = vec![json!({
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": format!("{emoji} *{}*\n{}", slack_escape(&self.title()), slack_escape(&self.summary)),
            },
        })];
        // Slack takes at most ten fields in a section.
        for chunk in self.fields.chunks(10) {
            let fields: Vec<Value> = chunk
                .iter()
                .map(|(k, v)| {
                    json!({"type": "mrkdwn", "text": format!("*{}*\n{}", slack_escape(k), slack_escape(v))})
                })
                .collect();
            blocks.push(json!({"type": "section", "fields": fields}));
        }
        if let Some(url) = &self.url {
            blocks.push(json!({
                "type": "actions",
                "elements": [{
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Open"},
                    "url": url,
                }],
            }));
        }
        blocks.push(json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": format!("gantry · idempotency key `{key}`")}],
        }));
        json!({
            "text": format!("{}: {}", self.title(), self.summary),
            "blocks": blocks,
        })
    }

    fn teams(&self, key: &str) -> Value {
        let color = match self.status.tone() {
            Tone::Good => "Good",
            Tone::Bad => "Attention",
            Tone::Neutral => "Default",
        };
        let mut facts: Vec<Value> = self
            .fields
            .iter()
            .map(|(k, v)| json!({"title": k, "value": v}))
            .collect();
        facts.push(json!({"title": "Idempotency key", "value": key}));
        let mut card = json!({
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [
                {
                    "type": "TextBlock",
                    "text": self.title(),
                    "weight": "Bolder",
                    "size": "Medium",
                    "color": color,
                    "wrap": true,
                },
                {"type": "TextBlock", "text": self.summary, "wrap": true},
                {"type": "FactSet", "facts": facts},
            ],
        });
        if let Some(url) = &self.url {
            card["actions"] = json!([{"type": "Action.OpenUrl", "title": "Open", "url": url}]);
        }
        json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": card,
            }],
        })
    }

    fn webhook(&self, key: &str) -> Value {
        let fields: Vec<Value> = self
            .fields
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect();
        json!({
            "version": DOCUMENT_VERSION,
            "idempotency_key": key,
            "event": self.event.as_str(),
            "subject": self.subject,
            "status": self.status.as_str(),
            "summary": self.summary,
            "url": self.url,
            "fields": fields,
            "event_id": self.event_id,
        })
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Slack's mrkdwn escapes: `&`, `<` and `>`.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn check_target(target: &NotificationTarget) -> Result<(), NotifyError> {
    let error = |reason: &str| NotifyError::Target {
        url: target.url.clone(),
        reason: reason.to_string(),
    };
    let url = reqwest::Url::parse(&target.url).map_err(|e| error(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(error(
            "only http:// and https:// URLs can receive notifications",
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(error("the URL has no host"));
    }
    Ok(())
}

/// Writes one pending delivery per target, in one transaction, before
/// anything is sent. An event already enqueued to a target (same
/// idempotency key) is not enqueued again.
pub fn enqueue(
    store: &Store,
    targets: &[NotificationTarget],
    notification: &Notification,
) -> Result<Vec<Enqueued>, NotifyError> {
    for target in targets {
        check_target(target)?;
    }
    let key = notification.idempotency_key();
    let deliveries: Vec<NewDelivery> = targets
        .iter()
        .map(|t| NewDelivery {
            idempotency_key: key.clone(),
            target_kind: t.kind.as_str().to_string(),
            target_url: t.url.clone(),
            event: notification.event.as_str().to_string(),
            subject: notification.subject.clone(),
            summary: notification.summary.clone(),
            body: notification.payload(t.kind).to_string(),
        })
        .collect();
    Ok(store.enqueue_deliveries(&deliveries)?)
}

/// When to try again and when to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; then the delivery is failed.
    pub max_attempts: u32,
    /// The delay after the first failed attempt (before jitter).
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// How long one attempt may take.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    /// Eight attempts over about eight minutes.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(5 * 60),
            timeout: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The wait after `failed` attempts (1 after the first): the doubled
    /// delay, capped, then drawn between half and all of it.
    pub fn delay_after(&self, failed: u32) -> Duration {
        let doubled = self.base_delay.saturating_mul(
            1u32.checked_shl(failed.saturating_sub(1))
                .unwrap_or(u32::MAX),
        );
        let capped = doubled.min(self.max_delay);
        let fraction = 0.5 + 0.5 * random_unit();
        capped.mul_f64(fraction)
    }
}

/// A number in [0, 1) from the standard library's per-process random hash
/// keys (each `RandomState` is keyed anew): enough for jitter.
fn random_unit() -> f64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0x6a09_e667_f3bc_c908);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// One delivery's attempt, as [`Deliverer::deliver_due`] reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttemptReport {
    pub id: DeliveryId,
    pub target_kind: String,
    pub target_url: String,
    pub summary: String,
    /// The status after the attempt.
    pub status: DeliveryStatus,
    /// Attempts so far, this one included.
    pub attempts: u32,
    pub http_status: Option<u16>,
    pub error: Option<String>,
}

/// What one pass over the due deliveries did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeliverReport {
    pub version: u32,
    pub attempts: Vec<AttemptReport>,
}

impl DeliverReport {
    pub fn count(&self, status: DeliveryStatus) -> usize {
        self.attempts.iter().filter(|a| a.status == status).count()
    }
}

/// The outbox as `gantry notifications list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxDocument {
    pub version: u32,
    pub deliveries: Vec<Delivery>,
}

/// The deliveries `filter` selects.
pub fn list(store: &Store, filter: DeliveryFilter) -> Result<OutboxDocument, NotifyError> {
    Ok(OutboxDocument {
        version: DOCUMENT_VERSION,
        deliveries: store.deliveries(filter)?,
    })
}

/// Sends due deliveries.
#[derive(Debug, Clone)]
pub struct Deliverer {
    client: reqwest::Client,
    policy: RetryPolicy,
}

/// The most deliveries one pass takes.
const BATCH: usize = 256;

impl Deliverer {
    pub fn new(policy: RetryPolicy) -> Result<Deliverer, NotifyError> {
        let client = reqwest::Client::builder()
            .timeout(policy.timeout)
            .user_agent(concat!("gantry/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(NotifyError::Client)?;
        Ok(Deliverer { client, policy })
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// Attempts every delivery that is due now, once each (up to
    /// [`PARALLEL`] at a time, so a slow receiver holds up no other), and
    /// records each outcome as it comes.
    pub async fn deliver_due(&self, store: &Store) -> Result<DeliverReport, NotifyError> {
        let mut report = DeliverReport {
            version: DOCUMENT_VERSION,
            attempts: Vec::new(),
        };
        // One queue per target, in the order the events happened: a
        // receiver hears a deployment's `queued` before its `success`. A
        // queue stops at its first delivery that does not arrive, so what
        // follows is not sent ahead of it.
        let mut queues: Vec<Vec<Delivery>> = Vec::new();
        for delivery in store.due_deliveries(BATCH)? {
            match queues.iter_mut().find(|q| {
                q.first().is_some_and(|d| {
                    d.target_url == delivery.target_url && d.target_kind == delivery.target_kind
                })
            }) {
                Some(queue) => queue.push(delivery),
                None => queues.push(vec![delivery]),
            }
        }
        let mut queues = queues.into_iter();
        let mut running = tokio::task::JoinSet::new();
        loop {
            while running.len() < PARALLEL {
                let Some(queue) = queues.next() else { break };
                let (client, policy) = (self.client.clone(), self.policy);
                running.spawn(async move {
                    let mut done = Vec::with_capacity(queue.len());
                    for delivery in queue {
                        let attempt = attempt(&client, &policy, &delivery).await;
                        let arrived = matches!(attempt, Attempt::Delivered { .. });
                        done.push((delivery, attempt));
                        if !arrived {
                            break;
                        }
                    }
                    done
                });
            }
            let Some(joined) = running.join_next().await else {
                break;
            };
            // An attempt task only panics if reqwest does; its deliveries
            // stay pending and are attempted again on the next pass.
            let Ok(done) = joined else {
                continue;
            };
            for (delivery, attempt) in done {
                let status = store.record_delivery_attempt(delivery.id, &attempt)?;
                let (http_status, error) = match &attempt {
                    Attempt::Delivered { http_status } => (Some(*http_status), None),
                    Attempt::Retry {
                        http_status, error, ..
                    }
                    | Attempt::GiveUp { http_status, error } => (*http_status, Some(error.clone())),
                };
                report.attempts.push(AttemptReport {
                    id: delivery.id,
                    target_kind: delivery.target_kind,
                    target_url: delivery.target_url,
                    summary: delivery.summary,
                    status,
                    attempts: delivery.attempts.saturating_add(1),
                    http_status,
                    error,
                });
            }
        }
        report.attempts.sort_by_key(|a| a.id);
        Ok(report)
    }
}

/// Targets attempted at once in one pass (each target's deliveries go
/// one after another).
pub const PARALLEL: usize = 16;

async fn attempt(client: &reqwest::Client, policy: &RetryPolicy, delivery: &Delivery) -> Attempt {
    let sent = client
        .post(&delivery.target_url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", &delivery.idempotency_key)
        .body(delivery.body.clone())
        .send()
        .await;
    let (http_status, error, retry_after) = match sent {
        Ok(response) if response.status().is_success() => {
            return Attempt::Delivered {
                http_status: response.status().as_u16(),
            };
        }
        Ok(response) => {
            let status = response.status();
            let retry_after = matches!(status.as_u16(), 429 | 503)
                .then(|| {
                    response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs)
                })
                .flatten();
            (
                Some(status.as_u16()),
                format!("the receiver answered {status}"),
                retry_after,
            )
        }
        Err(e) => (None, describe(&e), None),
    };
    let failed = delivery.attempts.saturating_add(1);
    if failed >= policy.max_attempts {
        Attempt::GiveUp {
            http_status,
            error: format!(
                "{error} (attempt {failed} of {}; giving up)",
                policy.max_attempts
            ),
        }
    } else {
        let delay = policy.delay_after(failed);
        let retry_after = retry_after.map_or(delay, |r| delay.max(r.min(policy.max_delay)));
        Attempt::Retry {
            http_status,
            error,
            retry_after,
        }
    }
}

/// A reqwest error with its causes, on one line.
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut text = kind.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Reads a `notifications` list (`[{type: slack|teams|webhook, url}]`) of
/// an environment or a rollout, reporting each mistake where it is.
pub fn read_targets(
    doc: &mut gantry_promote::located::Doc,
    node: &gantry_workflow::yaml::Node,
    place: &str,
) -> Vec<NotificationTarget> {
    fn invalid(
        doc: &mut gantry_promote::located::Doc,
        node: &gantry_workflow::yaml::Node,
        what: &str,
        value: &str,
        expected: &str,
        hint: Option<String>,
    ) {
        doc.report(
            node.span,
            gantry_promote::located::ProblemKind::InvalidValue {
                what: format!("`{what}`"),
                value: value.to_string(),
                expected: expected.to_string(),
            },
            hint,
        );
    }

    let mut out = Vec::new();
    let Some(items) = doc.sequence(node, place) else {
        return out;
    };
    for item in items {
        let what = format!("an entry of {place}");
        let Some(f) = doc.mapping(item, &what, &["type", "url"], &["type", "url"]) else {
            continue;
        };
        let (Some(t), Some(u)) = (f.get("type"), f.get("url")) else {
            continue;
        };
        let kind = match doc.string(t, &format!("{place}[].type")) {
            Some(text) => match TargetKind::parse(text) {
                Some(k) => Some(k),
                None => {
                    let hint =
                        gantry_promote::located::suggest(text, TargetKind::NAMES.iter().copied());
                    invalid(
                        doc,
                        t,
                        &format!("{place}[].type"),
                        text,
                        "slack, teams or webhook",
                        hint,
                    );
                    None
                }
            },
            None => None,
        };
        let url = match doc.string(u, &format!("{place}[].url")) {
            Some(text) => match crate::health::check_url(text) {
                Ok(()) => Some(text.to_string()),
                Err(reason) => {
                    invalid(
                        doc,
                        u,
                        &format!("{place}[].url"),
                        text,
                        "an http or https URL",
                        Some(reason),
                    );
                    None
                }
            },
            None => None,
        };
        if let (Some(kind), Some(url)) = (kind, url) {
            out.push(NotificationTarget { kind, url });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Notification {
        Notification::new(
            EventKind::Deployment,
            "production",
            Status::Success,
            "v1.4.0 is live",
            "deployment-42",
        )
        .with_url("https://example.test/runs/7")
        .field("ref", "refs/tags/v1.4.0")
        .field("commit", "abc123")
    }

    #[test]
    fn the_idempotency_key_is_derived_from_the_event() {
        let key = sample().idempotency_key();
        assert_eq!(key.len(), 32);
        assert_eq!(key, sample().field("extra", "x").idempotency_key());
        let other = Notification {
            event_id: "deployment-43".into(),
            ..sample()
        };
        assert_ne!(key, other.idempotency_key());
        let failed = Notification {
            status: Status::Failure,
            ..sample()
        };
        assert_ne!(key, failed.idempotency_key());
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(10),
            timeout: Duration::from_secs(1),
        };
        for _ in 0..50 {
            let first = policy.delay_after(1);
            assert!((Duration::from_millis(500)..=Duration::from_secs(1)).contains(&first));
            let third = policy.delay_after(3);
            assert!((Duration::from_secs(2)..=Duration::from_secs(4)).contains(&third));
            let late = policy.delay_after(40);
            assert!((Duration::from_secs(5)..=Duration::from_secs(10)).contains(&late));
        }
        let draws: std::collections::HashSet<_> = (0..20).map(|_| policy.delay_after(1)).collect();
        assert!(draws.len() > 1, "no jitter");
    }

    #[test]
    fn summaries_are_one_line() {
        let n = Notification::new(
            EventKind::Rollout,
            "web",
            Status::RolledBack,
            "a\nb  c",
            "1",
        );
        assert_eq!(n.summary, "a b c");
    }

    #[test]
    fn targets_read_as_the_environment_file_writes_them() {
        let target: NotificationTarget =
            serde_json::from_str(r#"{"type": "teams", "url": "https://x.test/hook"}"#)
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(target.kind, TargetKind::Teams);
        assert!(
            serde_json::from_str::<NotificationTarget>(r#"{"type": "email", "url": "x"}"#).is_err()
        );
        let bad = NotificationTarget {
            kind: TargetKind::Webhook,
            url: "ftp://x.test/".into(),
        };
        assert!(check_target(&bad).is_err());
    }
}
