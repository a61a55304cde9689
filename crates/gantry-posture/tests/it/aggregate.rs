//! The aggregate: Scorecard's risk weights, inconclusive checks left out.
#![allow(clippy::unwrap_used)]

use gantry_posture::checks::CHECKS;
use gantry_posture::{CheckResult, aggregate};

use crate::common::Repo;

fn result(name: &str, score: Option<u8>) -> CheckResult {
    let meta = gantry_posture::checks::check(name).unwrap().meta();
    match score {
        Some(s) => CheckResult::scored(meta, s, ""),
        None => CheckResult::inconclusive(meta, ""),
    }
}

#[test]
fn weights_by_risk_and_leaves_inconclusive_out() {
    // critical 10 x 10, high 7.5 x 0, low 2.5 x 10; a medium inconclusive.
    let checks = [
        result("Dangerous-Workflow", Some(10)),
        result("Maintained", Some(0)),
        result("License", Some(10)),
        result("Packaging", None),
    ];
    let got = aggregate(&checks).unwrap();
    assert!((got - 125.0 / 20.0).abs() < 1e-9, "{got}");
    // The inconclusive one really is left out: scoring it 0 changes the mean.
    let mut with_zero = checks.clone();
    with_zero[3] = result("Packaging", Some(0));
    assert!(aggregate(&with_zero).unwrap() < got);
    assert_eq!(aggregate(&[result("Packaging", None)]), None);
}

#[test]
fn every_check_runs_and_the_document_is_typed() {
    let repo = Repo::new();
    repo.write("SECURITY.md", "Report to security@example.com\n");
    let posture = repo.assess();
    assert_eq!(posture.checks.len(), CHECKS.len());
    let doc = serde_json::to_value(posture.document()).unwrap();
    assert_eq!(doc["version"], 1);
    let checks = doc["checks"].as_array().unwrap();
    assert!(
        checks
            .iter()
            .all(|c| c["name"].is_string() && c["risk"].is_string() && c["reasons"].is_array())
    );
    // Not a git repository: history checks are null.
    let review = checks.iter().find(|c| c["name"] == "Code-Review").unwrap();
    assert!(review["score"].is_null());
    let expected = aggregate(&posture.checks).unwrap();
    assert!((doc["score"].as_f64().unwrap() - (expected * 10.0).round() / 10.0).abs() < 1e-9);
}
