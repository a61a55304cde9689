//! Helpers every area shares: evidence records, ledgers with entries,
//! and snapshots of a ledger's files.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use gantry_ledger::Ledger;
use gantry_ledger::committed::{CommitFile, Committed, SLOT_BYTES};
use gantry_ledger::record::{EvidenceRecord, RecordSubject};

/// A small, valid evidence record tagged `tag` (its subject's name).
pub(crate) fn record(tag: &str) -> Vec<u8> {
    record_for(tag, "service-a")
}

/// A record of `service`.
pub(crate) fn record_for(tag: &str, service: &str) -> Vec<u8> {
    EvidenceRecord {
        kind: "attestation".into(),
        subjects: vec![RecordSubject {
            name: tag.to_string(),
            digest: [("sha256".to_string(), "00".repeat(32))].into(),
        }],
        predicate_type: "https://example.com/p".into(),
        envelope: serde_json::json!({"payloadType": "x", "payload": tag, "signatures": []}),
        time: "2024-05-01T00:00:00Z".into(),
        service: Some(service.into()),
        version: None,
        promotion: None,
    }
    .to_canonical()
    .unwrap()
}

/// A new ledger in `dir` with `n` entries `e0`, `e1`, ...
pub(crate) fn ledger_with(dir: &Path, n: usize) -> Ledger {
    let ledger = Ledger::create_or_open(dir).unwrap();
    for i in 0..n {
        ledger.append(&record(&format!("e{i}"))).unwrap();
    }
    ledger
}

/// The acknowledged entries' bytes.
pub(crate) fn entries_of(dir: &Path) -> Vec<Vec<u8>> {
    let ledger = Ledger::open(dir).unwrap();
    let s = ledger.snapshot().unwrap();
    (0..s.size()).map(|i| s.entry(i).unwrap().0).collect()
}

/// Every file under `dir` (relative path to bytes).
pub(crate) fn files_of(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Appends raw bytes to a ledger file, as a torn append leaves them.
pub(crate) fn append_raw(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join(name))
        .unwrap()
        .write_all(bytes)
        .unwrap();
}

/// The frame an append of `entry` writes to `entries`.
pub(crate) fn frame(entry: &[u8]) -> Vec<u8> {
    let mut frame = (entry.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(entry);
    frame.extend_from_slice(&gantry_ledger::hash::leaf_hash(entry));
    frame
}

/// Rewrites the newest commit slot in place with `change` applied to its
/// record and a matching checksum: a forged record, not a torn one.
pub(crate) fn rewrite_newest_slot(dir: &Path, change: impl FnOnce(&mut Committed)) {
    let path = dir.join("committed");
    let mut bytes = std::fs::read(&path).unwrap();
    let mut slot = CommitFile::from_bytes(&bytes)
        .unwrap()
        .newest_slot()
        .unwrap();
    change(&mut slot.committed);
    let at = slot.index() * SLOT_BYTES;
    bytes[at..at + SLOT_BYTES].copy_from_slice(&slot.to_bytes());
    std::fs::write(&path, bytes).unwrap();
}
