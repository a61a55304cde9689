//! The ledger on disk: appends survive reopening, torn tails are repaired
//! without losing a committed entry, concurrent appenders from several
//! processes are serialised, appenders killed with SIGKILL mid-write leave
//! a log that verifies, and any changed byte is detected and located.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::io::{BufRead as _, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gantry_ledger::record::{EvidenceRecord, RecordSubject};
use gantry_ledger::{Checkpoint, Ledger};

const CHILD_ENV: &str = "GANTRY_LEDGER_TEST_APPENDER";

fn record(tag: &str) -> Vec<u8> {
    EvidenceRecord {
        kind: "attestation".into(),
        subjects: vec![RecordSubject {
            name: tag.to_string(),
            digest: [("sha256".to_string(), "00".repeat(32))].into(),
        }],
        predicate_type: "https://example.com/p".into(),
        envelope: serde_json::json!({"payloadType": "x", "payload": tag, "signatures": []}),
        time: "2024-05-01T00:00:00Z".into(),
        service: Some("service-a".into()),
        version: None,
        promotion: None,
    }
    .to_canonical()
    .unwrap()
}

fn entries_of(dir: &Path) -> Vec<Vec<u8>> {
    let ledger = Ledger::open(dir).unwrap();
    let s = ledger.snapshot().unwrap();
    (0..s.size()).map(|i| s.entry(i).unwrap().0).collect()
}

/// Not a test of its own: the appender the crash test starts in a child
/// process (this test binary, re-invoked with an environment variable). It
/// appends until killed and prints each committed entry's tag.
#[test]
fn appender_child_process() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let me = std::process::id();
    let ledger = Ledger::open(Path::new(&dir)).unwrap();
    let mut out = std::io::stdout().lock();
    for seq in 0.. {
        let tag = format!("{me}-{seq}");
        if seq % 3 == 0 {
            let batch: Vec<Vec<u8>> = (0..4).map(|k| record(&format!("{tag}-{k}"))).collect();
            let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
            ledger.append_batch(&refs).unwrap();
            for k in 0..4 {
                writeln!(out, "ack {tag}-{k}").unwrap();
            }
        } else {
            ledger.append(&record(&tag)).unwrap();
            writeln!(out, "ack {tag}").unwrap();
        }
        out.flush().unwrap();
    }
}

