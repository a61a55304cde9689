//! Reviewers' approvals of a run's jobs in an environment.
//!
//! `gantry approve --run ID --environment NAME --as WHO --key KEY` signs
//! an in-toto statement (predicate [`APPROVAL_PREDICATE`]) about the run,
//! the environment and the commit with the reviewer's key, using
//! gantry-promote's approval signing; the store keeps the envelope, the
//! ledger gets it too. The waiting job counts an approval only when the
//! envelope verifies with the reviewer's listed key, says the same run,
//! environment and reviewer, and (with `prevent_self_review`) the
//! reviewer did not start the deployment.

use gantry_attest::dsse::Envelope;
use gantry_attest::keys::PrivateKey;
use gantry_attest::statement::{Statement, Subject};
use gantry_ledger::Ledger;
use gantry_promote::approval::{self, ApprovalError, Signers};
use gantry_store::{Deployment, DeploymentState, EnvironmentApproval, RunId, Store, Timestamp};
use serde::Serialize;

use crate::environments::{ENVIRONMENTS_FILE, Environment, Environments};
use crate::evidence::{self, APPROVAL_PREDICATE};

/// A reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Approved,
    /// The waiting jobs fail (`gantry approve --run ... --reject`).
    Rejected,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approved => "approved",
            Decision::Rejected => "rejected",
        }
    }
}

/// What `gantry approve --run` asks for.
#[derive(Debug)]
pub struct RunApproval<'a> {
    pub run: RunId,
    pub environment: &'a str,
    pub reviewer: &'a str,
    pub key: &'a PrivateKey,
    pub comment: Option<String>,
    pub decision: Decision,
}

/// What was recorded.
#[derive(Debug, Clone, Serialize)]
pub struct RunApprovalReport {
    pub version: u32,
    pub run: RunId,
    pub environment: String,
    pub reviewer: String,
    pub decision: Decision,
    pub key_id: String,
    /// The deployments of the run that wait in that environment.
    pub deployments: Vec<gantry_store::DeploymentId>,
    /// The ledger entry of the approval.
    pub ledger_entry: u64,
}

/// Why an approval was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunApprovalError {
    #[error("environment `{name}` is not in {ENVIRONMENTS_FILE}{}", hint.as_ref().map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default())]
    UnknownEnvironment { name: String, hint: Option<String> },
    #[error(transparent)]
    Signer(#[from] ApprovalError),
    #[error("run {run} has no job waiting for environment `{environment}`")]
    NotWaiting { run: RunId, environment: String },
    #[error(
        "{reviewer} started the deployment to `{environment}` and may not approve it (prevent_self_review)"
    )]
    SelfReview {
        reviewer: String,
        environment: String,
    },
    #[error("{reviewer} already reviewed run {run} for `{environment}`")]
    AlreadyApproved {
        reviewer: String,
        run: RunId,
        environment: String,
    },
    #[error(transparent)]
    Environments(#[from] crate::EnvironmentsError),
    #[error(transparent)]
    Store(#[from] gantry_store::StoreError),
    #[error(transparent)]
    Ledger(#[from] gantry_ledger::LedgerError),
}

fn signers(environment: &str) -> (String, String) {
    (
        format!("a reviewer of environment `{environment}`"),
        format!("reviewers of environment `{environment}` are"),
    )
}

/// What a reviewer approves: a run's ref and commit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Approved {
    pub git_ref: Option<String>,
    pub commit: Option<String>,
}

impl From<&Deployment> for Approved {
    fn from(d: &Deployment) -> Approved {
        Approved {
            git_ref: d.git_ref.clone(),
            commit: d.commit.clone(),
        }
    }
}

/// The statement a reviewer signs.
pub fn statement(
    run: RunId,
    environment: &str,
    reviewer: &str,
    decision: Decision,
    approved: &Approved,
    comment: &Option<String>,
    time: &str,
) -> Statement {
    let mut digest = std::collections::BTreeMap::new();
    if let Some(commit) = &approved.commit {
        digest.insert("gitCommit".to_string(), commit.clone());
    }
    Statement::new(
        vec![Subject {
            name: format!("run:{run}/environment:{environment}"),
            digest,
        }],
        APPROVAL_PREDICATE,
        serde_json::json!({
            "run": run.0,
            "environment": environment,
            "reviewer": reviewer,
            "decision": decision.as_str(),
            "ref": approved.git_ref,
            "commit": approved.commit,
            "comment": comment,
            "time": time,
        }),
    )
}

/// Signs and records `request`.
pub fn approve_run(
    environments: &Environments,
    store: &Store,
    ledger: &Ledger,
    request: &RunApproval<'_>,
) -> Result<RunApprovalReport, RunApprovalError> {
    let Some(env) = environments.find(request.environment) else {
        return Err(RunApprovalError::UnknownEnvironment {
            name: request.environment.to_string(),
            hint: gantry_workflow::did_you_mean(
                request.environment,
                environments.environments.keys().map(String::as_str),
            )
            .map(str::to_string),
        });
    };
    let (role, plural) = signers(&env.name);
    approval::check_signer(
        &env.reviewers,
        request.reviewer,
        request.key,
        &Signers {
            role: &role,
            plural: &plural,
            key: "reviewers:",
            file: ENVIRONMENTS_FILE,
        },
    )?;
    let waiting: Vec<Deployment> = store
        .deployments_of_run(request.run)?
        .into_iter()
        .filter(|d| d.environment.eq_ignore_ascii_case(&env.name))
        .filter(|d| d.state == DeploymentState::Queued)
        .collect();
    // A job with `deployment: false` waits without a deployment: the run
    // must then still be going.
    let approved = match waiting.first() {
        Some(first) => Approved::from(first),
        None => match store.run(request.run)? {
            Some(detail) if detail.run.conclusion.is_none() => Approved {
                git_ref: detail.run.git_ref.clone(),
                commit: detail.run.commit.clone(),
            },
            _ => {
                return Err(RunApprovalError::NotWaiting {
                    run: request.run,
                    environment: env.name.clone(),
                });
            }
        },
    };
    if env.prevent_self_review && waiting.iter().any(|d| d.creator == request.reviewer) {
        return Err(RunApprovalError::SelfReview {
            reviewer: request.reviewer.to_string(),
            environment: env.name.clone(),
        });
    }
    let time = jiff::Timestamp::now().to_string();
    let statement = statement(
        request.run,
        &env.name,
        request.reviewer,
        request.decision,
        &approved,
        &request.comment,
        &time,
    );
    let envelope = approval::sign_statement(statement.to_payload(), request.key)?;
    let recorded = store.record_environment_approval(&EnvironmentApproval {
        run: request.run,
        environment: env.name.clone(),
        reviewer: request.reviewer.to_string(),
        key_id: request.key.key_id().to_string(),
        envelope: envelope.to_json(),
        comment: request.comment.clone(),
        created_at: Timestamp::now(),
    })?;
    if !recorded {
        return Err(RunApprovalError::AlreadyApproved {
            reviewer: request.reviewer.to_string(),
            run: request.run,
            environment: env.name.clone(),
        });
    }
    let ledger_entry =
        evidence::append_approval(ledger, &statement, &envelope, time, env.service.as_deref())?;
    Ok(RunApprovalReport {
        version: 1,
        run: request.run,
        environment: env.name.clone(),
        reviewer: request.reviewer.to_string(),
        decision: request.decision,
        key_id: request.key.key_id().to_string(),
        deployments: waiting.iter().map(|d| d.id).collect(),
        ledger_entry,
    })
}

/// What the reviews of a run's environment say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reviews {
    /// The reviewers whose approvals count, each once, in order.
    pub approved: Vec<String>,
    /// Reviewers who rejected, with their comments.
    pub rejected: Vec<(String, Option<String>)>,
    /// Why each other review does not count.
    pub ignored: Vec<String>,
}

