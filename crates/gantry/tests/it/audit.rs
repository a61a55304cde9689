//! `gantry audit` as users run it: formats, exit codes, fixes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audit")
}

fn gantry(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A copy of the fixture repository in a temporary folder.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let workflows = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    std::fs::copy(
        fixture().join(".github/workflows/ci.yml"),
        workflows.join("ci.yml"),
    )
    .unwrap();
    dir
}

#[test]
fn human_output_points_at_each_gap() {
    let out = gantry(&fixture(), &["audit"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn every_output_format_is_stable() {
    for format in ["json", "sarif", "github"] {
        let out = gantry(&fixture(), &["audit", "--format", format]);
        assert_eq!(out.status.code(), Some(1));
        insta::assert_snapshot!(format!("format_{format}"), stdout(&out));
    }
}

#[test]
fn json_lists_findings_with_locations() {
    let out = gantry(&fixture(), &["audit", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<(String, u64)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    for expected in [
        ("dangerous-triggers", 4),
        ("missing-permissions", 9),
        ("missing-timeout", 9),
        ("credential-persistence", 12),
        ("unpinned-uses", 12),
        ("template-injection", 15),
        ("deploy-without-concurrency", 18),
    ] {
        assert!(
            found
                .iter()
                .any(|(r, l)| r == expected.0 && *l == expected.1),
            "{expected:?} in {found:?}"
        );
    }
    // The suppressed download is not reported.
    assert!(
        !found.iter().any(|(r, _)| r == "download-and-execute"),
        "{found:?}"
    );
}

#[test]
fn sarif_is_valid_by_the_official_schema() {
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/schemas/sarif-schema-2.1.0.json");
    let Ok(schema_text) = std::fs::read_to_string(&schema_path) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "missing {}",
            schema_path.display()
        );
        eprintln!("skipping: {} not found", schema_path.display());
        return;
    };
    let mut schema: serde_json::Value = serde_json::from_str(&schema_text).unwrap();
    // The published schema's `language` patterns have a stray `]` that the
    // validator's meta-schema check rejects as a regex; drop those patterns
    // (gantry never writes `language`).
    fn drop_language_patterns(value: &mut serde_json::Value) {
        match value {
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
    let validator = jsonschema::validator_for(&schema).unwrap();
    let out = gantry(&fixture(), &["audit", "--format", "sarif"]);
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(!log["runs"][0]["results"].as_array().unwrap().is_empty());
}

#[test]
fn github_annotations_are_workflow_commands() {
    let out = gantry(&fixture(), &["audit", "--format", "github"]);
    let text = stdout(&out);
    assert!(text.lines().all(|l| l.starts_with("::")), "{text}");
    assert!(
        text.contains("::error file=.github/workflows/ci.yml,line=15,col=25,"),
        "{text}"
    );
}

#[test]
fn fix_applies_safe_edits_once_and_keeps_the_workflow_valid() {
    let dir = scratch();
    let path = dir.path().join(".github/workflows/ci.yml");
    let before = std::fs::read_to_string(&path).unwrap();

    let dry = gantry(dir.path(), &["audit", "--fix", "--dry-run"]);
    assert!(
        stdout(&dry).contains("+          persist-credentials: false"),
        "{}",
        stdout(&dry)
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        before,
        "--dry-run must not write"
    );

    gantry(dir.path(), &["audit", "--fix"]);
    let fixed = std::fs::read_to_string(&path).unwrap();
    insta::assert_snapshot!(fixed);
    // Comments survive.
    assert!(fixed.contains("# A workflow with the usual hardening gaps."));
    assert!(fixed.contains("# gantry: ignore[download-and-execute] vetted installer"));

    // A second fix changes nothing, and the file still validates.
    gantry(dir.path(), &["audit", "--fix"]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), fixed);
    assert_eq!(gantry(dir.path(), &["validate"]).status.code(), Some(0));

    // What remains needs a human.
    let found = finding_rules(dir.path());
    let rules: Vec<&str> = found.iter().map(String::as_str).collect();
    assert!(
        !rules.contains(&"missing-timeout")
            && !rules.contains(&"credential-persistence")
            && !rules.contains(&"template-injection"),
        "{rules:?}"
    );
    assert!(
        rules.contains(&"unpinned-uses") && rules.contains(&"dangerous-triggers"),
        "{rules:?}"
    );
}

/// The rule ids of what `gantry audit --format json` finds in `dir`.
fn finding_rules(dir: &Path) -> Vec<String> {
    let json: serde_json::Value =
        serde_json::from_slice(&gantry(dir, &["audit", "--format", "json"]).stdout).unwrap();
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn configuration_disables_rules_and_unknown_rules_are_errors() {
    let dir = scratch();
    std::fs::create_dir_all(dir.path().join(".gantry")).unwrap();
    std::fs::write(dir.path().join(".gantry/audit.yml"), "rules:\n  missing-timeout:\n    disable: true\n  unpinned-uses:\n    policies:\n      \"actions/*\": ref-pin\n").unwrap();
    let found = finding_rules(dir.path());
    let rules: Vec<&str> = found.iter().map(String::as_str).collect();
    assert!(
        !rules.contains(&"missing-timeout") && !rules.contains(&"unpinned-uses"),
        "{rules:?}"
    );

    std::fs::write(
        dir.path().join(".gantry/audit.yml"),
        "rules:\n  missing-timeouts:\n    disable: true\n",
    )
    .unwrap();
    let out = gantry(dir.path(), &["audit"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `missing-timeout`?"));
}

#[test]
fn min_severity_and_explain() {
    let out = gantry(
        &fixture(),
        &["audit", "--min-severity", "high", "--format", "json"],
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] == "high")
    );
    let explain = gantry(&fixture(), &["audit", "--explain", "template-injection"]);
    assert_eq!(explain.status.code(), Some(0));
    assert!(stdout(&explain).contains("Why it matters:"));
    assert_eq!(
        gantry(&fixture(), &["audit", "--explain", "nope"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn json_is_a_versioned_document() {
    let out = gantry(&fixture(), &["audit", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["version"], 1);
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(json["summary"]["findings"], findings.len());
    assert_eq!(json["summary"]["files"], 1);
    assert_eq!(findings[0]["path"], ".github/workflows/ci.yml");
    assert_eq!(findings[0]["location"]["start_byte"], 59);
}
