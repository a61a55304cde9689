//! Promotion figures, each printed beside its target:
//!
//! - one promotion decision for a package of 100 services with
//!   dependencies over a ledger of 10,000 entries of real signed evidence:
//!   reading the snapshot, `read_ledger` (history and evidence index in
//!   one pass) and
//!   `decide` together, the median of several runs (target under 50 ms);
//!   the same with a Rego policy gate on every service, for comparison;
//! - `Ledger::verify` of a ledger of 10,000 evidence-chain records, every
//!   one linked to its service's previous record (target under 1 s).
//!
//! `GANTRY_BENCH_ENTRIES=1000 cargo bench -p gantry-promote --bench promote`
//! for a quick run (default 10,000 entries in each ledger).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use gantry_attest::keys::PrivateKey;
use gantry_attest::predicate::{AUDIT, CYCLONEDX, TEST_RESULT, VULNS};
use gantry_attest::statement::{Statement, Subject};
use gantry_ledger::Ledger;
use gantry_ledger::chain::{ChainEvidence, ChainRecord, ChainType, entry_hash};
use gantry_ledger::record::{EvidenceRecord, RecordSubject, kind_for_predicate};
use gantry_promote::package::{Package, PackageRequest, PackageStore};
use gantry_promote::promote::{Decision, Workspace, decide, read_ledger};
use serde_json::{Value, json};

const TIME: &str = "2026-12-06T21:00:00Z";

