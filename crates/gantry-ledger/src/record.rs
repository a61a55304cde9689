//! Evidence records: what one ledger entry holds. An entry's bytes are the
//! RFC 8785 canonical JSON (JCS) of its record, so the same evidence always
//! hashes the same and any reader can recompute the leaf hash.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::LedgerError;

/// A subject of the evidence: a name and its digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSubject {
    pub name: String,
    pub digest: BTreeMap<String, String>,
}

/// One piece of evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EvidenceRecord {
    /// `provenance`, `sbom`, `vulns`, `audit`, `test-result`, `vsa`,
    /// `promotion-request`, ... (see [`kind_for_predicate`]).
    pub kind: String,
    pub subjects: Vec<RecordSubject>,
    pub predicate_type: String,
    /// The signed DSSE envelope, as it was given.
    pub envelope: serde_json::Value,
    /// When it was recorded, RFC 3339 UTC.
    pub time: String,
    /// The service the evidence belongs to (for exports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The service version it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The promotion it belongs to, for promotion evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion: Option<String>,
}

/// The record kind of a predicate type.
pub fn kind_for_predicate(predicate_type: &str) -> &'static str {
    match predicate_type {
        t if t.starts_with("https://slsa.dev/provenance/") => "provenance",
        t if t.starts_with("https://cyclonedx.org/bom")
            || t.starts_with("https://spdx.dev/Document") =>
        {
            "sbom"
        }
        t if t.starts_with("https://in-toto.io/attestation/vulns/") => "vulns",
        t if t.starts_with("https://in-toto.io/attestation/test-result/") => "test-result",
        t if t.starts_with("https://slsa.dev/verification_summary/") => "vsa",
        t if t.starts_with("https://gantry.dev/attestation/audit/") => "audit",
        _ => "attestation",
    }
}

/// Whether `kind` is a valid record kind: lower-case letters, digits and
/// dashes.
pub fn valid_kind(kind: &str) -> bool {
    !kind.is_empty()
        && kind.len() <= 64
        && kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Whether `name` may be a path segment of an export (service, version,
/// promotion): no separators, no `..`, printable.
pub fn valid_segment(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+' | '@'))
}

impl EvidenceRecord {
    /// The entry bytes: canonical JSON (RFC 8785).
    pub fn to_canonical(&self) -> Result<Vec<u8>, LedgerError> {
        self.check()?;
        serde_json_canonicalizer::to_vec(self).map_err(|e| LedgerError::Record(e.to_string()))
    }

    /// Reads entry bytes, which must be the canonical form of a record.
    pub fn from_canonical(bytes: &[u8]) -> Result<EvidenceRecord, LedgerError> {
        let record: EvidenceRecord = serde_json::from_slice(bytes)
            .map_err(|e| LedgerError::Record(format!("not an evidence record: {e}")))?;
        let canonical = record.to_canonical()?;
        if canonical != bytes {
            return Err(LedgerError::Record(
                "the entry is not in canonical JSON form".into(),
            ));
        }
        Ok(record)
    }

    fn check(&self) -> Result<(), LedgerError> {
        if !valid_kind(&self.kind) {
            return Err(LedgerError::Record(format!(
                "kind `{}` is not lower-case letters, digits and dashes",
                self.kind
            )));
        }
        for (what, value) in [
            ("service", &self.service),
            ("version", &self.version),
            ("promotion", &self.promotion),
        ] {
            if let Some(v) = value
                && !valid_segment(v)
            {
                return Err(LedgerError::Record(format!(
                    "{what} `{v}` may hold only letters, digits and - _ . + @"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn canonical_json_is_sorted_and_compact() {
        let r = EvidenceRecord {
            kind: "sbom".into(),
            subjects: vec![RecordSubject {
                name: "dist/app".into(),
                digest: BTreeMap::from([("sha256".into(), "ab".into())]),
            }],
            predicate_type: "https://cyclonedx.org/bom".into(),
            envelope: serde_json::json!({"payloadType": "x", "payload": "", "signatures": [{"sig": "", "keyid": "k"}]}),
            time: "2024-01-01T00:00:00Z".into(),
            service: Some("service-a".into()),
            version: None,
            promotion: None,
        };
        let bytes = r.to_canonical().unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with(r#"{"envelope":{"payload":"","payloadType":"x","signatures":[{"keyid":"k","sig":""}]},"kind":"sbom","predicateType""#), "{text}");
        assert_eq!(EvidenceRecord::from_canonical(&bytes).unwrap(), r);
        let pretty = serde_json::to_vec_pretty(&r).unwrap();
        assert!(EvidenceRecord::from_canonical(&pretty).is_err());
        let mut bad = r;
        bad.service = Some("../etc".into());
        assert!(bad.to_canonical().is_err());
    }

    #[test]
    fn rfc8785_numbers_and_strings() {
        // RFC 8785 section 3.2.2.3 and 3.2.2.2 examples.
        let v: serde_json::Value = serde_json::from_str(
            r#"{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","literals":[null,true,false]}"#,
        )
        .unwrap();
        let out = serde_json_canonicalizer::to_string(&v).unwrap();
        assert_eq!(
            out,
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }
}
