//! Rollback: which deployment an environment goes back to, and what run
//! deploys it again (the same workflow job at the same commit, ref and
//! inputs). Running it is the caller's (the binary runs the workflow);
//! the run's deployments say what they roll back to
//! ([`crate::deploy::RollbackOf`]).

use gantry_store::{Deployment, DeploymentId, DeploymentState, RunId, Store};
use indexmap::IndexMap;

/// What a rollback deploys again.
#[derive(Debug, Clone)]
pub struct RollbackPlan {
    pub environment: String,
    /// The deployment deployed again.
    pub target: Deployment,
    /// The environment's newest deployment, replaced.
    pub from: Option<Deployment>,
    /// The run that made `target`, and its event, ref and inputs.
    pub run: RunId,
    pub workflow_path: String,
    pub event: String,
    pub git_ref: Option<String>,
    pub commit: String,
    pub inputs: IndexMap<String, String>,
    pub job_id: String,
}

/// Why there is nothing to roll back to.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RollbackError {
    #[error("environment `{environment}` has no deployments")]
    NoDeployments { environment: String },
    #[error("environment `{environment}` has no earlier successful deployment to roll back to")]
    NoEarlierSuccess { environment: String },
    #[error("deployment {id} does not exist")]
    NoSuchDeployment { id: DeploymentId },
    #[error("deployment {id} is to `{found}`, not `{environment}`")]
    OtherEnvironment {
        id: DeploymentId,
        found: String,
        environment: String,
    },
    #[error(
        "deployment {id} never succeeded ({state}); only a successful deployment can be deployed again"
    )]
    NeverSucceeded {
        id: DeploymentId,
        state: DeploymentState,
    },
    #[error("deployment {id} records no {what}, so it cannot be deployed again")]
    Incomplete {
        id: DeploymentId,
        what: &'static str,
    },
    #[error("run {run} of deployment {id} is no longer in the history")]
    RunGone { id: DeploymentId, run: RunId },
    #[error("run {run} recorded inputs that are not a JSON object of strings: {message}")]
    Inputs { run: RunId, message: String },
    #[error(transparent)]
    Store(#[from] gantry_store::StoreError),
}

/// Whether `d` succeeded at some time (it may be inactive since).
pub fn succeeded(d: &Deployment) -> bool {
    d.statuses
        .iter()
        .any(|s| s.state == DeploymentState::Success)
}

/// The plan to roll `environment` back to `to`, or by default to the
/// newest earlier deployment that succeeded: before the active one when
/// the newest deployment is the active one, else the active one (the
/// newest failed and the last success still stands).
pub fn plan(
    store: &Store,
    environment: &str,
    to: Option<DeploymentId>,
) -> Result<RollbackPlan, RollbackError> {
    let all = store.deployments(Some(environment), 10_000)?;
    let Some(newest) = all.first().cloned() else {
        return Err(RollbackError::NoDeployments {
            environment: environment.to_string(),
        });
    };
    let target = match to {
        Some(id) => {
            let d = store
                .deployment(id)?
                .ok_or(RollbackError::NoSuchDeployment { id })?;
            if !d.environment.eq_ignore_ascii_case(environment) {
                return Err(RollbackError::OtherEnvironment {
                    id,
                    found: d.environment,
                    environment: environment.to_string(),
                });
            }
            if !succeeded(&d) {
                return Err(RollbackError::NeverSucceeded { id, state: d.state });
            }
            d
        }
        None => {
            let skip_active = newest.state == DeploymentState::Success;
            all.iter()
                .filter(|d| !(skip_active && d.id == newest.id))
                .filter(|d| !(skip_active && d.commit.is_some() && d.commit == newest.commit))
                .find(|d| succeeded(d))
                .cloned()
                .ok_or_else(|| RollbackError::NoEarlierSuccess {
                    environment: environment.to_string(),
                })?
        }
    };
    let commit = target.commit.clone().ok_or(RollbackError::Incomplete {
        id: target.id,
        what: "commit",
    })?;
    let run = target.run.ok_or(RollbackError::Incomplete {
        id: target.id,
        what: "run",
    })?;
    let detail = store
        .run(run)?
        .ok_or(RollbackError::RunGone { id: target.id, run })?;
    let inputs: IndexMap<String, String> = if detail.inputs_json.trim().is_empty() {
        IndexMap::new()
    } else {
        serde_json::from_str(&detail.inputs_json).map_err(|e| RollbackError::Inputs {
            run,
            message: e.to_string(),
        })?
    };
    Ok(RollbackPlan {
        environment: target.environment.clone(),
        from: (newest.id != target.id).then_some(newest),
        run,
        workflow_path: target.workflow_path.clone(),
        event: detail.run.event.clone(),
        git_ref: target.git_ref.clone(),
        commit,
        inputs,
        job_id: target.job_id.clone(),
        target,
    })
}
