//! The writer's output is valid by the official SARIF 2.1.0 schema in
//! `../shared/testdata/schemas/` (missing: a failure under `CI=true`, a
//! skip elsewhere), with every optional part filled in.

use std::path::Path;

use gantry_report::sarif::{self, Rule, ToolInfo, UriBase};
use gantry_report::{Finding, Location, Related, Severity};

/// The schema, with the published `language` patterns dropped: they hold
/// a stray `]` that the validator rejects as a regular expression.
fn validator() -> Option<jsonschema::Validator> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/schemas/sarif-schema-2.1.0.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "{} is missing (required under CI=true)",
            path.display()
        );
        eprintln!("skipping: {} not found", path.display());
        return None;
    };
    let mut schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    fn drop_language_patterns(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                if map
                    .get("pattern")
                    .and_then(|p| p.as_str())
                    .is_some_and(|p| p.ends_with("]?$"))
                {
                    map.remove("pattern");
                }
                map.values_mut().for_each(drop_language_patterns);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(drop_language_patterns),
            _ => {}
        }
    }
    drop_language_patterns(&mut schema);
    Some(jsonschema::validator_for(&schema).unwrap())
}

#[test]
fn a_full_log_is_valid_by_the_official_schema() {
    let Some(validator) = validator() else { return };
    let mut rule = Rule::new(
        "template-injection",
        "Template injection",
        "Untrusted input in a script.",
    );
    rule.help_markdown = Some("**Fix**: use an environment variable".into());
    rule.help_uri = Some("https://example.com/rule".into());
    let mut finding = Finding::new(
        "template-injection",
        Severity::High,
        "`github.event.issue.title` reaches a shell",
        Location::region(".github/workflows/ci.yml", (6, 14), (6, 50), (80, 116)),
    );
    finding.related.push(Related {
        location: Location::line(".github/workflows/ci.yml", 2),
        message: "triggered by issues".into(),
    });
    finding.logical = Some("pkg:cargo/regex@1.5.4".into());
    finding.fingerprint = Some("0123456789abcdef".into());
    finding.properties.insert(
        "ids".into(),
        serde_json::json!(["RUSTSEC-2022-0013", "CVE-2022-24713"]),
    );
    let unknown = Finding::new(
        "not-a-listed-rule",
        Severity::Unknown,
        "m",
        Location::line("Cargo.lock", 0),
    );
    let base = UriBase {
        id: "%SRCROOT%".into(),
        description: "the scanned folder".into(),
    };
    let log = sarif::write(
        &ToolInfo::gantry("0.1.0"),
        &[rule],
        &[finding, unknown],
        Some(&base),
    );
    let doc = serde_json::to_value(&log).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let result = &doc["runs"][0]["results"][0];
    assert_eq!(result["ruleIndex"], 0);
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["byteLength"],
        36
    );
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"],
        "%SRCROOT%"
    );
    assert_eq!(doc["runs"][0]["results"][1]["level"], "note");
    assert!(doc["runs"][0]["results"][1].get("ruleIndex").is_none());
    // Line 0 (unknown) is written as 1, the schema's minimum.
    assert_eq!(
        doc["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["region"]["startLine"],
        1
    );
    // And it reads back into the same model.
    let back: sarif::Log = serde_json::from_value(doc).unwrap();
    assert_eq!(back, log);
}
