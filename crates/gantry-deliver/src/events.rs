//! Deployment events: one typed value per thing that happened to a
//! deployment, handed to one hook. Notifications (Slack, Teams,
//! webhooks through the store's outbox) subscribe by implementing
//! [`DeploymentEvents`]; the evidence ledger hears every event too (see
//! [`crate::evidence`]).

use gantry_store::{Deployment, DeploymentId, DeploymentState};
use serde::Serialize;

use crate::health::HealthReport;
use crate::notify::NotificationTarget;

/// Something that happened to a deployment.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DeploymentEvent {
    /// A deployment was recorded (`queued`).
    Created {
        deployment: Deployment,
        /// Where the environment wants to be told.
        notifications: Vec<NotificationTarget>,
    },
    /// A deployment moved to a new state.
    StatusChanged {
        deployment: Deployment,
        previous: DeploymentState,
        /// The health check that decided it, if one ran.
        health: Option<HealthReport>,
        /// Earlier successes this success made inactive.
        deactivated: Vec<DeploymentId>,
        notifications: Vec<NotificationTarget>,
    },
    /// A rollback deployment finished: `deployment` deployed `to`'s commit
    /// again, replacing `from` (if there was one).
    RolledBack {
        deployment: Deployment,
        from: Option<DeploymentId>,
        to: DeploymentId,
        notifications: Vec<NotificationTarget>,
    },
}

impl DeploymentEvent {
    /// The deployment the event is about.
    pub fn deployment(&self) -> &Deployment {
        match self {
            DeploymentEvent::Created { deployment, .. }
            | DeploymentEvent::StatusChanged { deployment, .. }
            | DeploymentEvent::RolledBack { deployment, .. } => deployment,
        }
    }

    /// `created`, `status_changed`, `rolled_back`.
    pub fn name(&self) -> &'static str {
        match self {
            DeploymentEvent::Created { .. } => "created",
            DeploymentEvent::StatusChanged { .. } => "status_changed",
            DeploymentEvent::RolledBack { .. } => "rolled_back",
        }
    }
}

/// Who hears deployment events.
pub trait DeploymentEvents: Send + Sync {
    fn deployment_event(&self, event: &DeploymentEvent);

    /// What could not be passed on since the last call, and why.
    fn take_failures(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Nobody: events are only recorded as evidence.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEvents;

impl DeploymentEvents for NoEvents {
    fn deployment_event(&self, _event: &DeploymentEvent) {}
}

/// Deployment events into the notification outbox of a store, for the
/// targets of the event's environment: a deployment's creation, its end
/// (success, failure, error) and rollbacks. What could not be enqueued is
/// kept for the caller to report ([`DeploymentEvents::take_failures`]).
pub struct Outbox {
    store: std::sync::Arc<gantry_store::Store>,
    failures: std::sync::Mutex<Vec<String>>,
}

impl Outbox {
    pub fn new(store: std::sync::Arc<gantry_store::Store>) -> Outbox {
        Outbox {
            store,
            failures: std::sync::Mutex::new(Vec::new()),
        }
    }
}

impl DeploymentEvents for Outbox {
    fn take_failures(&self) -> Vec<String> {
        std::mem::take(
            &mut *self
                .failures
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    fn deployment_event(&self, event: &DeploymentEvent) {
        let Some((targets, notification)) = notification_of(event) else {
            return;
        };
        if targets.is_empty() {
            return;
        }
        if let Err(e) = crate::notify::enqueue(&self.store, targets, &notification) {
            self.failures
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(format!(
                    "the notification of deployment {} ({}) was not queued: {e}",
                    event.deployment().id,
                    notification.status.as_str()
                ));
        }
    }
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// The notification an event sends, with its targets; `None` for events
/// that are only evidence (a deployment starting, or becoming inactive).
fn notification_of(
    event: &DeploymentEvent,
) -> Option<(&[NotificationTarget], crate::notify::Notification)> {
    use crate::notify::{EventKind, Notification, Status};
    let d = event.deployment();
    let what = match (&d.git_ref, &d.commit) {
        (Some(r), Some(c)) => format!("{r} ({})", short(c)),
        (Some(r), None) => r.clone(),
        (None, Some(c)) => short(c).to_string(),
        (None, None) => "an unknown commit".to_string(),
    };
    let (kind, status, summary, targets, health) = match event {
        DeploymentEvent::Created { notifications, .. } => (
            EventKind::Deployment,
            Status::Queued,
            format!("deployment {} of {what} to {} queued", d.id, d.environment),
            notifications,
            None,
        ),
        DeploymentEvent::StatusChanged {
            notifications,
            health,
            ..
        } => {
            let (status, verb) = match d.state {
                DeploymentState::Success => (Status::Success, "succeeded"),
                DeploymentState::Failure => (Status::Failure, "failed"),
                DeploymentState::Error => (Status::Error, "could not finish"),
                DeploymentState::Queued
                | DeploymentState::InProgress
                | DeploymentState::Inactive => return None,
            };
            (
                EventKind::Deployment,
                status,
                format!("deployment {} of {what} to {} {verb}", d.id, d.environment),
                notifications,
                health.as_ref(),
            )
        }
        DeploymentEvent::RolledBack {
            notifications, to, ..
        } => (
            EventKind::Rollback,
            Status::RolledBack,
            format!(
                "{} rolled back to deployment {to}: {what} again",
                d.environment
            ),
            notifications,
            None,
        ),
    };
    let mut n = Notification::new(kind, &d.environment, status, summary, d.id.to_string())
        .field("environment", &d.environment)
        .field("deployment", d.id.to_string());
    if let Some(r) = &d.git_ref {
        n = n.field("ref", r);
    }
    if let Some(c) = &d.commit {
        n = n.field("commit", c);
    }
    if let Some(run) = d.run {
        n = n.field("run", run.to_string());
    }
    n = n.field("job", &d.job_name);
    if let Some(h) = health {
        n = n.field("health check", h.summary());
    }
    if let Some(url) = &d.url {
        n = n.with_url(url);
    }
    Some((targets.as_slice(), n))
}
