//! Deployments as evidence: every deployment event, reviewer approval,
//! health result and rollback becomes one ledger entry whose envelope
//! holds an in-toto statement of predicate type [`DEPLOYMENT_PREDICATE`]
//! (approvals: the reviewer's signed envelope itself, of
//! [`APPROVAL_PREDICATE`]). Records made by gantry itself are unsigned,
//! as promotion records are: the ledger's Merkle tree and checkpoints
//! are what make them tamper-evident.

use std::collections::BTreeMap;

use gantry_attest::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use gantry_attest::statement::{Statement, Subject};
use gantry_ledger::Ledger;
use gantry_ledger::record::{EvidenceRecord, RecordSubject};
use gantry_store::Deployment;

use crate::events::DeploymentEvent;

/// The predicate type of a deployment event.
pub const DEPLOYMENT_PREDICATE: &str = "https://gantry.dev/attestation/deployment/v1";

/// The predicate type of a reviewer's approval of a run's environment.
pub const APPROVAL_PREDICATE: &str = "https://gantry.dev/attestation/deployment-approval/v1";

/// The ledger record kind of deployment events.
pub const DEPLOYMENT_KIND: &str = "deployment";

/// The ledger record kind of approvals.
pub const APPROVAL_KIND: &str = "deployment-approval";

/// The subject of a deployment's statements: the deployment, by the
/// commit it deploys.
pub fn subject(deployment: &Deployment) -> Subject {
    let mut digest = BTreeMap::new();
    if let Some(commit) = &deployment.commit {
        digest.insert("gitCommit".to_string(), commit.clone());
    }
    Subject {
        name: format!(
            "deployment:{}/environment:{}",
            deployment.id, deployment.environment
        ),
        digest,
    }
}

fn record(
    kind: &str,
    predicate_type: &str,
    subjects: Vec<Subject>,
    envelope: &Envelope,
    time: String,
    service: Option<&str>,
) -> EvidenceRecord {
    EvidenceRecord {
        kind: kind.to_string(),
        subjects: subjects
            .into_iter()
            .map(|s| RecordSubject {
                name: s.name,
                digest: s.digest,
            })
            .collect(),
        predicate_type: predicate_type.to_string(),
        envelope: envelope.to_value(),
        time,
        service: service.map(str::to_string),
        version: None,
        promotion: None,
    }
}

/// Appends `event` to `ledger`, as evidence for `service` when the
/// environment names one; gives the entry's index.
pub fn append_event(
    ledger: &Ledger,
    event: &DeploymentEvent,
    time: String,
    service: Option<&str>,
) -> Result<u64, gantry_ledger::LedgerError> {
    let predicate = serde_json::to_value(event).unwrap_or_default();
    let statement = Statement::new(
        vec![subject(event.deployment())],
        DEPLOYMENT_PREDICATE,
        predicate,
    );
    let envelope = Envelope {
        payload_type: IN_TOTO_PAYLOAD_TYPE.to_string(),
        payload: statement.to_payload(),
        signatures: Vec::new(),
    };
    let entry = record(
        DEPLOYMENT_KIND,
        DEPLOYMENT_PREDICATE,
        statement.subject,
        &envelope,
        time,
        service,
    )
    .to_canonical()?;
    ledger.append(&entry)
}

/// Appends a reviewer's signed approval (its envelope as signed), as
/// evidence for `service` when the environment names one.
pub fn append_approval(
    ledger: &Ledger,
    statement: &Statement,
    envelope: &Envelope,
    time: String,
    service: Option<&str>,
) -> Result<u64, gantry_ledger::LedgerError> {
    let entry = record(
        APPROVAL_KIND,
        APPROVAL_PREDICATE,
        statement.subject.clone(),
        envelope,
        time,
        service,
    )
    .to_canonical()?;
    ledger.append(&entry)
}
