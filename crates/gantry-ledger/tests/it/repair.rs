//! Torn tails: `verify` reports them and never removes them, `append`
//! refuses to write on top of one, and only `repair` removes one, and
//! only when it was never acknowledged.
//!
//! Before, opening the ledger repaired silently: it cut the files back,
//! re-indexed whole frames and recomputed hashes, so evidence could be
//! rewritten by a read.

use gantry_ledger::{Ledger, LedgerError, ProblemKind};

use crate::common::{append_raw, entries_of, files_of, frame, ledger_with, record};

const DATA: [&str; 3] = ["entries", "hashes", "index"];

fn lens(dir: &std::path::Path) -> Vec<u64> {
    DATA.iter()
        .map(|f| std::fs::metadata(dir.join(f)).unwrap().len())
        .collect()
}

#[test]
fn verify_reports_a_torn_tail_and_never_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(dir.path(), 5);
    let good = entries_of(dir.path());
    let torn = frame(&record("torn"));
    for cut in [1, 3, 4, 10, torn.len() - 1, torn.len()] {
        append_raw(dir.path(), "entries", &torn[..cut]);
        append_raw(dir.path(), "hashes", &[7u8; 20]);
        append_raw(dir.path(), "index", &[1, 2, 3]);
        let before = files_of(dir.path());
        let report = Ledger::open(dir.path()).unwrap().verify(&[]).unwrap();
        assert!(
            report.only_unacknowledged_tail(),
            "cut {cut}: {:?}",
            report.problems
        );
        let files: Vec<&str> = report.problems.iter().map(|p| p.file.as_str()).collect();
        assert_eq!(files, ["entries", "index", "hashes"], "cut {cut}");
        assert_eq!(files_of(dir.path()), before, "cut {cut}: verify wrote");
        assert_eq!(entries_of(dir.path()), good, "cut {cut}");
        ledger.repair().unwrap();
    }
}

#[test]
fn append_refuses_to_write_on_an_unrepaired_tail() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(dir.path(), 2);
    append_raw(dir.path(), "entries", &[0, 0]);
    let before = files_of(dir.path());
    let err = ledger.append(&record("next")).unwrap_err();
    assert!(
        matches!(err, LedgerError::UnacknowledgedTail { size: 2, bytes: 2 }),
        "{err}"
    );
    assert_eq!(files_of(dir.path()), before);
    ledger.repair().unwrap();
    assert_eq!(ledger.append(&record("next")).unwrap(), 2);
}

#[test]
fn repair_removes_only_an_unacknowledged_tail() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(dir.path(), 5);
    ledger.checkpoint().unwrap();
    let good = entries_of(dir.path());
    let root = ledger.snapshot().unwrap().root(5).unwrap();
    let clean = lens(dir.path());
    let torn = frame(&record("torn"));
    for cut in [1, 3, 4, 10, torn.len() - 1] {
        append_raw(dir.path(), "entries", &torn[..cut]);
        append_raw(dir.path(), "hashes", &[7u8; 20]);
        append_raw(dir.path(), "index", &[1, 2, 3]);
        let report = ledger.repair().unwrap();
        assert_eq!(report.entries, 5);
        assert_eq!(report.unacknowledged_frames, 0, "cut {cut}");
        assert_eq!(report.removed.len(), 3, "cut {cut}");
        assert_eq!(lens(dir.path()), clean, "cut {cut}");
        assert_eq!(entries_of(dir.path()), good);
    }

    // A whole frame, its hashes and its index record made durable, but the
    // append stopped before its commit record: it was never acknowledged.
    let entries_len = clean[0];
    append_raw(dir.path(), "entries", &torn);
    append_raw(dir.path(), "hashes", &[9u8; 32]);
    append_raw(dir.path(), "index", &entries_len.to_be_bytes());
    let report = ledger.repair().unwrap();
    assert_eq!(report.unacknowledged_frames, 1);
    assert_eq!(lens(dir.path()), clean);
    assert_eq!(entries_of(dir.path()), good);
    assert_eq!(ledger.snapshot().unwrap().root(5).unwrap(), root);
    assert!(ledger.verify(&[]).unwrap().ok());

    // Nothing left to remove: nothing changes.
    let before = files_of(dir.path());
    assert!(ledger.repair().unwrap().removed.is_empty());
    assert_eq!(files_of(dir.path()), before);
}

