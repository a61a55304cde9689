//! Verifying an attestation against a policy: trusted keys and a threshold,
//! the payload type, the predicate type, and files on disk that must match
//! the subjects. Every check is reported, passed or failed, with the reason.

use serde::Serialize;

use crate::digest::FileDigests;
use crate::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, accepted_keys};
use crate::keys::PublicKey;
use crate::predicate;
use crate::statement::{Statement, Subject};

/// What an attestation must satisfy.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Trusted public keys.
    pub keys: Vec<PublicKey>,
    /// How many distinct trusted keys must have signed (at least 1).
    pub threshold: usize,
    /// The predicate type required (a URI or an alias), if any.
    pub predicate_type: Option<String>,
    /// Files that must be subjects: name as shown, and their digests.
    pub files: Vec<(String, FileDigests)>,
}

impl Policy {
    /// The files under `paths` (a folder is every file in it), digested in
    /// every algorithm gantry can check.
    pub fn files_from_paths(
        base: &std::path::Path,
        paths: &[std::path::PathBuf],
    ) -> Result<Vec<(String, FileDigests)>, crate::AttestError> {
        crate::statement::files_from_paths(base, paths)?
            .into_iter()
            .map(|(name, path)| Ok((name, crate::digest::file_digests(&path)?)))
            .collect()
    }
}

/// The version of the JSON document [`Report::document`] gives.
pub const REPORT_VERSION: u32 = 1;

/// `gantry verify --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyDocument<'a> {
    pub version: u32,
    /// The attestation, as shown.
    pub attestation: &'a str,
    pub verified: bool,
    pub checks: &'a [Check],
    pub accepted_keys: &'a [String],
    pub predicate_type: Option<&'a str>,
    pub subjects: Option<&'a [Subject]>,
}

impl Report {
    /// The report as a versioned JSON document about `attestation`.
    pub fn document<'a>(&'a self, attestation: &'a str) -> VerifyDocument<'a> {
        VerifyDocument {
            version: REPORT_VERSION,
            attestation,
            verified: self.passed(),
            checks: &self.checks,
            accepted_keys: &self.accepted_keys,
            predicate_type: self.statement.as_ref().map(|s| s.predicate_type.as_str()),
            subjects: self.statement.as_ref().map(|s| s.subject.as_slice()),
        }
    }

    /// A SLSA verification summary of this report as a statement to sign:
    /// about the attestation's subjects when it passed, else about the
    /// files checked. `attestation` is the input's name and bytes.
    pub fn summary_statement(
        &self,
        policy: &Policy,
        attestation: (&str, &[u8]),
        verifier_version: &str,
        time_verified: i64,
    ) -> Result<Statement, crate::AttestError> {
        use crate::vsa::{GANTRY_VERIFIER_ID, Summary, VSA_V1, vsa_predicate};
        let passed = self.passed();
        let subjects: Vec<Subject> = match &self.statement {
            Some(s) if passed => s.subject.clone(),
            _ => policy
                .files
                .iter()
                .map(|(name, d)| Subject::sha256(name.clone(), d.sha256.clone()))
                .collect(),
        };
        if subjects.is_empty() {
            return Err(crate::AttestError::Statement(
                "a verification summary needs subjects: give the files checked".into(),
            ));
        }
        let summary = Summary {
            verifier_id: GANTRY_VERIFIER_ID.to_string(),
            verifier_version: Some(verifier_version.to_string()),
            time_verified,
            resource_uri: subjects
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            policy_uri: format!(
                "gantry:verify?threshold={}&predicateType={}",
                policy.threshold,
                policy.predicate_type.as_deref().unwrap_or("any")
            ),
            policy_sha256: None,
            input_attestations: vec![(
                attestation.0.to_string(),
                crate::digest::sha256_hex(attestation.1),
            )],
            passed,
            verified_levels: match &self.statement {
                Some(s) if passed && s.predicate_type == crate::provenance::PROVENANCE_V1 => {
                    vec!["SLSA_BUILD_LEVEL_1".to_string()]
                }
                _ => Vec::new(),
            },
        };
        Ok(Statement::new(subjects, VSA_V1, vsa_predicate(&summary)))
    }
}

/// Whether every digest `subject` lists is one gantry can check and equals
/// the file's; the failure says which did not.
fn check_all_digests(subject: &Subject, file: &FileDigests) -> Result<Vec<String>, String> {
    let mut checked = Vec::new();
    for (algorithm, want) in &subject.digest {
        match file.get(algorithm) {
            None => {
                return Err(format!(
                    "subject `{}` lists a `{algorithm}` digest, which gantry cannot check (it checks {})",
                    subject.name,
                    crate::digest::CHECKABLE.join(", ")
                ));
            }
            Some(got) if got != want => {
                return Err(format!(
                    "the file's {algorithm} is {got} but the attestation says {want}: the file changed"
                ));
            }
            Some(got) => checked.push(format!("{algorithm} {}", short(got))),
        }
    }
    Ok(checked)
}

/// Whether some digest `subject` lists matches the file's.
fn any_digest_matches(subject: &Subject, file: &FileDigests) -> bool {
    subject
        .digest
        .iter()
        .any(|(algorithm, want)| file.get(algorithm) == Some(want.as_str()))
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

    for (name, file) in &policy.files {
        // The subject this file is: one whose digest matches, preferring
        // the one of the same name; else the one of the same name.
        let matching = statement
            .subject
            .iter()
            .filter(|s| any_digest_matches(s, file))
            .max_by_key(|s| s.name == *name)
            .or_else(|| statement.subject.iter().find(|s| s.name == *name));
        let Some(subject) = matching else {
            report.push(
                "subject",
                false,
                format!(
                    "{name}: sha256 {} matches no subject of the attestation ({})",
                    file.sha256,
                    statement
                        .subject
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            continue;
        };
        match check_all_digests(subject, file) {
            Ok(checked) => {
                let verb = if checked.len() == 1 {
                    "matches"
                } else {
                    "match"
                };
                let algorithms = checked.join(", ");
                let detail = if subject.name == *name || subject.name.is_empty() {
                    format!("{name}: {algorithms} {verb}")
                } else {
                    format!("{name}: {algorithms} {verb} subject `{}`", subject.name)
                };
                report.push("subject", true, detail);
            }
            Err(why) => report.push("subject", false, format!("{name}: {why}")),
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
            files: vec![("dist/app".into(), FileDigests::of(b"app"))],
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

        policy.files = vec![("dist/app".into(), FileDigests::of(b"changed"))];
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
