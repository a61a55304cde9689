//! SLSA Verification Summary Attestation (VSA) v1: a verifier's signed
//! record that it checked an artifact's attestations against a policy, and
//! with what result.

use serde::Serialize;
use serde_json::Value;

use crate::error::PredicateError;
use crate::time::rfc3339;

/// The predicate type of a VSA.
pub const VSA_V1: &str = "https://slsa.dev/verification_summary/v1";
/// gantry's verifier id.
pub const GANTRY_VERIFIER_ID: &str = "https://gantry.dev/verifiers/gantry-verify/v1";

/// What a verification found, for its summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub verifier_id: String,
    pub verifier_version: Option<String>,
    /// Seconds since the epoch.
    pub time_verified: i64,
    /// The artifact that was verified (a name or URI).
    pub resource_uri: String,
    /// The policy that was applied: a URI and, when it is a file, its SHA-256.
    pub policy_uri: String,
    pub policy_sha256: Option<String>,
    /// The attestations that were checked: URI (or file name) and SHA-256.
    pub input_attestations: Vec<(String, String)>,
    pub passed: bool,
    /// `SLSA_BUILD_LEVEL_n` and the like, only levels actually verified.
    pub verified_levels: Vec<String>,
}

/// The VSA v1 predicate, typed: fields in the order the specification
/// lists them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VsaPredicate<'a> {
    pub verifier: Verifier<'a>,
    pub time_verified: String,
    pub resource_uri: &'a str,
    pub policy: Policy<'a>,
    pub input_attestations: Vec<InputAttestation<'a>>,
    pub verification_result: &'static str,
    pub verified_levels: &'a [String],
    pub slsa_version: &'static str,
}

/// Who verified, and which version of it.
#[derive(Debug, Clone, Serialize)]
pub struct Verifier<'a> {
    pub id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<VerifierVersion<'a>>,
}

/// `{"gantry": "<version>"}`.
#[derive(Debug, Clone, Serialize)]
pub struct VerifierVersion<'a> {
    pub gantry: &'a str,
}

/// The policy applied.
#[derive(Debug, Clone, Serialize)]
pub struct Policy<'a> {
    pub uri: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<Sha256Digest<'a>>,
}

/// `{"sha256": "<hex>"}`.
#[derive(Debug, Clone, Serialize)]
pub struct Sha256Digest<'a> {
    pub sha256: &'a str,
}

/// One attestation that was checked.
#[derive(Debug, Clone, Serialize)]
pub struct InputAttestation<'a> {
    pub uri: &'a str,
    pub digest: Sha256Digest<'a>,
}

impl<'a> VsaPredicate<'a> {
    pub fn new(s: &'a Summary) -> Self {
        Self {
            verifier: Verifier {
                id: &s.verifier_id,
                version: s
                    .verifier_version
                    .as_deref()
                    .map(|gantry| VerifierVersion { gantry }),
            },
            time_verified: rfc3339(s.time_verified),
            resource_uri: &s.resource_uri,
            policy: Policy {
                uri: &s.policy_uri,
                digest: s
                    .policy_sha256
                    .as_deref()
                    .map(|sha256| Sha256Digest { sha256 }),
            },
            input_attestations: s
                .input_attestations
                .iter()
                .map(|(uri, sha256)| InputAttestation {
                    uri,
                    digest: Sha256Digest { sha256 },
                })
                .collect(),
            verification_result: if s.passed { "PASSED" } else { "FAILED" },
            verified_levels: &s.verified_levels,
            slsa_version: "1.0",
        }
    }
}

/// The VSA predicate as the JSON a statement carries.
pub fn vsa_predicate(s: &Summary) -> Value {
    // Strings and arrays of strings only: serialising cannot fail.
    serde_json::to_value(VsaPredicate::new(s)).unwrap_or(Value::Null)
}

/// Checks the fields a VSA v1 requires.
pub fn check_predicate(p: &Value) -> Result<(), PredicateError> {
    use PredicateError::{Invalid, Missing};
    if !p
        .get("verifier")
        .and_then(|v| v.get("id"))
        .is_some_and(Value::is_string)
    {
        return Err(Missing {
            field: "verifier.id",
            kind: "string",
        });
    }
    match p.get("timeVerified").and_then(Value::as_str) {
        None => {
            return Err(Missing {
                field: "timeVerified",
                kind: "string",
            });
        }
        Some(t) if crate::time::parse_rfc3339(t).is_none() => {
            return Err(Invalid {
                field: "timeVerified",
                want: "an RFC 3339 time",
            });
        }
        Some(_) => {}
    }
    if !p.get("resourceUri").is_some_and(Value::is_string) {
        return Err(Missing {
            field: "resourceUri",
            kind: "string",
        });
    }
    match p.get("verificationResult").and_then(Value::as_str) {
        Some("PASSED" | "FAILED") => {}
        _ => {
            return Err(Invalid {
                field: "verificationResult",
                want: "PASSED or FAILED",
            });
        }
    }
    if !p.get("verifiedLevels").is_some_and(Value::is_array) {
        return Err(Missing {
            field: "verifiedLevels",
            kind: "array",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn summary_has_the_required_fields() {
        let s = Summary {
            verifier_id: GANTRY_VERIFIER_ID.into(),
            verifier_version: Some("0.1.0".into()),
            time_verified: 0,
            resource_uri: "dist/app".into(),
            policy_uri: "gantry-verify:keys=1".into(),
            policy_sha256: None,
            input_attestations: vec![("app.intoto.json".into(), "0".repeat(64))],
            passed: true,
            verified_levels: vec!["SLSA_BUILD_LEVEL_1".into()],
        };
        let p = vsa_predicate(&s);
        check_predicate(&p).unwrap();
        let mut bad = p.clone();
        bad["timeVerified"] = json!("soon");
        assert_eq!(
            check_predicate(&bad).unwrap_err().to_string(),
            "`timeVerified` must be an RFC 3339 time"
        );
        assert_eq!(p["verificationResult"], "PASSED");
        assert_eq!(p["timeVerified"], "1970-01-01T00:00:00Z");
    }

    #[test]
    fn the_typed_predicate_keeps_the_vsa_layout() {
        let s = Summary {
            verifier_id: GANTRY_VERIFIER_ID.into(),
            verifier_version: Some("0.1.0".into()),
            time_verified: 0,
            resource_uri: "dist/app".into(),
            policy_uri: "file:policy.yml".into(),
            policy_sha256: Some("ab".into()),
            input_attestations: vec![("a.json".into(), "cd".into())],
            passed: false,
            verified_levels: vec![],
        };
        let text = serde_json::to_string(&vsa_predicate(&s)).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"{"verifier":{"id":"https://gantry.dev/verifiers/gantry-verify/v1","version":{"gantry":"0.1.0"}},"#,
                r#""timeVerified":"1970-01-01T00:00:00Z","resourceUri":"dist/app","#,
                r#""policy":{"uri":"file:policy.yml","digest":{"sha256":"ab"}},"#,
                r#""inputAttestations":[{"uri":"a.json","digest":{"sha256":"cd"}}],"#,
                r#""verificationResult":"FAILED","verifiedLevels":[],"slsaVersion":"1.0"}"#
            )
        );
        let bare = Summary {
            verifier_version: None,
            policy_sha256: None,
            ..s
        };
        let p = vsa_predicate(&bare);
        assert!(p["verifier"].get("version").is_none(), "{p}");
        assert!(p["policy"].get("digest").is_none(), "{p}");
    }
}
