//! The predicates gantry knows: one entry per type in [`PREDICATES`], each
//! with a short alias for the command line, its URI, and how a file becomes
//! that predicate (parse and check, or convert).
//!
//! Any other URI is accepted as an opaque JSON predicate.

use serde_json::Value;

use crate::AttestError;
use crate::error::PredicateError;

/// CycloneDX BOM (what `gantry sbom` writes).
pub const CYCLONEDX: &str = "https://cyclonedx.org/bom";
/// SPDX 2 document.
pub const SPDX: &str = "https://spdx.dev/Document";
/// in-toto vulnerability scan results.
pub const VULNS: &str = "https://in-toto.io/attestation/vulns/v0.1";
/// in-toto test results.
pub const TEST_RESULT: &str = "https://in-toto.io/attestation/test-result/v0.1";
/// gantry's audit report (`gantry audit --format json` or SARIF).
pub const AUDIT: &str = "https://gantry.dev/attestation/audit/v1";

/// How a predicate file is read.
type Reader = fn(&str, &[u8]) -> Result<Value, PredicateError>;

/// A predicate type gantry knows.
#[derive(Debug, Clone, Copy)]
pub struct KnownPredicate {
    pub alias: &'static str,
    pub uri: &'static str,
    pub description: &'static str,
    read: Reader,
    check: fn(&Value) -> Result<(), PredicateError>,
}

impl KnownPredicate {
    /// Checks a predicate's shape.
    pub fn check(&self, predicate: &Value) -> Result<(), PredicateError> {
        (self.check)(predicate)
    }
}

/// Every built-in predicate type.
pub const PREDICATES: &[KnownPredicate] = &[
    KnownPredicate {
        alias: "slsa-provenance",
        uri: crate::provenance::PROVENANCE_V1,
        description: "SLSA Provenance v1: how the subjects were built",
        read: read_json,
        check: crate::provenance::check_predicate,
    },
    KnownPredicate {
        alias: "cyclonedx",
        uri: CYCLONEDX,
        description: "CycloneDX SBOM (JSON)",
        read: read_json,
        check: check_cyclonedx,
    },
    KnownPredicate {
        alias: "spdx",
        uri: SPDX,
        description: "SPDX 2 SBOM (JSON)",
        read: read_json,
        check: check_spdx,
    },
    KnownPredicate {
        alias: "vulns",
        uri: VULNS,
        description: "vulnerability scan results (in-toto vulns v0.1)",
        read: read_json,
        check: check_vulns,
    },
    KnownPredicate {
        alias: "audit",
        uri: AUDIT,
        description: "gantry audit results (`--format json` or SARIF)",
        read: read_json,
        check: check_audit,
    },
    KnownPredicate {
        alias: "test-result",
        uri: TEST_RESULT,
        description: "test results (in-toto test-result v0.1, or JUnit XML converted)",
        read: read_test_result,
        check: crate::junit::check_test_result,
    },
    KnownPredicate {
        alias: "vsa",
        uri: crate::vsa::VSA_V1,
        description: "SLSA verification summary v1",
        read: read_json,
        check: crate::vsa::check_predicate,
    },
];

/// The URI a name stands for: an alias's URI, else the name itself.
pub fn resolve(name: &str) -> &str {
    PREDICATES
        .iter()
        .find(|p| p.alias == name)
        .map_or(name, |p| p.uri)
}

/// The built-in predicate with this URI or alias.
pub fn known(name: &str) -> Option<&'static KnownPredicate> {
    let uri = resolve(name);
    PREDICATES.iter().find(|p| p.uri == uri)
}

/// Reads a predicate file for `predicate_type` (a URI or an alias):
/// known types are checked (and JUnit XML converted); others must be JSON.
pub fn read_predicate(
    predicate_type: &str,
    file_name: &str,
    bytes: &[u8],
) -> Result<Value, AttestError> {
    let uri = resolve(predicate_type);
    match known(uri) {
        Some(p) => {
            let value = (p.read)(file_name, bytes).map_err(|m| AttestError::predicate(uri, m))?;
            p.check(&value)
                .map_err(|m| AttestError::predicate(uri, m))?;
            Ok(value)
        }
        None => {
            if !uri.contains(':') {
                return Err(AttestError::predicate(
                    uri,
                    PredicateError::UnknownType {
                        aliases: PREDICATES.iter().map(|p| p.alias).collect(),
                    },
                ));
            }
            read_json(file_name, bytes).map_err(|m| AttestError::predicate(uri, m))
        }
    }
}

