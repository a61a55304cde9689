//! Feeds arbitrary text to the Rego policy reader and evaluates it over a
//! promotion input. It may fail the gate (that is failing closed), but
//! never panic or run past its time limit.

#![no_main]

use gantry_promote::GateResult;
use gantry_promote::policy::Policies;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let policies = Policies::from_sources([("fuzz", text)]);
    let input = serde_json::json!({
        "package": {"id": "ab", "version": "1.0.0", "services": [], "created_by": "ci"},
        "service": {"name": "service-a", "version": "1.0.0", "compliance_mode": "compliant"},
        "transition": {"from": "sandbox", "to": "compliance_ready"},
        "evidence": [], "approvals": [], "dependencies": [],
        "time": "2026-12-06T22:00:00Z"
    });
    let outcome = policies.evaluate("fuzz", &input);
    assert!(matches!(outcome.result, GateResult::Pass | GateResult::Fail));
});
