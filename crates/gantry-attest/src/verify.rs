//! Verifying an attestation against a policy: trusted keys and a threshold,
//! the payload type, the predicate type, and files on disk that must match
//! the subjects. Every check is reported, passed or failed, with the reason.

use serde::Serialize;

use crate::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, accepted_keys};
use crate::keys::PublicKey;
use crate::predicate;
use crate::statement::Statement;

/// What an attestation must satisfy.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Trusted public keys.
    pub keys: Vec<PublicKey>,
    /// How many distinct trusted keys must have signed (at least 1).
    pub threshold: usize,
    /// The predicate type required (a URI or an alias), if any.
    pub predicate_type: Option<String>,
    /// Files that must be subjects: name as shown, and SHA-256.
    pub files: Vec<(String, String)>,
}

/// One check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// `envelope`, `signatures`, `payload-type`, `statement`,
    /// `predicate-type`, `predicate` or `subject`.
    pub check: &'static str,
    pub passed: bool,
    pub detail: String,
}

/// All checks of one attestation.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub checks: Vec<Check>,
    /// Key ids of the trusted keys that signed.
    pub accepted_keys: Vec<String>,
    #[serde(skip)]
    pub statement: Option<Statement>,
}

impl Report {
    /// Whether every check passed (and there was at least one).
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.passed)
    }

    fn push(&mut self, check: &'static str, passed: bool, detail: impl Into<String>) {
        self.checks.push(Check {
            check,
            passed,
            detail: detail.into(),
        });
    }
}

fn short(id: &str) -> &str {
    id.get(..16).unwrap_or(id)
}

