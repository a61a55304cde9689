//! The ledger on disk: appends survive reopening, concurrent appenders
//! from several processes are serialised, appenders killed with SIGKILL
//! mid-write lose no acknowledged entry (`repair` removes only what they
//! never acknowledged), opening for reading writes nothing, and a missing
//! or damaged key is an error, never a fresh key.

use std::collections::BTreeSet;
use std::io::{BufRead as _, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use gantry_ledger::record::EvidenceRecord;
use gantry_ledger::{Checkpoint, Ledger, LedgerError};

use crate::common::{entries_of, files_of, ledger_with, record};

const CHILD_ENV: &str = "GANTRY_LEDGER_TEST_APPENDER";

/// Not a test of its own: the appender the crash test starts in a child
/// process (this test binary, re-invoked with an environment variable). It
/// appends until killed and prints each committed entry's tag.
#[test]
fn appender_child_process() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let me = std::process::id();
    let ledger = Ledger::create_or_open(Path::new(&dir)).unwrap();
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
    Ledger::create_or_open(dir.path()).unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut acked = BTreeSet::new();
    for round in 0..3 {
        let mut children: Vec<_> = (0..3)
            .map(|_| {
                Command::new(&exe)
                    .args([
                        "--exact",
                        "store::appender_child_process",
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
        // Remove what a killed appender left unacknowledged, then check.
        Ledger::open(dir.path()).unwrap().repair().unwrap();
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
fn concurrent_appenders_in_threads_are_serialised() {
    let dir = tempfile::tempdir().unwrap();
    Ledger::create_or_open(dir.path()).unwrap();
    std::thread::scope(|s| {
        for t in 0..4 {
            let path = dir.path().to_path_buf();
            s.spawn(move || {
                // Each thread opens its own handle, as separate processes do.
                let ledger = Ledger::create_or_open(&path).unwrap();
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
fn proofs_from_disk_verify_against_signed_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::create_or_open(dir.path()).unwrap();
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
    let other_ledger = Ledger::create_or_open(other.path()).unwrap();
    other_ledger.append(&record("x")).unwrap();
    let (_, foreign) = other_ledger.checkpoint().unwrap();
    let report = ledger.verify(&[("foreign.note".into(), foreign)]).unwrap();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert_eq!(report.problems[0].file, "foreign.note");
}

/// Opening a ledger to read it (and verifying it) used to create the
/// folder, generate a key and repair a torn tail: now nothing is written.
#[test]
fn opening_for_reading_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none");
    assert!(matches!(
        Ledger::open(&missing),
        Err(LedgerError::NotALedger { .. })
    ));
    assert!(!missing.exists(), "opening created the folder");

    let path = dir.path().join("ledger");
    ledger_with(&path, 3).checkpoint().unwrap();
    crate::common::append_raw(&path, "entries", &[0, 0, 1]);
    let before = files_of(&path);
    let ledger = Ledger::open(&path).unwrap();
    ledger.snapshot().unwrap();
    ledger.verify(&[]).unwrap();
    assert_eq!(files_of(&path), before);
}

/// A deleted or damaged `log.key` used to be replaced by a fresh key,
/// silently disowning every checkpoint: now it is an error, and the files
/// stay as they are.
#[test]
fn a_missing_or_damaged_log_key_is_an_error_not_a_fresh_key() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(dir.path(), 2);
    ledger.checkpoint().unwrap();
    let key = dir.path().join("log.key");
    let original = std::fs::read(&key).unwrap();

    std::fs::remove_file(&key).unwrap();
    let before = files_of(dir.path());
    let err = Ledger::create_or_open(dir.path()).unwrap_err();
    assert!(matches!(err, LedgerError::MissingKey { .. }), "{err}");
    assert!(ledger.checkpoint().is_err());
    assert_eq!(files_of(dir.path()), before, "no key was generated");
    let report = ledger.verify(&[]).unwrap();
    assert!(
        report.problems.iter().any(|p| p.file == "log.key"),
        "{:?}",
        report.problems
    );

    let mut damaged = original.clone();
    damaged[20] ^= 0x01;
    std::fs::write(&key, &damaged).unwrap();
    let err = Ledger::create_or_open(dir.path()).unwrap_err();
    assert!(matches!(err, LedgerError::DamagedKey { .. }), "{err}");
    assert_eq!(std::fs::read(&key).unwrap(), damaged);

    // The public half deleted: also an error, not regenerated.
    std::fs::write(&key, &original).unwrap();
    std::fs::remove_file(dir.path().join("log.pub")).unwrap();
    let err = Ledger::create_or_open(dir.path()).unwrap_err();
    assert!(matches!(err, LedgerError::MissingKey { .. }), "{err}");
    assert!(!dir.path().join("log.pub").exists());
}

/// A key is generated once, when the ledger is created, and kept.
#[test]
fn the_key_is_generated_only_when_the_ledger_is_created() {
    let dir = tempfile::tempdir().unwrap();
    ledger_with(dir.path(), 1);
    let key = std::fs::read(dir.path().join("log.key")).unwrap();
    let again = Ledger::create_or_open(dir.path()).unwrap();
    again.append(&record("more")).unwrap();
    assert_eq!(std::fs::read(dir.path().join("log.key")).unwrap(), key);
    assert_eq!(entries_of(dir.path()).len(), 2);
    // Data without a commit record is not taken for a fresh ledger.
    std::fs::remove_file(dir.path().join("committed")).unwrap();
    let err = Ledger::create_or_open(dir.path()).unwrap_err();
    assert!(matches!(err, LedgerError::MissingCommitted { .. }), "{err}");
}

#[test]
fn reading_every_entry_in_order_gives_what_reading_each_gives() {
    let dir = tempfile::tempdir().unwrap();
    // Entries of very different sizes, so that frames straddle the reader's
    // blocks.
    let ledger = Ledger::create_or_open(dir.path()).unwrap();
    let mut expected = Vec::new();
    for i in 0..40usize {
        let mut entry = record(&format!("entry-{i}"));
        if i % 7 == 3 {
            entry = record(&"x".repeat(300_000 + i));
        }
        ledger.append(&entry).unwrap();
        expected.push(entry);
    }
    let snapshot = ledger.snapshot().unwrap();
    let mut seen = Vec::new();
    snapshot
        .for_each_entry(|i, bytes| {
            assert_eq!(bytes, snapshot.entry(i).unwrap().0.as_slice());
            seen.push(bytes.to_vec());
            Ok::<(), LedgerError>(())
        })
        .unwrap();
    assert_eq!(seen, expected);
}

#[test]
fn reading_every_entry_stops_at_a_changed_byte() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(dir.path(), 5);
    let path = dir.path().join("entries");
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let mut count = 0;
    let e = ledger
        .snapshot()
        .unwrap()
        .for_each_entry(|_, _| {
            count += 1;
            Ok::<(), LedgerError>(())
        })
        .unwrap_err();
    assert!(e.to_string().contains("is damaged"), "{e}");
    assert!(count < 5);
}
