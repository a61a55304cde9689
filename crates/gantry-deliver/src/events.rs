//! Deployment events: one typed value per thing that happened to a
//! deployment, handed to one hook. Notifications (Slack, Teams,
//! webhooks through the store's outbox) subscribe by implementing
//! [`DeploymentEvents`]; the evidence ledger hears every event too (see
//! [`crate::evidence`]).

use gantry_store::{Deployment, DeploymentId, DeploymentState};
use serde::Serialize;

use crate::environments::Notification;
use crate::health::HealthReport;

/// Something that happened to a deployment.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DeploymentEvent {
    /// A deployment was recorded (`queued`).
    Created {
        deployment: Deployment,
        /// Where the environment wants to be told.
        notifications: Vec<Notification>,
    },
    /// A deployment moved to a new state.
    StatusChanged {
        deployment: Deployment,
        previous: DeploymentState,
        /// The health check that decided it, if one ran.
        health: Option<HealthReport>,
        /// Earlier successes this success made inactive.
        deactivated: Vec<DeploymentId>,
        notifications: Vec<Notification>,
    },
    /// A rollback deployment finished: `deployment` deployed `to`'s commit
    /// again, replacing `from` (if there was one).
    RolledBack {
        deployment: Deployment,
        from: Option<DeploymentId>,
        to: DeploymentId,
        notifications: Vec<Notification>,
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
}

/// Nobody: events are only recorded as evidence.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEvents;

impl DeploymentEvents for NoEvents {
    fn deployment_event(&self, _event: &DeploymentEvent) {}
}
