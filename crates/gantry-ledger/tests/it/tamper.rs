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

/// A FIFO or an oversized file among the ledger's files is reported (or
/// refused) without hanging or reading it whole.
#[test]
fn a_fifo_or_huge_checkpoint_is_neither_waited_on_nor_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(dir.path(), 1);
    ledger.checkpoint().unwrap();
    let huge = dir.path().join("checkpoints/7.note");
    let file = std::fs::File::create(&huge).unwrap();
    file.set_len(1 << 32).unwrap(); // sparse: 4 GiB of zeros
    let report = ledger.verify(&[]).unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.file == "checkpoints/7.note"),
        "{:?}",
        report.problems
    );
    std::fs::remove_file(&huge).unwrap();

    let fifo = dir.path().join("checkpoints/8.note");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let err = ledger.verify(&[]).unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
}

/// A FIFO in place of a data file is an error, not a hang.
#[test]
fn a_fifo_in_place_of_a_data_file_is_an_error() {
    for name in ["entries", "index", "hashes", "committed", "log.key", "lock"] {
        let dir = tempfile::tempdir().unwrap();
        ledger_with(dir.path(), 1);
        let path = dir.path().join(name);
        std::fs::remove_file(&path).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success());
        let result = Ledger::open(dir.path()).and_then(|l| l.verify(&[]));
        let failed = match result {
            Ok(report) => !report.ok(),
            Err(e) => e.to_string().contains("not a regular file"),
        };
        assert!(failed, "{name}");
    }
}

/// A ledger file that links to a `/proc` file is refused, not read.
#[cfg(target_os = "linux")]
#[test]
fn a_checkpoint_linked_to_a_proc_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(dir.path(), 1);
    ledger.checkpoint().unwrap();
    std::os::unix::fs::symlink("/proc/self/status", dir.path().join("checkpoints/9.note")).unwrap();
    let err = ledger.verify(&[]).unwrap_err();
    assert!(err.to_string().contains("system file"), "{err}");
}
