//! The ledger's files on disk, damaged by hostile bytes. A small ledger
//! (three evidence records, two checkpoints) is made once; each input then
//! changes one of its files in a fresh copy and the ledger is opened,
//! verified and read. Nothing may panic or hang, whatever a file holds,
//! and the every-byte rule holds:
//!
//! - opening, verifying and reading never write (every file, the `lock`
//!   file too, is as it was);
//! - a change that keeps a file's length or cuts it short (edits,
//!   truncation) is reported by `verify` as damage, never taken for a torn
//!   tail and never passed;
//! - a replaced file is reported too (as damage, or as a torn tail when
//!   bytes were added), except a signed note (other keys' signature lines
//!   are allowed in one) and a `committed` replaced by the equivalent v1
//!   text record.
//!
//! Input: byte 0 picks the file (in name order), byte 1 the change:
//! `0` replaces the file with the rest of the input, `1` truncates it to
//! the length in bytes 2-3 (little endian), anything else applies the rest
//! of the input as (offset: u16 LE, xor: u8) edits.

#![no_main]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use gantry_fuzz::Scratch;
use gantry_ledger::committed::CommitFile;
use gantry_ledger::record::RecordSubject;
use gantry_ledger::{EvidenceRecord, Ledger};
use libfuzzer_sys::fuzz_target;

/// The template ledger's files: path relative to the ledger, bytes.
static TEMPLATE: LazyLock<Vec<(PathBuf, Vec<u8>)>> = LazyLock::new(|| {
    let scratch = Scratch::new();
    let dir = scratch.path.join("ledger");
    let ledger = Ledger::create_or_open(&dir).expect("a new ledger");
    let records: Vec<Vec<u8>> = (0..3)
        .map(|i| {
            EvidenceRecord {
                kind: "provenance".into(),
                subjects: vec![RecordSubject {
                    name: format!("app-{i}.tar.gz"),
                    digest: BTreeMap::from([("sha256".to_string(), format!("{i:064x}"))]),
                }],
                predicate_type: "https://slsa.dev/provenance/v1".into(),
                envelope: serde_json::json!({"payloadType": "x", "payload": "", "signatures": []}),
                time: "2026-01-02T03:04:05Z".into(),
                service: Some("shop".into()),
                version: Some(format!("1.{i}.0")),
                promotion: None,
            }
            .to_canonical()
            .expect("a canonical record")
        })
        .collect();
    ledger
        .append_batch(&[&records[0], &records[1]])
        .expect("append");
    ledger.checkpoint().expect("checkpoint");
    ledger.append(&records[2]).expect("append");
    ledger.checkpoint().expect("checkpoint");
    drop(ledger);
    let mut files = Vec::new();
    collect(&dir, &dir, &mut files);
    files.sort();
    files
});

fn collect(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).expect("read the template") {
        let path = entry.expect("template entry").path();
        if path.is_dir() {
            collect(root, &path, out);
        } else if path.file_name().is_some_and(|n| n != "lock") {
            let rel = path.strip_prefix(root).expect("inside").to_path_buf();
            out.push((rel, std::fs::read(&path).expect("template file")));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [which, op, rest @ ..] = data else {
        return;
    };
    let template = &*TEMPLATE;
    let scratch = Scratch::new();
    let dir = scratch.path.join("ledger");
    let pick = usize::from(*which) % template.len();
    let mut changed = None;
    for (i, (rel, bytes)) in template.iter().enumerate() {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        let bytes = if i == pick {
            let new = change(bytes, *op, rest);
            if new != *bytes {
                changed = Some((rel.clone(), new.clone()));
            }
            new
        } else {
            bytes.clone()
        };
        std::fs::write(&path, bytes).expect("write a ledger file");
    }
    // The lock file holds no data; readers need it to exist.
    std::fs::write(dir.join("lock"), b"").expect("write the lock file");
    let before = files_of(&dir);
    let ledger = Ledger::open(&dir).expect("the ledger opens: its lock file is there");
    let verified = ledger.verify(&[]);
    let _ = ledger.latest_checkpoint();
    if let Ok(snapshot) = ledger.snapshot() {
        let n = snapshot.size().min(16);
        for i in 0..n {
            let _ = snapshot.entry(i);
            let _ = snapshot.inclusion_proof(i, n);
        }
        let _ = snapshot.root(n);
        let _ = snapshot.consistency_proof(1.min(n), n);
    }
    drop(ledger);
    assert!(
        files_of(&dir) == before,
        "opening, verifying or reading wrote"
    );

    let Some((rel, new)) = changed else {
        assert!(
            verified.as_ref().is_ok_and(|r| r.ok()),
            "the unchanged ledger does not verify: {verified:?}"
        );
        return;
    };
    let Ok(report) = verified else {
        // Refused outright (an unreadable file): reported.
        return;
    };
    let name = rel.to_string_lossy();
    let replaced = *op == 0;
    if replaced {
        let note = name == "checkpoint" || name.ends_with(".note");
        let v1 = name == "committed"
            && matches!(CommitFile::from_bytes(&new), Ok(CommitFile::Legacy(_)));
        assert!(
            note || v1 || !report.ok(),
            "{name} replaced ({} bytes) and verify found nothing",
            new.len()
        );
    } else {
        assert!(!report.ok(), "{name} changed and verify found nothing");
        assert!(
            !report.only_unacknowledged_tail(),
            "{name} changed in place or cut short, and verify took it for a torn tail: {:?}",
            report.problems
        );
    }
});

/// Every file under `dir`, by relative path.
fn files_of(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = Vec::new();
    collect_all(dir, dir, &mut files);
    files.into_iter().collect()
}

fn collect_all(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).expect("read the ledger") {
        let path = entry.expect("ledger entry").path();
        if path.is_dir() {
            collect_all(root, &path, out);
        } else {
            let rel = path.strip_prefix(root).expect("inside").to_path_buf();
            out.push((rel, std::fs::read(&path).expect("ledger file")));
        }
    }
}

fn change(bytes: &[u8], op: u8, rest: &[u8]) -> Vec<u8> {
    match op {
        0 => rest.to_vec(),
        1 => {
            let len = usize::from(u16::from_le_bytes([
                rest.first().copied().unwrap_or(0),
                rest.get(1).copied().unwrap_or(0),
            ]));
            bytes[..len.min(bytes.len())].to_vec()
        }
        _ => {
            let mut out = bytes.to_vec();
            if out.is_empty() {
                return out;
            }
            for edit in rest.chunks_exact(3) {
                let at = usize::from(u16::from_le_bytes([edit[0], edit[1]])) % out.len();
                out[at] ^= edit[2];
            }
            out
        }
    }
}
