//! `gantry posture` as users run it: formats and exit codes.

use std::path::Path;
use std::process::{Command, Output};

fn gantry(dir: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("GANTRY_HOME", home)
        .output()
        .unwrap()
}

#[test]
fn posture_scores_a_checkout_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let workflows = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    std::fs::write(
        workflows.join("ci.yml"),
        "on: push\npermissions: write-all\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("SECURITY.md"),
        "Report to security@example.com\n",
    )
    .unwrap();

    let human = gantry(dir.path(), home.path(), &["posture"]);
    assert_eq!(human.status.code(), Some(0), "{human:?}");
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains(" 0/10  Token-Permissions"), "{text}");
    assert!(
        text.contains(".github/workflows/ci.yml:2: top-level `permissions: write-all`"),
        "{text}"
    );
    assert!(text.contains("Aggregate score: "), "{text}");

    let json = gantry(
        dir.path(),
        home.path(),
        &["posture", ".", "--format", "json"],
    );
    assert_eq!(json.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    assert!(doc["score"].is_number());
    let checks = doc["checks"].as_array().unwrap();
    let token = checks
        .iter()
        .find(|c| c["name"] == "Token-Permissions")
        .unwrap();
    assert_eq!(token["score"], 0);
    assert_eq!(token["risk"], "high");
    let review = checks.iter().find(|c| c["name"] == "Code-Review").unwrap();
    assert!(
        review["score"].is_null(),
        "not a git repository: inconclusive"
    );
    let policy = checks
        .iter()
        .find(|c| c["name"] == "Security-Policy")
        .unwrap();
    assert_eq!(policy["score"], 9);

    let sarif = gantry(dir.path(), home.path(), &["posture", "--format", "sarif"]);
    assert_eq!(sarif.status.code(), Some(0));
    let log: serde_json::Value = serde_json::from_slice(&sarif.stdout).unwrap();
    assert_eq!(log["version"], "2.1.0");
    assert!(
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["ruleId"] == "Token-Permissions")
    );
}

#[test]
fn posture_refuses_what_is_not_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let missing = gantry(dir.path(), home.path(), &["posture", "gone"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("gone"));
    std::fs::write(dir.path().join("file"), "x").unwrap();
    let file = gantry(dir.path(), home.path(), &["posture", "file"]);
    assert_eq!(file.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&file.stderr).contains("is not a directory"));
}
