//! The evidence chain: each service's promotion records link to the one
//! before by hash, and `verify` (of the log and of an export) follows the
//! links.

use gantry_attest::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use gantry_ledger::Ledger;
use gantry_ledger::chain::{ChainEvidence, ChainRecord, ChainType, entry_hash};
use gantry_ledger::export::{export, verify_export};

const PACKAGE: &str = "5c4c2d56f59a1d4caad93e82bd820337d4fd0ec81d6f345268556e2ced2cc648";

/// The entry of a chain record of `service` naming `previous`.
fn chain_entry(service: &str, kind: ChainType, previous: &str, n: u32) -> Vec<u8> {
    let record = ChainRecord {
        promotion_id: PACKAGE.to_string(),
        timestamp: format!("2026-12-06T10:00:{n:02}Z"),
        service: service.to_string(),
        previous_hash: previous.to_string(),
        evidence: ChainEvidence {
            kind,
            data: serde_json::json!({ "package": PACKAGE, "n": n }),
            signatures: Vec::new(),
        },
    };
    let envelope = Envelope {
        payload_type: IN_TOTO_PAYLOAD_TYPE.to_string(),
        payload: record.statement(PACKAGE).to_payload(),
        signatures: Vec::new(),
    };
    record
        .into_record(PACKAGE, "1.4.0", &envelope)
        .to_canonical()
        .unwrap()
}

/// Appends a linked chain of `n` records for `service` (interleaved with
/// nothing else) and returns the entries.
fn append_chain(ledger: &Ledger, service: &str, n: u32) -> Vec<Vec<u8>> {
    let mut previous = String::new();
    let mut entries = Vec::new();
    for i in 0..n {
        let kind = if i % 2 == 0 {
            ChainType::Promotion
        } else {
            ChainType::Validation
        };
        let entry = chain_entry(service, kind, &previous, i);
        ledger.append(&entry).unwrap();
        previous = entry_hash(&entry);
        entries.push(entry);
    }
    entries
}

#[test]
fn linked_chains_of_several_services_verify() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::create_or_open(dir.path()).unwrap();
    append_chain(&ledger, "service-a", 3);
    append_chain(&ledger, "service-b", 2);
    let report = ledger.verify(&[]).unwrap();
    assert!(report.ok, "{:?}", report.problems);
}

#[test]
fn a_record_that_skips_its_predecessor_is_reported_at_its_entry() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::create_or_open(dir.path()).unwrap();
    let entries = append_chain(&ledger, "service-a", 2);
    // Names the first record, not the second: the second was left out.
    let forged = chain_entry(
        "service-a",
        ChainType::Approval,
        &entry_hash(&entries[0]),
        9,
    );
    ledger.append(&forged).unwrap();
    // A first record of another service that claims a predecessor.
    let orphan = chain_entry(
        "service-b",
        ChainType::Promotion,
        &entry_hash(&entries[1]),
        1,
    );
    ledger.append(&orphan).unwrap();
    let report = ledger.verify(&[]).unwrap();
    assert!(!report.ok);
    let at: Vec<(Option<u64>, &str)> = report
        .problems
        .iter()
        .map(|p| (p.entry, p.message.as_str()))
        .collect();
    assert_eq!(at.len(), 2, "{at:?}");
    assert_eq!(at[0].0, Some(2));
    assert!(
        at[0].1.contains("evidence chain of service-a is broken"),
        "{at:?}"
    );
    assert_eq!(at[1].0, Some(3));
    assert!(at[1].1.contains("an earlier record is missing"), "{at:?}");
}

#[test]
fn an_export_lays_out_chain_records_and_catches_a_changed_one() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::create_or_open(dir.path().join("ledger").as_path()).unwrap();
    append_chain(&ledger, "service-a", 4);
    let out = dir.path().join("export");
    let manifest = export(&ledger, "service-a", &out).unwrap();
    let folder = out.join("promotions").join(PACKAGE);
    for name in ["request.json", "validation.json"] {
        assert!(folder.join(name).is_file(), "{name}");
    }
    let report = verify_export(&out, None).unwrap();
    assert!(report.ok, "{:?}", report.problems);

    // Change the chain record file and fix up its manifest digest, as a
    // forger would: the record no longer matches the signed entry.
    let rel = manifest.entries[0].record.clone().unwrap();
    let path = out.join(&rel);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("\"n\": 0", "\"n\": 7")).unwrap();
    let mut manifest_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    use sha2::Digest as _;
    let digest: String = sha2::Sha256::digest(std::fs::read(&path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    manifest_json["files"][&rel] = serde_json::Value::String(digest);
    std::fs::write(
        out.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest_json).unwrap(),
    )
    .unwrap();
    let report = verify_export(&out, None).unwrap();
    assert!(!report.ok);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains(&rel) && p.contains("differs from the chain record")),
        "{:?}",
        report.problems
    );
}
