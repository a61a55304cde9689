//! Rollout evidence in the ledger: every event of a rollout (start, each
//! step, each analysis verdict, pauses, promotion, abort, rollback) as one
//! record whose statement has the predicate [`ROLLOUT_PREDICATE`], about
//! the rollout file (its SHA-256). The records of one run link by
//! `previous_hash` (the SHA-256 of the previous record's ledger entry), as
//! promotion's evidence chain does, so a removed or reordered verdict
//! breaks the link.

use gantry_ledger::record::RecordSubject;
use gantry_ledger::{EvidenceRecord, Ledger, LedgerError};
use serde::Serialize;

use super::config::RolloutConfig;
use super::controller::RolloutEvent;

/// The predicate type of a rollout record's statement.
pub const ROLLOUT_PREDICATE: &str = "https://gantry.dev/attestation/rollout/v1";

/// The predicate of one rollout record.
#[derive(Debug, Serialize)]
struct RolloutPredicate<'a> {
    rollout: &'a str,
    /// Identifies this run of the rollout (its start time).
    run: &'a str,
    timestamp: String,
    previous_hash: &'a str,
    file: &'a str,
    stable: String,
    canary: String,
    provider: &'static str,
    event: &'a RolloutEvent,
}

/// Appends a run's events to the ledger, linked in order.
pub struct RolloutEvidence<'a> {
    ledger: &'a Ledger,
    config: &'a RolloutConfig,
    run: String,
    previous: String,
}

impl<'a> RolloutEvidence<'a> {
    pub fn new(ledger: &'a Ledger, config: &'a RolloutConfig, run: String) -> Self {
        RolloutEvidence {
            ledger,
            config,
            run,
            previous: String::new(),
        }
    }

    /// Appends one event; returns its ledger index.
    pub fn append(&mut self, event: &RolloutEvent) -> Result<u64, LedgerError> {
        let timestamp = jiff::Timestamp::now().to_string();
        let predicate = RolloutPredicate {
            rollout: &self.config.name,
            run: &self.run,
            timestamp: timestamp.clone(),
            previous_hash: &self.previous,
            file: &self.config.file,
            stable: self.config.stable.to_string(),
            canary: self.config.canary.to_string(),
            provider: self.config.traffic.kind(),
            event,
        };
        let subject_name = format!("rollout:{}", self.config.name);
        let statement = gantry_attest::statement::Statement::new(
            vec![gantry_attest::statement::Subject::sha256(
                subject_name.clone(),
                self.config.digest.clone(),
            )],
            ROLLOUT_PREDICATE,
            serde_json::to_value(&predicate).map_err(|e| LedgerError::Record(e.to_string()))?,
        );
        let envelope = gantry_attest::dsse::Envelope {
            payload_type: gantry_attest::dsse::IN_TOTO_PAYLOAD_TYPE.to_string(),
            payload: statement.to_payload(),
            signatures: Vec::new(),
        };
        let record = EvidenceRecord {
            kind: format!("rollout-{}", event.kind.name()),
            subjects: vec![RecordSubject {
                name: subject_name,
                digest: [("sha256".to_string(), self.config.digest.clone())].into(),
            }],
            predicate_type: ROLLOUT_PREDICATE.to_string(),
            envelope: envelope.to_value(),
            time: timestamp,
            service: Some(self.config.name.clone()),
            version: None,
            promotion: None,
        };
        let entry = record.to_canonical()?;
        let index = self.ledger.append(&entry)?;
        self.previous = gantry_ledger::chain::entry_hash(&entry);
        Ok(index)
    }
}
