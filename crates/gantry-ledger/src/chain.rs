//! The evidence chain: promotion requests, gate evaluations and approvals,
//! each a ledger entry holding a record in the evidence chain format
//!
//! ```json
//! { "promotion_id": "…", "timestamp": "2026-12-06T22:00:00Z", "service": "service-a",
//!   "previous_hash": "sha256:…",
//!   "evidence": { "type": "promotion|validation|approval", "data": {}, "signatures": [] } }
//! ```
//!
//! as the predicate of an in-toto statement about the package
//! ([`CHAIN_PREDICATE`]). `previous_hash` is `sha256:` and the SHA-256 of
//! the ledger entry (its canonical bytes) of the previous chain record of
//! the same service, empty for a service's first. So each service's
//! promotion history is a hash chain inside the Merkle tree: removing,
//! reordering or changing a record breaks a link, and [`ChainLinks`]
//! (used by `verify` and by the export check) says which.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::LedgerError;
use crate::hash::to_hex;
use crate::record::{EvidenceRecord, RecordSubject};

/// The predicate type of a chain record's statement.
pub const CHAIN_PREDICATE: &str = "https://gantry.dev/attestation/evidence-chain/v1";

/// What a chain record is evidence of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChainType {
    /// A promotion request: what was asked, by whom.
    Promotion,
    /// The gate evaluation of a request, and its decision.
    Validation,
    /// An approver's signed approval of a package.
    Approval,
}

impl ChainType {
    /// The ledger record kind that holds a chain record of this type.
    pub fn record_kind(self) -> &'static str {
        match self {
            ChainType::Promotion => "promotion-request",
            ChainType::Validation => "promotion-validation",
            ChainType::Approval => "promotion-approval",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ChainType::Promotion => "promotion",
            ChainType::Validation => "validation",
            ChainType::Approval => "approval",
        }
    }
}

/// The `evidence` of a chain record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainEvidence {
    #[serde(rename = "type")]
    pub kind: ChainType,
    pub data: serde_json::Value,
    /// Who signed the envelope that holds the record (`keyid`, `signer`);
    /// empty for records only the ledger vouches for.
    #[serde(default)]
    pub signatures: Vec<serde_json::Value>,
}

/// One record of the evidence chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainRecord {
    pub promotion_id: String,
    pub timestamp: String,
    pub service: String,
    pub previous_hash: String,
    pub evidence: ChainEvidence,
}

/// `sha256:` and the hex SHA-256 of a ledger entry's bytes: what the next
/// record of the same service names as its `previous_hash`.
pub fn entry_hash(entry: &[u8]) -> String {
    let digest: [u8; 32] = sha2::Sha256::digest(entry).into();
    format!("sha256:{}", to_hex(&digest))
}

impl ChainRecord {
    /// The in-toto statement payload of this record about `package` (its
    /// id, the hex SHA-256 of its canonical JSON).
    pub fn statement(&self, package: &str) -> gantry_attest::statement::Statement {
        gantry_attest::statement::Statement::new(
            vec![gantry_attest::statement::Subject::sha256(
                format!("package:{package}"),
                package,
            )],
            CHAIN_PREDICATE,
            serde_json::to_value(self).unwrap_or_default(),
        )
    }

    /// The ledger record holding `envelope` (a DSSE envelope of
    /// [`ChainRecord::statement`]), about `version` of the service.
    pub fn into_record(
        &self,
        package: &str,
        version: &str,
        envelope: &gantry_attest::dsse::Envelope,
    ) -> EvidenceRecord {
        EvidenceRecord {
            kind: self.evidence.kind.record_kind().to_string(),
            subjects: vec![RecordSubject {
                name: format!("package:{package}"),
                digest: [("sha256".to_string(), package.to_string())].into(),
            }],
            predicate_type: CHAIN_PREDICATE.to_string(),
            envelope: envelope.to_value(),
            time: self.timestamp.clone(),
            service: Some(self.service.clone()),
            version: Some(version.to_string()),
            promotion: Some(self.promotion_id.clone()),
        }
    }

    /// The chain record a ledger record holds, if it is one: `Ok(None)`
    /// for other evidence, an error when it claims to be one and is not
    /// consistent with the record around it.
    pub fn from_record(record: &EvidenceRecord) -> Result<Option<ChainRecord>, LedgerError> {
        if record.predicate_type != CHAIN_PREDICATE {
            return Ok(None);
        }
        let envelope_bytes =
            serde_json::to_vec(&record.envelope).map_err(|e| LedgerError::Record(e.to_string()))?;
        let envelope = gantry_attest::dsse::Envelope::from_json(&envelope_bytes)?;
        let statement = gantry_attest::statement::Statement::from_payload(&envelope.payload)?;
        if statement.predicate_type != CHAIN_PREDICATE {
            return Err(LedgerError::Record(format!(
                "the record says {CHAIN_PREDICATE} but its statement is {}",
                statement.predicate_type
            )));
        }
        let chain: ChainRecord = serde_json::from_value(statement.predicate)
            .map_err(|e| LedgerError::Record(format!("not an evidence chain record: {e}")))?;
        let mismatch = |what: &str| {
            LedgerError::Record(format!(
                "the chain record's {what} differs from the ledger record's"
            ))
        };
        if record.kind != chain.evidence.kind.record_kind() {
            return Err(mismatch("type"));
        }
        if record.service.as_deref() != Some(chain.service.as_str()) {
            return Err(mismatch("service"));
        }
        if record.promotion.as_deref() != Some(chain.promotion_id.as_str()) {
            return Err(mismatch("promotion_id"));
        }
        if record.time != chain.timestamp {
            return Err(mismatch("timestamp"));
        }
        Ok(Some(chain))
    }
}

/// Follows each service's chain through entries given in log order.
#[derive(Debug, Default)]
pub struct ChainLinks {
    heads: HashMap<String, String>,
}

impl ChainLinks {
    /// Checks the next entry: when it is a chain record, its
    /// `previous_hash` must name the last chain entry of its service.
    /// Returns why it does not.
    pub fn observe(&mut self, record: &EvidenceRecord, entry: &[u8]) -> Result<(), String> {
        let chain = match ChainRecord::from_record(record) {
            Ok(Some(chain)) => chain,
            Ok(None) => return Ok(()),
            Err(e) => return Err(e.to_string()),
        };
        let expected = self.heads.get(&chain.service).map_or("", String::as_str);
        let result = if chain.previous_hash == expected {
            Ok(())
        } else if expected.is_empty() {
            Err(format!(
                "the evidence chain of {} starts here, but previous_hash is {}: an earlier record is missing",
                chain.service, chain.previous_hash
            ))
        } else {
            Err(format!(
                "the evidence chain of {} is broken: previous_hash is `{}`, the previous record's hash is {expected}",
                chain.service,
                if chain.previous_hash.is_empty() {
                    "(empty)"
                } else {
                    &chain.previous_hash
                }
            ))
        };
        self.heads.insert(chain.service, entry_hash(entry));
        result
    }

    /// The hash of the last chain entry of `service`, what its next record
    /// names as `previous_hash` (empty when it has none).
    pub fn head(&self, service: &str) -> &str {
        self.heads.get(service).map_or("", String::as_str)
    }

    /// Records `entry` as the head of `service` without checking it.
    pub fn advance(&mut self, service: &str, entry: &[u8]) {
        self.heads.insert(service.to_string(), entry_hash(entry));
    }
}