#[test]
fn killed_appenders_lose_no_acknowledged_entry() {
    let dir = tempfile::tempdir().unwrap();
    Ledger::open(dir.path()).unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut acked = BTreeSet::new();
    for round in 0..3 {
        let mut children: Vec<_> = (0..3)
            .map(|_| {
                Command::new(&exe)
                    .args([
                        "--exact",
                        "appender_child_process",
                        "--nocapture",
                        "--test-threads=1",
                    ])
                    .env(CHILD_ENV, dir.path())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        std::thread::sleep(Duration::from_millis(400 + 150 * round));
        for c in &mut children {
            c.kill().unwrap(); // SIGKILL
        }
        for c in children {
            let out = c.wait_with_output().unwrap();
            for line in out.stdout.lines() {
                let line = line.unwrap();
                if let Some(tag) = line.strip_prefix("ack ") {
                    acked.insert(tag.to_string());
                }
            }
        }
        // Reopen (repairing any torn tail) and check.
        let entries = entries_of(dir.path());
        let present: BTreeSet<String> = entries
            .iter()
            .map(|e| {
                EvidenceRecord::from_canonical(e).unwrap().subjects[0]
                    .name
                    .clone()
            })
            .collect();
        let missing: Vec<_> = acked.difference(&present).collect();
        assert!(
            missing.is_empty(),
            "round {round}: acknowledged entries lost: {missing:?}"
        );
        assert_eq!(present.len(), entries.len(), "no entry twice");
        let report = Ledger::open(dir.path()).unwrap().verify(&[]).unwrap();
        assert!(report.ok(), "{:?}", report.problems);
    }
    assert!(
        acked.len() > 10,
        "the appenders appended ({} entries)",
        acked.len()
    );
}

#[test]
fn torn_tails_are_repaired_without_losing_committed_entries() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path()).unwrap();
    for i in 0..5 {
        ledger.append(&record(&format!("e{i}"))).unwrap();
    }
    let good = entries_of(dir.path());
    let root = ledger.snapshot().unwrap().root(5).unwrap();
    let files = ["entries", "hashes", "index"];
    let lens: Vec<u64> = files
        .iter()
        .map(|f| std::fs::metadata(dir.path().join(f)).unwrap().len())
        .collect();

    // A frame cut at every length, with partial hashes and index records.
    let next = record("torn");
    let mut frame = (next.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(&next);
    frame.extend_from_slice(&gantry_ledger::hash::leaf_hash(&next));
    for cut in [1, 3, 4, 10, frame.len() - 1] {
        let append = |name: &str, bytes: &[u8]| {
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(dir.path().join(name))
                .unwrap();
            f.write_all(bytes).unwrap();
        };
        append("entries", &frame[..cut]);
        append("hashes", &[7u8; 20]);
        append("index", &[1, 2, 3]);
        let reopened = entries_of(dir.path());
        assert_eq!(reopened, good, "cut at {cut}");
        for (f, len) in files.iter().zip(&lens) {
            assert_eq!(
                std::fs::metadata(dir.path().join(f)).unwrap().len(),
                *len,
                "{f} repaired (cut {cut})"
            );
        }
        assert_eq!(
            Ledger::open(dir.path())
                .unwrap()
                .snapshot()
                .unwrap()
                .root(5)
                .unwrap(),
            root
        );
    }

    // A whole frame written and synced, but the commit (hashes, index) not:
    // the entry is recovered.
    std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("entries"))
        .unwrap()
        .write_all(&frame)
        .unwrap();
    let reopened = entries_of(dir.path());
    assert_eq!(reopened.len(), 6);
    assert_eq!(reopened[5], next);
    assert!(Ledger::open(dir.path()).unwrap().verify(&[]).unwrap().ok());

    // An index record pointing at garbage (a torn commit) is dropped.
    std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("index"))
        .unwrap()
        .write_all(&999u64.to_be_bytes())
        .unwrap();
    assert_eq!(entries_of(dir.path()).len(), 6);
}

#[test]
fn concurrent_appenders_in_threads_are_serialised() {
    let dir = tempfile::tempdir().unwrap();
    Ledger::open(dir.path()).unwrap();
    std::thread::scope(|s| {
        for t in 0..4 {
            let path = dir.path().to_path_buf();
            s.spawn(move || {
                // Each thread opens its own handle, as separate processes do.
                let ledger = Ledger::open(&path).unwrap();
                for i in 0..25 {
                    ledger.append(&record(&format!("t{t}-{i}"))).unwrap();
                }
            });
        }
    });
    let entries = entries_of(dir.path());
    assert_eq!(entries.len(), 100);
    let distinct: BTreeSet<_> = entries.iter().collect();
    assert_eq!(distinct.len(), 100);
    assert!(Ledger::open(dir.path()).unwrap().verify(&[]).unwrap().ok());
}