#[test]
fn repair_refuses_to_drop_an_acknowledged_entry() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(dir.path(), 5);
    ledger.checkpoint().unwrap();
    let index = std::fs::read(dir.path().join("index")).unwrap();
    let entry3 = u64::from_be_bytes(index[24..32].try_into().unwrap());

    // Acknowledged bytes cut off: entry 3 is named and nothing is touched.
    let entries = std::fs::read(dir.path().join("entries")).unwrap();
    std::fs::write(
        dir.path().join("entries"),
        &entries[..usize::try_from(entry3).unwrap() + 10],
    )
    .unwrap();
    let before = files_of(dir.path());
    let err = ledger.repair().unwrap_err();
    assert!(
        matches!(err, LedgerError::RepairRefused { entry: 3, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("entry 3"), "{err}");
    assert_eq!(files_of(dir.path()), before);
    let report = ledger.verify(&[]).unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.kind == ProblemKind::Damage && p.entry == Some(3)),
        "{:?}",
        report.problems
    );
    std::fs::write(dir.path().join("entries"), &entries).unwrap();

    // The commit record changed to count one entry fewer: the checkpoint
    // covers entry 4, so it was acknowledged and is not dropped.
    let committed = std::fs::read_to_string(dir.path().join("committed")).unwrap();
    std::fs::write(
        dir.path().join("committed"),
        committed.replace("size 5", "size 4"),
    )
    .unwrap();
    let before = files_of(dir.path());
    let err = ledger.repair().unwrap_err();
    assert!(
        matches!(err, LedgerError::RepairRefused { entry: 4, .. }),
        "{err}"
    );
    assert_eq!(files_of(dir.path()), before);

    // Without a checkpoint, the commit record's root still gives it away.
    std::fs::remove_dir_all(dir.path().join("checkpoints")).unwrap();
    std::fs::create_dir(dir.path().join("checkpoints")).unwrap();
    std::fs::remove_file(dir.path().join("checkpoint")).unwrap();
    let before = files_of(dir.path());
    let err = ledger.repair().unwrap_err();
    assert!(matches!(err, LedgerError::RepairDamaged { .. }), "{err}");
    assert_eq!(files_of(dir.path()), before);
}

/// A ledger from before the commit record existed is adopted by `repair`
/// only when its files agree exactly; with anything past the index it is
/// refused, since an acknowledged entry could not be told from a torn one.
#[test]
fn repair_adopts_a_ledger_without_a_commit_record_only_when_it_is_whole() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(dir.path(), 3);
    ledger.checkpoint().unwrap();
    let committed = std::fs::read(dir.path().join("committed")).unwrap();
    std::fs::remove_file(dir.path().join("committed")).unwrap();
    assert!(ledger.append(&record("x")).is_err());

    append_raw(dir.path(), "entries", &[0, 0, 0]);
    let before = files_of(dir.path());
    let err = ledger.repair().unwrap_err();
    assert!(matches!(err, LedgerError::RepairDamaged { .. }), "{err}");
    assert_eq!(files_of(dir.path()), before);

    let entries = std::fs::read(dir.path().join("entries")).unwrap();
    std::fs::write(dir.path().join("entries"), &entries[..entries.len() - 3]).unwrap();
    let report = ledger.repair().unwrap();
    assert!(report.wrote_commit_record);
    assert_eq!(report.entries, 3);
    assert_eq!(
        std::fs::read(dir.path().join("committed")).unwrap(),
        committed
    );
    assert!(ledger.verify(&[]).unwrap().ok());
}
