//! The `gantry ledger` operations as one call each, returning typed,
//! versioned reports the binary renders: append an envelope, sign a
//! checkpoint, prove inclusion or consistency.

use serde::{Serialize, Serializer};

use gantry_attest::{Envelope, PublicKey, Statement};

use crate::LedgerError;
use crate::hash::{Hash, leaf_hash, to_hex};
use crate::proof::TlogProof;
use crate::record::{EvidenceRecord, RecordSubject, kind_for_predicate};
use crate::store::{Ledger, MAX_ENTRY_BYTES, REPORT_VERSION};

fn b64<S: Serializer>(h: &Hash, s: S) -> Result<S::Ok, S::Error> {
    use base64::Engine as _;
    s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(h))
}

fn b64_all<S: Serializer>(hs: &[Hash], s: S) -> Result<S::Ok, S::Error> {
    use base64::Engine as _;
    use serde::ser::SerializeSeq as _;
    let mut seq = s.serialize_seq(Some(hs.len()))?;
    for h in hs {
        seq.serialize_element(&base64::engine::general_purpose::STANDARD.encode(h))?;
    }
    seq.end()
}

fn hex<S: Serializer>(h: &Hash, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&to_hex(h))
}

/// What to record with an appended envelope.
#[derive(Debug, Clone, Default)]
pub struct AppendRequest {
    /// The record kind [default: from the predicate type].
    pub kind: Option<String>,
    pub service: Option<String>,
    pub version: Option<String>,
    pub promotion: Option<String>,
    /// Append only if this key signed the envelope.
    pub trusted_key: Option<PublicKey>,
    /// When it is recorded, RFC 3339.
    pub time: String,
}

/// An appended entry.
#[derive(Debug, Clone, Serialize)]
pub struct AppendReport {
    pub version: u32,
    pub index: u64,
    pub kind: String,
    pub subjects: usize,
    #[serde(serialize_with = "hex")]
    pub leaf_hash: Hash,
}

/// Reads a DSSE envelope holding an in-toto statement, checks the key
/// when one is given, and appends it as an evidence record.
pub fn append_envelope(
    ledger: &Ledger,
    envelope_bytes: &[u8],
    request: &AppendRequest,
) -> Result<AppendReport, LedgerError> {
    if envelope_bytes.len() > MAX_ENTRY_BYTES / 2 {
        return Err(LedgerError::EntryTooLarge {
            len: envelope_bytes.len(),
            max: MAX_ENTRY_BYTES / 2,
        });
    }
    let envelope = Envelope::from_json(envelope_bytes)?;
    let statement = Statement::from_payload(&envelope.payload)?;
    // The evidence chain is the record of promotions: its records come
    // only from `gantry promote` and `gantry approve`. One appended by
    // hand would move a service without its gates, or, malformed, stop
    // every later promotion from reading the chain.
    if statement.predicate_type == crate::chain::CHAIN_PREDICATE {
        return Err(LedgerError::Record(format!(
            "the statement is an evidence chain record ({}); those are written only by `gantry promote` and `gantry approve`",
            crate::chain::CHAIN_PREDICATE
        )));
    }
    if let Some(key) = &request.trusted_key
        && gantry_attest::dsse::accepted_keys(&envelope.verify(std::slice::from_ref(key)))
            .is_empty()
    {
        return Err(LedgerError::NotSignedBy {
            key_id: key.key_id().to_string(),
        });
    }
    let record = EvidenceRecord {
        kind: request
            .kind
            .clone()
            .unwrap_or_else(|| kind_for_predicate(&statement.predicate_type).to_string()),
        subjects: statement
            .subject
            .iter()
            .map(|s| RecordSubject {
                name: s.name.clone(),
                digest: s.digest.clone(),
            })
            .collect(),
        predicate_type: statement.predicate_type.clone(),
        envelope: serde_json::from_slice(envelope_bytes)
            .map_err(|e| LedgerError::Record(e.to_string()))?,
        time: request.time.clone(),
        service: request.service.clone(),
        version: request.version.clone(),
        promotion: request.promotion.clone(),
    };
    let entry = record.to_canonical()?;
    let index = ledger.append(&entry)?;
    Ok(AppendReport {
        version: REPORT_VERSION,
        index,
        kind: record.kind,
        subjects: record.subjects.len(),
        leaf_hash: leaf_hash(&entry),
    })
}

/// A signed checkpoint.
#[derive(Debug, Clone, Serialize)]
pub struct CheckpointReport {
    pub version: u32,
    pub origin: String,
    pub size: u64,
    #[serde(serialize_with = "hex")]
    pub root_hash: Hash,
    pub note: String,
}

/// Signs and stores a checkpoint of the log as it is now.
pub fn checkpoint(ledger: &Ledger) -> Result<CheckpointReport, LedgerError> {
    let (c, note) = ledger.checkpoint()?;
    Ok(CheckpointReport {
        version: REPORT_VERSION,
        origin: c.origin,
        size: c.size,
        root_hash: c.root,
        note,
    })
}

