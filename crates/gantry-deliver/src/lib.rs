//! Delivery: environments (`.gantry/environments.yml`) with GitHub's
//! protection rules, deployments and their statuses, health checks,
//! rollbacks, canary and blue-green rollouts (`.gantry/rollouts/*.yml`)
//! with analysis and automatic rollback, and notifications.
//!
//! Nothing here prints: every operation returns a typed report that the
//! binary (and later the server) renders.

pub mod approvals;
pub mod branches;
pub mod deploy;
pub mod dora;
pub mod environments;
pub mod events;
pub mod evidence;
pub mod health;
pub mod notify;
pub mod rollback;
pub mod rollout;

pub use environments::{Environment, Environments, EnvironmentsError};