/// Verifies an envelope's bytes against `policy`.
pub fn verify(envelope_bytes: &[u8], policy: &Policy) -> Report {
    let mut report = Report::default();
    let envelope = match Envelope::from_json(envelope_bytes) {
        Ok(e) => e,
        Err(e) => {
            report.push("envelope", false, e.to_string());
            return report;
        }
    };
    report.push(
        "envelope",
        true,
        format!(
            "DSSE envelope with {} signature(s)",
            envelope.signatures.len()
        ),
    );

    // Signatures over PAE(payloadType, payload): the exact bytes.
    let threshold = policy.threshold.max(1);
    let checks = envelope.verify(&policy.keys);
    let accepted = accepted_keys(&checks);
    if accepted.len() >= threshold {
        report.push(
            "signatures",
            true,
            format!(
                "{} of {} trusted key(s) signed (threshold {threshold}): {}",
                accepted.len(),
                policy.keys.len(),
                accepted
                    .iter()
                    .map(|k| short(k))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    } else {
        let why: Vec<String> = checks
            .iter()
            .filter(|c| c.verified_by.is_none())
            .map(|c| {
                let id = if c.keyid.is_empty() { "no keyid".to_string() } else { format!("keyid {}", short(&c.keyid)) };
                if c.keyid_known {
                    format!("signature {} ({id}) does not verify with that key: the payload, its type or the signature changed", c.index)
                } else {
                    format!("signature {} ({id}) is by no trusted key", c.index)
                }
            })
            .collect();
        let mut detail = format!(
            "{} distinct trusted key(s) signed, {threshold} required",
            accepted.len()
        );
        if envelope.signatures.is_empty() {
            detail.push_str("; the envelope has no signatures");
        }
        if !why.is_empty() {
            detail.push_str("; ");
            detail.push_str(&why.join("; "));
        }
        report.push("signatures", false, detail);
    }
    report.accepted_keys = accepted;

    if envelope.payload_type == IN_TOTO_PAYLOAD_TYPE {
        report.push("payload-type", true, IN_TOTO_PAYLOAD_TYPE);
    } else {
        report.push(
            "payload-type",
            false,
            format!(
                "payload type is `{}`, expected `{IN_TOTO_PAYLOAD_TYPE}`",
                envelope.payload_type
            ),
        );
        return report;
    }

    let statement = match Statement::from_payload(&envelope.payload) {
        Ok(s) => s,
        Err(e) => {
            report.push("statement", false, e.to_string());
            return report;
        }
    };
    report.push(
        "statement",
        true,
        format!(
            "in-toto statement with {} subject(s), predicate type {}",
            statement.subject.len(),
            statement.predicate_type
        ),
    );

    if let Some(want) = &policy.predicate_type {
        let want = predicate::resolve(want);
        if statement.predicate_type == want {
            report.push("predicate-type", true, want.to_string());
        } else {
            report.push(
                "predicate-type",
                false,
                format!(
                    "predicate type is `{}`, expected `{want}`",
                    statement.predicate_type
                ),
            );
        }
    }
    if let Some(known) = predicate::known(&statement.predicate_type) {
        match known.check(&statement.predicate) {
            Ok(()) => report.push("predicate", true, format!("well-formed {}", known.alias)),
            Err(m) => report.push(
                "predicate",
                false,
                format!("malformed {}: {m}", known.alias),
            ),
        }
    }

    for (name, digest) in &policy.files {
        let matching = statement
            .subject
            .iter()
            .find(|s| s.sha256_hex() == Some(digest.as_str()));
        match matching {
            Some(s) if s.name == *name || s.name.is_empty() => {
                report.push(
                    "subject",
                    true,
                    format!("{name}: sha256 {} matches", short(digest)),
                );
            }
            Some(s) => report.push(
                "subject",
                true,
                format!(
                    "{name}: sha256 {} matches subject `{}`",
                    short(digest),
                    s.name
                ),
            ),
            None => {
                let by_name = statement.subject.iter().find(|s| s.name == *name);
                let detail = match by_name.and_then(|s| s.sha256_hex()) {
                    Some(want) => format!(
                        "{name}: the file's sha256 is {digest} but the attestation says {want}: the file changed"
                    ),
                    None => format!(
                        "{name}: sha256 {digest} matches no subject of the attestation ({})",
                        statement
                            .subject
                            .iter()
                            .map(|s| s.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                report.push("subject", false, detail);
            }
        }
    }
    report.statement = Some(statement);
    report
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::keys::{Algorithm, PrivateKey};
    use crate::statement::Subject;

    fn envelope(key: &PrivateKey) -> Vec<u8> {
        let s = Statement::new(
            vec![Subject::sha256(
                "dist/app",
                crate::digest::sha256_hex(b"app"),
            )],
            predicate::CYCLONEDX,
            serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.6"}),
        );
        Envelope::sign(IN_TOTO_PAYLOAD_TYPE, s.to_payload(), &[key])
            .unwrap()
            .to_json()
            .into_bytes()
    }

    #[test]
    fn every_check_passes_and_each_can_fail() {
        let key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        let bytes = envelope(&key);
        let mut policy = Policy {
            keys: vec![key.public_key().clone()],
            threshold: 1,
            predicate_type: Some("cyclonedx".into()),
            files: vec![("dist/app".into(), crate::digest::sha256_hex(b"app"))],
        };
        let r = verify(&bytes, &policy);
        assert!(r.passed(), "{:?}", r.checks);

        let failed = |r: &Report| {
            r.checks
                .iter()
                .filter(|c| !c.passed)
                .map(|c| c.check)
                .collect::<Vec<_>>()
        };

        policy.files = vec![("dist/app".into(), crate::digest::sha256_hex(b"changed"))];
        let r = verify(&bytes, &policy);
        assert_eq!(failed(&r), ["subject"]);
        assert!(
            r.checks
                .iter()
                .any(|c| c.detail.contains("the file changed"))
        );
        policy.files.clear();

        policy.predicate_type = Some("slsa-provenance".into());
        assert_eq!(failed(&verify(&bytes, &policy)), ["predicate-type"]);
        policy.predicate_type = None;

        policy.threshold = 2;
        assert_eq!(failed(&verify(&bytes, &policy)), ["signatures"]);
        policy.threshold = 1;

        let other = PrivateKey::generate(Algorithm::EcdsaP256).unwrap();
        policy.keys = vec![other.public_key().clone()];
        let r = verify(&bytes, &policy);
        assert_eq!(failed(&r), ["signatures"]);
        assert!(
            r.checks[1].detail.contains("by no trusted key"),
            "{}",
            r.checks[1].detail
        );

        assert_eq!(failed(&verify(b"{", &policy)), ["envelope"]);
    }
}