/// An inclusion proof.
#[derive(Debug, Clone, Serialize)]
pub struct InclusionReport {
    pub version: u32,
    pub index: u64,
    pub tree_size: u64,
    #[serde(serialize_with = "b64")]
    pub leaf_hash: Hash,
    #[serde(serialize_with = "b64")]
    pub root: Hash,
    #[serde(serialize_with = "b64_all")]
    pub proof: Vec<Hash>,
}

/// Proves entry `index` is in the tree of `size` entries (default: all).
pub fn prove_inclusion(
    ledger: &Ledger,
    index: u64,
    size: Option<u64>,
) -> Result<InclusionReport, LedgerError> {
    let snapshot = ledger.snapshot()?;
    let size = size.unwrap_or(snapshot.size());
    let proof = snapshot.inclusion_proof(index, size)?;
    let (_, leaf) = snapshot.entry(index)?;
    Ok(InclusionReport {
        version: REPORT_VERSION,
        index,
        tree_size: size,
        leaf_hash: leaf,
        root: snapshot.root(size)?,
        proof,
    })
}

/// A consistency proof.
#[derive(Debug, Clone, Serialize)]
pub struct ConsistencyReport {
    pub version: u32,
    pub old_size: u64,
    pub new_size: u64,
    #[serde(serialize_with = "b64")]
    pub old_root: Hash,
    #[serde(serialize_with = "b64")]
    pub new_root: Hash,
    #[serde(serialize_with = "b64_all")]
    pub proof: Vec<Hash>,
}

/// Proves the log at `old` entries is a prefix of the log at `new`
/// (default: all).
pub fn prove_consistency(
    ledger: &Ledger,
    old: u64,
    new: Option<u64>,
) -> Result<ConsistencyReport, LedgerError> {
    let snapshot = ledger.snapshot()?;
    let new = new.unwrap_or(snapshot.size());
    Ok(ConsistencyReport {
        version: REPORT_VERSION,
        old_size: old,
        new_size: new,
        proof: snapshot.consistency_proof(old, new)?,
        old_root: snapshot.root(old)?,
        new_root: snapshot.root(new)?,
    })
}

/// A c2sp.org/tlog-proof of entry `index` against a fresh signed
/// checkpoint of the whole log.
pub fn tlog_proof(ledger: &Ledger, index: u64) -> Result<TlogProof, LedgerError> {
    let (checkpoint, note) = ledger.checkpoint()?;
    let snapshot = ledger.snapshot()?;
    Ok(TlogProof {
        extra: None,
        index,
        hashes: snapshot.inclusion_proof(index, checkpoint.size)?,
        checkpoint: note,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use gantry_attest::keys::PrivateKey;
    use gantry_attest::statement::Subject;

    fn envelope(predicate_type: &str, predicate: serde_json::Value) -> Vec<u8> {
        let key = PrivateKey::ed25519_from_seed(&[3; 32]).unwrap();
        let statement = Statement::new(
            vec![Subject::sha256("dist/app", "aa".repeat(32))],
            predicate_type,
            predicate,
        );
        gantry_attest::attest(&statement, &[&key])
            .unwrap()
            .to_json()
            .into_bytes()
    }

    #[test]
    fn an_evidence_chain_record_cannot_be_appended_by_hand() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::create_or_open(&dir.path().join("ledger")).unwrap();
        let package = "ff".repeat(32);
        let forged = envelope(
            crate::chain::CHAIN_PREDICATE,
            serde_json::json!({
                "promotion_id": package, "timestamp": "2026-12-06T00:00:00Z",
                "service": "service-a", "previous_hash": "",
                "evidence": {"type": "validation", "signatures": [], "data": {
                    "package": package, "version": "6.6.6", "from": "compliance_ready",
                    "to": "compliant", "decision": "promoted"}},
            }),
        );
        let request = AppendRequest {
            kind: Some("promotion-validation".into()),
            service: Some("service-a".into()),
            version: Some("6.6.6".into()),
            promotion: Some(package.clone()),
            time: "2026-12-06T00:00:00Z".into(),
            ..AppendRequest::default()
        };
        let err = append_envelope(&ledger, &forged, &request).unwrap_err();
        assert!(
            matches!(&err, LedgerError::Record(why) if why.contains("evidence chain record")),
            "{err}"
        );
        assert_eq!(ledger.snapshot().unwrap().size(), 0);
        // Other evidence, even with a promotion kind given by hand, is
        // appended as before.
        let tests = envelope(
            gantry_attest::predicate::TEST_RESULT,
            serde_json::json!({"result": "PASSED"}),
        );
        assert_eq!(append_envelope(&ledger, &tests, &request).unwrap().index, 0);
    }
}