fn entries_wanted() -> usize {
    std::env::var("GANTRY_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

fn name(i: usize) -> String {
    format!("svc-{i:03}")
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// `services` services, each depending on up to three earlier ones
/// (runtime, data, and an optional security one).
fn catalog(root: &Path, services: usize) {
    for i in 0..services {
        let mut deps = String::new();
        if i > 0 {
            deps.push_str(&format!("      runtime: [{}]\n", name(i - 1)));
        }
        if i > 1 {
            deps.push_str(&format!("      data: [{}]\n", name(i / 2)));
        }
        if i > 2 {
            deps.push_str(&format!(
                "      security:\n        - {{ name: {}, optional: true }}\n",
                name(i / 3)
            ));
        }
        let deps = if deps.is_empty() {
            String::new()
        } else {
            format!("    dependencies:\n{deps}")
        };
        write(
            &root.join(format!(".gantry/services/{}.yml", name(i))),
            &format!(
                "service:\n  name: {}\n  spec:\n    api_version: v1\n    compliance_mode: compliant\n{deps}",
                name(i)
            ),
        );
    }
}

/// The example's compliance_ready gates; with `policy`, a Rego policy gate
/// too.
fn promotion_config(root: &Path, ci: &PrivateKey, policy: bool) {
    write(&root.join(".gantry/keys/ci.pub"), &ci.public_key().to_pem());
    let mut requirements =
        "[all_tests_passing, sast_clean, no_critical_vulns, dependencies_compliant, evidence_collected"
            .to_string();
    let mut gates = String::new();
    if policy {
        requirements.push_str(", org_policy");
        gates.push_str("  org_policy: { type: policy, policy: compliance }\n");
        write(
            &root.join(".gantry/policies/compliance.rego"),
            "package compliance\n\n\
             deny contains msg if {\n  \
               input.transition.to == \"compliance_ready\"\n  \
               not has_sbom\n  \
               msg := sprintf(\"%s %s has no signed SBOM\", [input.service.name, input.service.version])\n\
             }\n\n\
             has_sbom if {\n  \
               some e in input.evidence\n  \
               e.kind == \"sbom\"\n  \
               e.verified\n\
             }\n",
        );
    }
    requirements.push(']');
    write(
        &root.join(".gantry/promotion.yml"),
        &format!(
            "states:\n  sandbox:\n    allowed_transitions: [compliance_ready]\n    requirements: []\n  \
             compliance_ready:\n    allowed_transitions: [compliant]\n    requirements: {requirements}\n  \
             compliant:\n    allowed_transitions: [sandbox]\n    requirements: [approved_promotion]\n\
             gates:\n  sast_clean: {{ type: blocking, severity: medium }}\n  \
             evidence_collected: {{ type: blocking, kinds: [sbom, vulns, audit, test-result] }}\n\
             {gates}trusted_keys: [keys/ci.pub]\n"
        ),
    );
}

/// The four kinds of evidence `compliance_ready` reads, as (predicate type,
/// predicate).
fn evidence_kinds() -> [(&'static str, Value); 4] {
    [
        (
            TEST_RESULT,
            json!({"result": "PASSED", "passedTests": ["a", "b", "c"], "warnedTests": [], "failedTests": []}),
        ),
        (
            AUDIT,
            json!({"findings": [], "summary": {"files": 3, "findings": 0}}),
        ),
        (
            VULNS,
            json!({"scanner": {"uri": "pkg:github/gantry", "result": []}}),
        ),
        (
            CYCLONEDX,
            json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}),
        ),
    ]
}

/// A ledger record of `predicate` about `service` `version`, signed by `key`.
fn evidence_entry(
    key: &PrivateKey,
    seq: usize,
    predicate_type: &str,
    predicate: &Value,
    service: &str,
    version: &str,
) -> Vec<u8> {
    let sha = format!("{seq:064x}");
    let statement = Statement::new(
        vec![Subject::sha256(format!("dist/{service}.tar.gz"), &sha)],
        predicate_type,
        predicate.clone(),
    );
    let envelope = gantry_attest::attest(&statement, &[key]).unwrap();
    EvidenceRecord {
        kind: kind_for_predicate(predicate_type).to_string(),
        subjects: vec![RecordSubject {
            name: format!("dist/{service}.tar.gz"),
            digest: [("sha256".to_string(), sha)].into(),
        }],
        predicate_type: predicate_type.to_string(),
        envelope: envelope.to_value(),
        time: TIME.to_string(),
        service: Some(service.to_string()),
        version: Some(version.to_string()),
        promotion: None,
    }
    .to_canonical()
    .unwrap()
}

fn append_all(ledger: &Ledger, entries: &[Vec<u8>]) {
    for chunk in entries.chunks(1000) {
        let refs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
        ledger.append_batch(&refs).unwrap();
    }
}

/// A ledger of `total` entries: the four kinds for every service at
/// 1.0.0, and filler of the same kinds for older versions.
fn evidence_ledger(dir: &Path, key: &PrivateKey, services: usize, total: usize) -> Ledger {
    let ledger = Ledger::create_or_open(dir).unwrap();
    let kinds = evidence_kinds();
    let mut entries = Vec::with_capacity(total);
    let current = services * kinds.len();
    for seq in 0..total.saturating_sub(current) {
        let (predicate_type, predicate) = &kinds[seq % kinds.len()];
        let service = name((seq / kinds.len()) % services);
        let version = format!("0.{}.0", seq / current);
        entries.push(evidence_entry(
            key,
            seq,
            predicate_type,
            predicate,
            &service,
            &version,
        ));
    }
    for i in 0..services {
        for (k, (predicate_type, predicate)) in kinds.iter().enumerate() {
            let seq = total + i * kinds.len() + k;
            entries.push(evidence_entry(
                key,
                seq,
                predicate_type,
                predicate,
                &name(i),
                "1.0.0",
            ));
        }
    }
    append_all(&ledger, &entries);
    ledger
}

fn package(home: &Path, services: usize) -> Package {
    let store = PackageStore::new(home.join("packages"));
    let names: Vec<String> = (0..services).map(name).collect();
    let request = PackageRequest {
        services: names.clone(),
        version: "1.0.0".to_string(),
        created_by: "release-bot".to_string(),
        time: TIME.to_string(),
        ..PackageRequest::default()
    };
    store.create(&request, &names).unwrap().package
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The medians of one whole decision and of its phases (snapshot,
/// `read_ledger`, decide), the decision and its gate count.
fn time_decision(
    workspace: &Workspace,
    ledger: &Ledger,
    package: &Package,
    runs: usize,
) -> ([Duration; 4], Decision, usize) {
    let now: jiff::Timestamp = "2026-12-07T10:00:00Z".parse().unwrap();
    let mut phases: [Vec<Duration>; 4] = Default::default();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let snapshot = ledger.snapshot().unwrap();
        let t1 = Instant::now();
        // What `promote` does: the state and the evidence in one pass.
        let (history, evidence) = read_ledger(&snapshot).unwrap();
        let t2 = Instant::now();
        let report = decide(
            workspace,
            &history,
            &evidence,
            package,
            "compliance_ready",
            now,
        )
        .unwrap();
        let t3 = Instant::now();
        for (phase, d) in phases.iter_mut().zip([t3 - t, t1 - t, t2 - t1, t3 - t2]) {
            phase.push(d);
        }
        last = Some(report);
    }
    let report = last.unwrap();
    let gates = report.services.iter().map(|s| s.gates.len()).sum();
    (phases.map(median), report.decision, gates)
}

fn bench_decision(total: usize) {
    let services = 100.min((total / 4).max(1));
    let ci = PrivateKey::ed25519_from_seed(&[7; 32]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let ledger = evidence_ledger(&dir.path().join("ledger"), &ci, services, total);
    let size = ledger.snapshot().unwrap().size();
    let built = t.elapsed();
    let package = package(dir.path(), services);

    println!(
        "promotion decision: {services} services, ledger of {size} signed entries (built in {:.1} s)",
        built.as_secs_f64()
    );
    for policy in [false, true] {
        let root = dir.path().join(if policy { "with-policy" } else { "repo" });
        catalog(&root, services);
        promotion_config(&root, &ci, policy);
        let workspace = Workspace::load(&root).unwrap();
        let ([time, snapshot, read, decided], decision, gates) =
            time_decision(&workspace, &ledger, &package, 9);
        assert_eq!(decision, Decision::Promoted, "every gate has its evidence");
        let phases = format!(
            "snapshot {:.2}, history and evidence index (one pass) {:.2}, decide {:.2} ms",
            ms(snapshot),
            ms(read),
            ms(decided)
        );
        if policy {
            println!(
                "  with a Rego policy gate per service ({gates} gates):       {:>8.2} ms  (no target; for comparison)\n    {phases}",
                ms(time)
            );
        } else {
            println!(
                "  snapshot + read_ledger + decide ({gates} gates, median): {:>8.2} ms  (target < 50 ms: {})\n    {phases}",
                ms(time),
                if time < Duration::from_millis(50) {
                    "met"
                } else {
                    "MISSED"
                }
            );
        }
    }
}

/// A ledger of `total` chain records over 100 services: per service, a
/// request and a validation per attempt and now and then an approval, each
/// naming its service's previous record.
fn chain_ledger(dir: &Path, total: usize) -> Ledger {
    let ledger = Ledger::create_or_open(dir).unwrap();
    let approver = PrivateKey::ed25519_from_seed(&[9; 32]).unwrap();
    let mut heads: HashMap<String, String> = HashMap::new();
    let mut entries = Vec::with_capacity(total);
    let mut seq = 0usize;
    while entries.len() < total {
        let service = name(seq % 100);
        let package = format!("{:064x}", seq / 100);
        let kind = match seq % 5 {
            4 => ChainType::Approval,
            n if n % 2 == 0 => ChainType::Promotion,
            _ => ChainType::Validation,
        };
        let data = match kind {
            ChainType::Promotion => json!({
                "package": package, "service": service, "version": "1.0.0",
                "from": "sandbox", "target_state": "compliance_ready",
                "requested_by": "release-bot", "evidence_refs": [],
            }),
            ChainType::Validation => json!({
                "package": package, "version": "1.0.0", "from": "sandbox",
                "to": "compliance_ready", "decision": "blocked", "package_decision": "blocked",
                "input_digest": format!("sha256:{seq:064x}"),
                "gates": [{"name": "all_tests_passing", "type": "blocking", "level": "required",
                           "result": "fail", "reason": "no signed test-result"}],
            }),
            ChainType::Approval => json!({
                "package": package, "approver": "alice", "comment": "looks good",
            }),
        };
        let chain = ChainRecord {
            promotion_id: package.clone(),
            timestamp: TIME.to_string(),
            service: service.clone(),
            previous_hash: heads.get(&service).cloned().unwrap_or_default(),
            evidence: ChainEvidence {
                kind,
                data,
                signatures: Vec::new(),
            },
        };
        let statement = chain.statement(&package);
        let envelope = if kind == ChainType::Approval {
            gantry_attest::attest(&statement, &[&approver]).unwrap()
        } else {
            gantry_attest::dsse::Envelope {
                payload_type: gantry_attest::dsse::IN_TOTO_PAYLOAD_TYPE.to_string(),
                payload: statement.to_payload(),
                signatures: Vec::new(),
            }
        };
        let entry = chain
            .into_record(&package, "1.0.0", &envelope)
            .to_canonical()
            .unwrap();
        heads.insert(service, entry_hash(&entry));
        entries.push(entry);
        seq += 1;
    }
    append_all(&ledger, &entries);
    ledger
}

fn bench_verify(total: usize) {
    let dir = tempfile::tempdir().unwrap();
    let ledger = chain_ledger(&dir.path().join("ledger"), total);
    let mut times = Vec::new();
    let mut entries = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let report = ledger.verify(&[]).unwrap();
        times.push(t.elapsed());
        assert!(report.ok, "the chain verifies: {:?}", report.problems);
        entries = report.entries;
    }
    let time = median(times);
    println!(
        "ledger verify: {entries} evidence-chain records (Merkle tree and chain links, median): {:>8.1} ms  (target < 1 s: {})",
        ms(time),
        if time < Duration::from_secs(1) {
            "met"
        } else {
            "MISSED"
        }
    );
}

fn main() {
    let total = entries_wanted().max(1);
    bench_decision(total);
    bench_verify(total);
}
