//! One Rego evaluation of a realistic compliance policy over the
//! documented policy input (a service with twelve evidence records, four
//! dependencies and two approvals): the median and the slowest of many,
//! after the first (which also prepares the engine).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use gantry_promote::GateResult;
use gantry_promote::policy::Policies;
use serde_json::{Value, json};

const POLICY: &str = r#"
package gantry.compliance

required_kinds := {"sbom", "vulns", "provenance", "test-result"}

deny contains msg if {
    input.transition.to == "compliant"
    some kind in required_kinds
    not verified(kind)
    msg := sprintf("%s %s has no verified %s", [input.service.name, input.service.version, kind])
}

deny contains msg if {
    some e in input.evidence
    e.kind == "vulns"
    e.verified
    e.summary.by_severity.critical > 0
    msg := sprintf("record #%d lists critical vulnerabilities", [e.index])
}

deny contains msg if {
    some d in input.dependencies
    not d.optional
    d.state != "compliant"
    msg := sprintf("dependency %s is %s, not compliant", [d.name, d.state])
}

deny contains msg if {
    input.transition.to == "compliant"
    count(approvers) < 2
    msg := sprintf("%d approval(s), 2 required", [count(approvers)])
}

deny contains msg if {
    some a in input.approvals
    a.approver == input.package.created_by
    msg := sprintf("%s approved their own package", [a.approver])
}

approvers := {a.approver | some a in input.approvals}

verified(kind) if {
    some e in input.evidence
    e.kind == kind
    e.verified
}
"#;

fn input() -> Value {
    let kinds = ["sbom", "vulns", "provenance", "test-result", "audit", "vsa"];
    let evidence: Vec<Value> = (0..12)
        .map(|i| {
            json!({
                "index": i * 37,
                "kind": kinds[i % kinds.len()],
                "predicate_type": format!("https://example.com/predicate/{i}"),
                "verified": i % 5 != 4,
                "signed_by": ["0f3c9a1b2d4e5f60718293a4b5c6d7e8f9012345"],
                "time": "2026-12-06T21:00:00Z",
                "summary": {"by_severity": {"high": 1, "critical": 0}, "vulnerabilities": 1},
            })
        })
        .collect();
    json!({
        "package": {"id": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "version": "1.2.0",
                    "services": ["service-a", "service-b", "service-c"], "created_by": "dave"},
        "service": {"name": "service-a", "version": "1.2.0", "compliance_mode": "compliant",
                    "dependencies": ["service-b", "service-c", "service-d", "service-e"]},
        "transition": {"from": "compliance_ready", "to": "compliant"},
        "evidence": evidence,
        "approvals": [
            {"approver": "alice", "time": "2026-12-06T21:10:00Z", "comment": "ok"},
            {"approver": "bob", "time": "2026-12-06T21:20:00Z", "comment": "lgtm"}
        ],
        "dependencies": [
            {"name": "service-b", "optional": false, "state": "compliant"},
            {"name": "service-c", "optional": false, "state": "compliant"},
            {"name": "service-d", "optional": true, "state": "sandbox"},
            {"name": "service-e", "optional": false, "state": "compliant"}
        ],
        "time": "2026-12-06T22:00:00Z"
    })
}

fn main() {
    let policies = Policies::from_sources([("compliance", POLICY)]);
    let input = input();
    let t = Instant::now();
    let first = policies.evaluate("compliance", &input);
    let first_time = t.elapsed();
    // The input is fully compliant: the policy must pass (and so
    // evaluate every rule), or the figure measures an error path.
    assert_eq!(first.result, GateResult::Pass, "{first:?}");

    let n = 500;
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            black_box(policies.evaluate("compliance", black_box(&input)));
            t.elapsed()
        })
        .collect();
    times.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "rego evaluation (5 deny rules, 12 evidence records): median {:.3} ms, slowest {:.3} ms of {n}; first {:.3} ms (target < 5 ms)",
        ms(times[n / 2]),
        ms(times[n - 1]),
        ms(first_time)
    );
}
