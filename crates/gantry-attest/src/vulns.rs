//! The in-toto vulns v0.1 predicate from `gantry scan --format json`, so
//! that a scan's results can be attested as they are written: each finding
//! becomes one `scanner.result` entry with its id, its severity (gantry's
//! level and the CVSS vector and score it came from) and, as annotations,
//! the package, the aliases and the fixed version.

use serde_json::{Value, json};

/// The scanner URI recorded for gantry's own scan results.
pub const GANTRY_SCANNER: &str = "https://gantry.dev/scanner/v1";

/// Whether `value` is `gantry scan --format json` output.
pub fn is_gantry_scan(value: &Value) -> bool {
    value.get("findings").is_some_and(Value::is_array)
        && value.get("summary").is_some_and(Value::is_object)
        && value.get("gate").is_some_and(Value::is_object)
}

/// The vulns predicate of a `gantry scan --format json` document.
pub fn from_gantry_scan(scan: &Value) -> Value {
    let findings = scan
        .get("findings")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let result: Vec<Value> = findings
        .iter()
        .map(|f| {
            let ids: Vec<&str> = f
                .get("ids")
                .and_then(Value::as_array)
                .map(|ids| ids.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let severity = f.get("severity");
            let mut severities = Vec::new();
            if let Some(level) = severity
                .and_then(|s| s.get("level"))
                .and_then(Value::as_str)
            {
                severities.push(json!({ "method": "gantry", "score": level }));
            }
            if let Some(vector) = severity
                .and_then(|s| s.get("vector"))
                .and_then(Value::as_str)
            {
                severities.push(json!({ "method": "CVSS", "score": vector }));
            }
            json!({
                "id": ids.first().copied().unwrap_or("unidentified"),
                "severity": severities,
                "annotations": [{
                    "package": f.get("purl").cloned().unwrap_or(Value::Null),
                    "aliases": ids,
                    "fixed": f.get("fixed").cloned().unwrap_or(Value::Null),
                    "location": f.get("location").cloned().unwrap_or(Value::Null),
                }],
            })
        })
        .collect();
    let database = scan.get("database");
    json!({
        "scanner": {
            "uri": GANTRY_SCANNER,
            "version": env!("CARGO_PKG_VERSION"),
            "db": {
                "uri": "https://osv.dev",
                "lastUpdate": database
                    .and_then(|d| d.get("newest_modified"))
                    .cloned()
                    .unwrap_or(Value::Null),
            },
            "result": result,
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn each_finding_becomes_a_result_with_its_severity() {
        let scan = json!({
            "version": 1,
            "findings": [{
                "purl": "pkg:pypi/pyjwt@2.3.0",
                "ids": ["GHSA-ffqj-6fqr-9h24", "CVE-2022-29217"],
                "severity": {"level": "high", "score": 7.4,
                             "vector": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N"},
                "fixed": "2.4.0"
            }],
            "summary": {}, "gate": {},
            "database": {"newest_modified": "2024-09-25T00:00:00Z"}
        });
        assert!(is_gantry_scan(&scan));
        let p = from_gantry_scan(&scan);
        let r = &p["scanner"]["result"][0];
        assert_eq!(r["id"], "GHSA-ffqj-6fqr-9h24");
        assert_eq!(r["severity"][0]["score"], "high");
        assert_eq!(r["annotations"][0]["aliases"][1], "CVE-2022-29217");
        assert_eq!(p["scanner"]["db"]["lastUpdate"], "2024-09-25T00:00:00Z");
        assert!(!is_gantry_scan(&p));
    }
}
