//! SLSA Verification Summary Attestation (VSA) v1: a verifier's signed
//! record that it checked an artifact's attestations against a policy, and
//! with what result.

use serde_json::{Value, json};

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

/// The VSA predicate.
pub fn vsa_predicate(s: &Summary) -> Value {
    let mut verifier = json!({ "id": s.verifier_id });
    if let Some(v) = &s.verifier_version {
        verifier["version"] = json!({ "gantry": v });
    }
    let mut policy = json!({ "uri": s.policy_uri });
    if let Some(d) = &s.policy_sha256 {
        policy["digest"] = json!({ "sha256": d });
    }
    json!({
        "verifier": verifier,
        "timeVerified": rfc3339(s.time_verified),
        "resourceUri": s.resource_uri,
        "policy": policy,
        "inputAttestations": s.input_attestations.iter().map(|(uri, d)| json!({
            "uri": uri, "digest": { "sha256": d }
        })).collect::<Vec<_>>(),
        "verificationResult": if s.passed { "PASSED" } else { "FAILED" },
        "verifiedLevels": s.verified_levels,
        "slsaVersion": "1.0",
    })
}

/// Checks the fields a VSA v1 requires.
pub fn check_predicate(p: &Value) -> Result<(), String> {
    if !p
        .get("verifier")
        .and_then(|v| v.get("id"))
        .is_some_and(Value::is_string)
    {
        return Err("missing `verifier.id` string".into());
    }
    let time = p.get("timeVerified").and_then(Value::as_str);
    if time.and_then(crate::time::parse_rfc3339).is_none() {
        return Err("missing or malformed `timeVerified` (RFC 3339)".into());
    }
    if !p.get("resourceUri").is_some_and(Value::is_string) {
        return Err("missing `resourceUri` string".into());
    }
    match p.get("verificationResult").and_then(Value::as_str) {
        Some("PASSED" | "FAILED") => {}
        _ => return Err("`verificationResult` must be PASSED or FAILED".into()),
    }
    if !p.get("verifiedLevels").is_some_and(Value::is_array) {
        return Err("missing `verifiedLevels` array".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(check_predicate(&p), Ok(()));
        assert_eq!(p["verificationResult"], "PASSED");
        assert_eq!(p["timeVerified"], "1970-01-01T00:00:00Z");
    }
}
