//! Every single-byte change of every ledger file is reported by `verify`,
//! and `verify` leaves the changed file as it found it: nothing is healed.
//!
//! Before, a changed commit record (`index`) or stored hash could be
//! "repaired" on open and verify then passed.

use gantry_ledger::Ledger;

use crate::common::{files_of, ledger_with, record};

#[test]
fn every_changed_byte_of_every_file_is_reported_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(dir.path(), 3);
    ledger.checkpoint().unwrap();
    ledger.append(&record("e3")).unwrap();
    ledger.checkpoint().unwrap();
    assert!(ledger.verify(&[]).unwrap().ok());
    let original = files_of(dir.path());
    let names: Vec<&String> = original.keys().filter(|n| *n != "lock").collect();
    for expected in [
        "entries",
        "hashes",
        "index",
        "committed",
        "log.key",
        "log.pub",
        "checkpoint",
        "checkpoints/3.note",
        "checkpoints/4.note",
    ] {
        assert!(names.iter().any(|n| *n == expected), "{expected} missing");
    }
    assert!(original["lock"].is_empty(), "the lock file holds no data");

    let mut checked = 0usize;
    for name in names {
        let path = dir.path().join(name);
        let bytes = &original[name];
        for i in 0..bytes.len() {
            for mask in [0x01u8, 0x80] {
                let mut changed = bytes.clone();
                changed[i] ^= mask;
                std::fs::write(&path, &changed).unwrap();
                let before = files_of(dir.path());
                let report = Ledger::open(dir.path())
                    .and_then(|l| l.verify(&[]))
                    .unwrap_or_else(|e| panic!("{name} byte {i} ^ {mask:#x}: verify failed: {e}"));
                assert!(!report.ok(), "{name} byte {i} ^ {mask:#x}: not reported");
                assert!(
                    !report.only_unacknowledged_tail(),
                    "{name} byte {i} ^ {mask:#x}: taken for a torn tail: {:?}",
                    report.problems
                );
                assert_eq!(
                    files_of(dir.path()),
                    before,
                    "{name} byte {i} ^ {mask:#x}: verify wrote"
                );
                checked += 1;
            }
        }
        std::fs::write(&path, bytes).unwrap();
    }
    assert!(checked > 2000, "{checked} changes checked");
    assert_eq!(files_of(dir.path()), original);
    assert!(ledger.verify(&[]).unwrap().ok());
}
