//! The evidence index over a ledger of 10,000 signed records (100
//! services, 20 versions each, five kinds per version), and the checks of
//! one decision over it: build time (median of several) and the time of
//! every evidence check for all 100 services at one version.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use gantry_attest::keys::PrivateKey;
use gantry_attest::predicate::{AUDIT, CYCLONEDX, TEST_RESULT, VULNS};
use gantry_attest::provenance::PROVENANCE_V1;
use gantry_attest::{Statement, Subject, attest};
use gantry_ledger::record::{EvidenceRecord, RecordSubject, kind_for_predicate};
use gantry_ledger::{Ledger, Snapshot};
use gantry_promote::evidence::{self, EvidenceIndex};
use serde_json::{Value, json};

const SERVICES: usize = 100;
const VERSIONS: usize = 20;

fn predicates(i: usize) -> [(&'static str, Value); 5] {
    let components: Vec<Value> = (0..40)
        .map(|c| json!({"type": "library", "name": format!("dep-{c}"), "version": "1.0.0", "purl": format!("pkg:cargo/dep-{c}@1.0.0")}))
        .collect();
    [
        (
            TEST_RESULT,
            json!({"result": "PASSED", "passedTests": (0..30).map(|t| format!("suite::test_{t}")).collect::<Vec<_>>(), "warnedTests": [], "failedTests": []}),
        ),
        (
            AUDIT,
            json!({"version": 1, "findings": [{"rule": "unpinned-uses", "severity": "low", "message": "m", "path": "ci.yml", "location": {"line": i % 50 + 1, "column": 1}}], "summary": {"files": 3, "findings": 1}}),
        ),
        (
            VULNS,
            json!({"scanner": {"uri": "pkg:github/gantry", "result": [{"id": format!("CVE-2026-{i}"), "severity": [{"method": "nvd", "score": "5.3"}]}]}}),
        ),
        (
            CYCLONEDX,
            json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": components}),
        ),
        (
            PROVENANCE_V1,
            json!({"buildDefinition": {"buildType": "https://gantry.dev/buildtypes/workflow-run/v1", "externalParameters": {"workflow": {"path": ".github/workflows/ci.yml"}}},
                   "runDetails": {"builder": {"id": "https://gantry.dev/builders/local/v1"}}}),
        ),
    ]
}

fn digest(s: usize) -> String {
    format!("{s:064x}")
}

fn build_ledger(dir: &std::path::Path, key: &PrivateKey) -> Ledger {
    let ledger = Ledger::create_or_open(dir).unwrap();
    let mut entries = Vec::new();
    for v in 0..VERSIONS {
        for s in 0..SERVICES {
            for (predicate_type, predicate) in predicates(s * VERSIONS + v) {
                let subject = vec![Subject::sha256(format!("dist/service-{s}"), digest(s))];
                let statement = Statement::new(subject.clone(), predicate_type, predicate);
                let envelope = attest(&statement, &[key]).unwrap();
                let record = EvidenceRecord {
                    kind: kind_for_predicate(predicate_type).to_string(),
                    subjects: subject
                        .iter()
                        .map(|s| RecordSubject {
                            name: s.name.clone(),
                            digest: s.digest.clone(),
                        })
                        .collect(),
                    predicate_type: predicate_type.to_string(),
                    envelope: envelope.to_value(),
                    time: "2026-12-06T21:00:00Z".into(),
                    service: Some(format!("service-{s}")),
                    version: Some(format!("1.{v}.0")),
                    promotion: None,
                };
                entries.push(record.to_canonical().unwrap());
            }
        }
    }
    for chunk in entries.chunks(1000) {
        let refs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
        ledger.append_batch(&refs).unwrap();
    }
    ledger
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::ed25519_from_seed(&[3; 32]).unwrap();
    let ledger = build_ledger(&dir.path().join("ledger"), &key);
    let snapshot: Snapshot = ledger.snapshot().unwrap();
    let size = snapshot.size();
    let bytes: usize = (0..size).map(|i| snapshot.entry(i).unwrap().0.len()).sum();

    let build = median(
        (0..7)
            .map(|_| {
                let t = Instant::now();
                black_box(EvidenceIndex::build(&snapshot).unwrap());
                t.elapsed()
            })
            .collect(),
    );

    let read = median(
        (0..7)
            .map(|_| {
                let t = Instant::now();
                for i in 0..size {
                    black_box(snapshot.entry(i).unwrap());
                }
                t.elapsed()
            })
            .collect(),
    );
    println!(
        "reading the {size} entries through Snapshot::entry (the floor): {:.1} ms (median of 7)",
        read.as_secs_f64() * 1e3
    );
    let trusted = vec![key.public_key().clone()];
    let kinds: Vec<String> = ["sbom", "vulns", "provenance", "test-result"]
        .map(String::from)
        .to_vec();
    let checks = median(
        (0..5)
            .map(|_| {
                // A fresh index each time: verification is cached per record.
                let index = EvidenceIndex::build(&snapshot).unwrap();
                let t = Instant::now();
                for s in 0..SERVICES {
                    let service = format!("service-{s}");
                    let ev = index.evidence(&service, "1.7.0");
                    let artifacts = [(format!("dist/service-{s}"), digest(s))];
                    black_box(evidence::all_tests_passing(&ev, &trusted));
                    black_box(evidence::audit_clean(&ev, &trusted, "high"));
                    black_box(evidence::no_vulns_at_or_above(&ev, &trusted, "critical"));
                    black_box(evidence::provenance_verified(&ev, &trusted, &artifacts));
                    black_box(evidence::evidence_collected(&ev, &trusted, &kinds));
                    black_box(evidence::summaries(&ev, &trusted));
                }
                t.elapsed()
            })
            .collect(),
    );
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "evidence index of {size} entries ({:.1} MB): {:.1} ms (median of 7)",
        bytes as f64 / 1e6,
        ms(build)
    );
    println!(
        "every evidence check and summary for {SERVICES} services (500 signed records verified): {:.1} ms (median of 5)",
        ms(checks)
    );
}