/// The reviews that count for `run` in `env`, and why each other does
/// not; `creator` started the deployment.
pub fn counted(
    env: &Environment,
    run: RunId,
    creator: &str,
    approvals: &[EnvironmentApproval],
) -> Reviews {
    let mut reviews = Reviews::default();
    for a in approvals {
        match check(env, run, creator, a) {
            Ok(_) if reviews.approved.contains(&a.reviewer) => {}
            Ok(Decision::Approved) => reviews.approved.push(a.reviewer.clone()),
            Ok(Decision::Rejected) => reviews
                .rejected
                .push((a.reviewer.clone(), a.comment.clone())),
            Err(why) => reviews.ignored.push(why),
        }
    }
    reviews
}

fn check(
    env: &Environment,
    run: RunId,
    creator: &str,
    a: &EnvironmentApproval,
) -> Result<Decision, String> {
    let who = &a.reviewer;
    let key = env
        .reviewers
        .get(who)
        .ok_or_else(|| format!("{who} is not a reviewer of `{}`", env.name))?;
    let envelope = Envelope::from_json(a.envelope.as_bytes())
        .map_err(|e| format!("{who}'s approval is not a DSSE envelope: {e}"))?;
    if !approval::signed_by(&envelope, key) {
        return Err(format!(
            "{who}'s approval is not signed by {who}'s key {}",
            key.key_id()
        ));
    }
    let statement = Statement::from_payload(&envelope.payload)
        .map_err(|e| format!("{who}'s approval holds no statement: {e}"))?;
    let p = &statement.predicate;
    let same = statement.predicate_type == APPROVAL_PREDICATE
        && p.get("run").and_then(serde_json::Value::as_u64) == Some(run.0)
        && p.get("reviewer").and_then(serde_json::Value::as_str) == Some(who.as_str())
        && p.get("environment")
            .and_then(serde_json::Value::as_str)
            .is_some_and(|e| e.eq_ignore_ascii_case(&env.name));
    if !same {
        return Err(format!(
            "{who}'s approval is about another run or environment"
        ));
    }
    if env.prevent_self_review && who == creator {
        return Err(format!(
            "{who} started the deployment and may not approve it (prevent_self_review)"
        ));
    }
    match p.get("decision").and_then(serde_json::Value::as_str) {
        None | Some("approved") => Ok(Decision::Approved),
        Some("rejected") => Ok(Decision::Rejected),
        Some(other) => Err(format!("{who}'s review has an unknown decision `{other}`")),
    }
}