fn read_json(file_name: &str, bytes: &[u8]) -> Result<Value, PredicateError> {
    serde_json::from_slice(bytes).map_err(|source| PredicateError::NotJson {
        file: file_name.to_string(),
        source,
    })
}

fn read_test_result(file_name: &str, bytes: &[u8]) -> Result<Value, PredicateError> {
    let text = std::str::from_utf8(bytes).map_err(|_| PredicateError::NotUtf8 {
        file: file_name.to_string(),
    })?;
    if text.trim_start().starts_with('<') {
        Ok(crate::junit::test_result_from_junit(text, file_name)?)
    } else {
        read_json(file_name, bytes)
    }
}

fn check_cyclonedx(p: &Value) -> Result<(), PredicateError> {
    if p.get("bomFormat").and_then(Value::as_str) != Some("CycloneDX") {
        return Err(PredicateError::Invalid {
            field: "bomFormat",
            want: "\"CycloneDX\"",
        });
    }
    if !p.get("specVersion").is_some_and(Value::is_string) {
        return Err(PredicateError::Missing {
            field: "specVersion",
            kind: "string",
        });
    }
    Ok(())
}

fn check_spdx(p: &Value) -> Result<(), PredicateError> {
    match p.get("spdxVersion").and_then(Value::as_str) {
        Some(v) if v.starts_with("SPDX-") => Ok(()),
        _ => Err(PredicateError::Invalid {
            field: "spdxVersion",
            want: "`SPDX-x.y`",
        }),
    }
}

fn check_vulns(p: &Value) -> Result<(), PredicateError> {
    let scanner = p
        .get("scanner")
        .filter(|s| s.is_object())
        .ok_or(PredicateError::Missing {
            field: "scanner",
            kind: "object",
        })?;
    if !scanner.get("uri").is_some_and(Value::is_string) {
        return Err(PredicateError::Missing {
            field: "scanner.uri",
            kind: "string",
        });
    }
    if let Some(r) = scanner.get("result")
        && !r.is_array()
    {
        return Err(PredicateError::Invalid {
            field: "scanner.result",
            want: "an array",
        });
    }
    Ok(())
}

fn check_audit(p: &Value) -> Result<(), PredicateError> {
    if p.get("findings").is_some_and(Value::is_array)
        && p.get("summary").is_some_and(Value::is_object)
    {
        return Ok(());
    }
    if p.get("version").and_then(Value::as_str) == Some("2.1.0")
        && p.get("runs").is_some_and(Value::is_array)
    {
        return Ok(());
    }
    Err(PredicateError::NotAudit)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn aliases_resolve_and_checks_apply() {
        assert_eq!(resolve("cyclonedx"), CYCLONEDX);
        assert_eq!(resolve("https://example.com/x"), "https://example.com/x");
        let bom = br#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}"#;
        assert!(read_predicate("cyclonedx", "bom.json", bom).is_ok());
        let err = read_predicate("cyclonedx", "bom.json", b"{}").unwrap_err();
        assert!(err.to_string().contains("bomFormat"), "{err}");
        assert!(read_predicate("https://example.com/p", "p.json", b"[1]").is_ok());
        assert!(read_predicate("nonsense", "p.json", b"{}").is_err());
        let junit = br#"<testsuite><testcase name="t"/></testsuite>"#;
        let tr = read_predicate("test-result", "junit.xml", junit).unwrap();
        assert_eq!(tr["result"], "PASSED");
        assert!(read_predicate("audit", "a.json", br#"{"findings":[],"summary":{}}"#).is_ok());
        assert!(
            read_predicate("vulns", "v.json", br#"{"scanner":{"uri":"x","result":[]}}"#).is_ok()
        );
    }
}