#[test]
fn every_changed_byte_is_detected_and_located() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path()).unwrap();
    for i in 0..3 {
        ledger.append(&record(&format!("e{i}"))).unwrap();
    }
    ledger.checkpoint().unwrap();
    ledger.append(&record("e3")).unwrap();
    ledger.checkpoint().unwrap();
    assert!(ledger.verify(&[]).unwrap().ok());

    let start = Instant::now();
    for name in [
        "entries",
        "hashes",
        "index",
        "checkpoint",
        "checkpoints/3.note",
        "log.pub",
    ] {
        let path = dir.path().join(name);
        let original = std::fs::read(&path).unwrap();
        // Every byte of the small files; a spread of bytes of the large one.
        let step = (original.len() / 60).max(1);
        for i in (0..original.len()).step_by(step) {
            let mut changed = original.clone();
            changed[i] ^= 0x01;
            std::fs::write(&path, &changed).unwrap();
            let result = Ledger::open(dir.path()).and_then(|l| l.verify(&[]));
            match result {
                Ok(report) if report.ok() => {
                    // Only derived data may heal: a torn-looking commit
                    // record is rebuilt from the entries, byte for byte.
                    assert_eq!(
                        std::fs::read(&path).unwrap(),
                        original,
                        "{name} byte {i}: not detected"
                    );
                }
                Ok(report) => {
                    let located = report
                        .problems
                        .iter()
                        .any(|p| !p.location.is_empty() || p.file != "entries");
                    assert!(located, "{name} byte {i}: {:?}", report.problems);
                }
                Err(_) => {} // Unreadable is detected too (a damaged key or index).
            }
        }
        std::fs::write(&path, &original).unwrap();
    }
    assert!(ledger.verify(&[]).unwrap().ok());
    assert!(start.elapsed() < Duration::from_secs(600));
}

#[test]
fn proofs_from_disk_verify_against_signed_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path()).unwrap();
    for i in 0..13 {
        ledger.append(&record(&format!("e{i}"))).unwrap();
    }
    let (old, old_note) = ledger.checkpoint().unwrap();
    for i in 13..21 {
        ledger.append(&record(&format!("e{i}"))).unwrap();
    }
    let (new, note) = ledger.checkpoint().unwrap();
    let verifier = ledger.verifier().unwrap();
    assert_eq!(Checkpoint::open(&note, &verifier).unwrap(), new);
    assert_eq!(Checkpoint::open(&old_note, &verifier).unwrap(), old);
    let s = ledger.snapshot().unwrap();
    for i in 0..21 {
        let (_, leaf) = s.entry(i).unwrap();
        let proof: Vec<Vec<u8>> = s
            .inclusion_proof(i, 21)
            .unwrap()
            .iter()
            .map(|h| h.to_vec())
            .collect();
        gantry_ledger::verify::verify_inclusion(i, 21, &leaf, &proof, &new.root).unwrap();
    }
    let proof: Vec<Vec<u8>> = s
        .consistency_proof(13, 21)
        .unwrap()
        .iter()
        .map(|h| h.to_vec())
        .collect();
    gantry_ledger::verify::verify_consistency(13, 21, &proof, &old.root, &new.root).unwrap();
    // An external checkpoint from another log is reported.
    let other = tempfile::tempdir().unwrap();
    let other_ledger = Ledger::open(other.path()).unwrap();
    other_ledger.append(&record("x")).unwrap();
    let (_, foreign) = other_ledger.checkpoint().unwrap();
    let report = ledger.verify(&[("foreign.note".into(), foreign)]).unwrap();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert_eq!(report.problems[0].file, "foreign.note");
}

#[test]
fn export_is_verifiable_offline_and_tampering_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path()).unwrap();
    for i in 0..4 {
        ledger.append(&record(&format!("e{i}"))).unwrap();
    }
    let out = dir.path().join("export");
    let manifest = gantry_ledger::export::export(&ledger, "service-a", &out).unwrap();
    assert_eq!(manifest.entries.len(), 4);
    assert!(out.join("evidence/20240501/other").is_dir());
    let report =
        gantry_ledger::export::verify_export(&out, Some(&ledger.verifier().unwrap())).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    // Change one byte of an entry: caught, and named.
    let entry = out.join(&manifest.entries[2].entry);
    let mut bytes = std::fs::read(&entry).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&entry, bytes).unwrap();
    let report = gantry_ledger::export::verify_export(&out, None).unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains(&manifest.entries[2].entry)),
        "{:?}",
        report.problems
    );
    // A non-empty folder is refused.
    assert!(gantry_ledger::export::export(&ledger, "service-a", &out).is_err());
}
