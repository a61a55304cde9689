//! Torn tails: `verify` reports them and never removes them, `append`
//! refuses to write on top of one, and only `repair` removes one, and
//! only when it was never acknowledged.
//!
//! Before, opening the ledger repaired silently: it cut the files back,
//! re-indexed whole frames and recomputed hashes, so evidence could be
//! rewritten by a read.

use std::path::Path;

use gantry_ledger::committed::{CommitFile, SLOT_BYTES, SlotState};
use gantry_ledger::{Ledger, LedgerError, ProblemKind};

use crate::common::{
    append_raw, entries_of, files_of, frame, ledger_with, record, rewrite_newest_slot,
};

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
    rewrite_newest_slot(dir.path(), |c| c.size = 4);
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
    let committed = ledger.committed().unwrap();
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
    assert_eq!(ledger.committed().unwrap(), committed);
    assert!(ledger.verify(&[]).unwrap().ok());
}

/// The newest commit slot as a crash while it was written leaves it: its
/// first `cut` bytes new, the rest what the slot held before.
fn tear_newest_slot(dir: &Path, before: &[u8], cut: usize) -> Option<std::ops::Range<usize>> {
    let path = dir.join("committed");
    let mut after = std::fs::read(&path).unwrap();
    let slot = (0..2).find(|k| {
        let r = k * SLOT_BYTES..(k + 1) * SLOT_BYTES;
        after[r.clone()] != before[r]
    })?;
    let range = slot * SLOT_BYTES..(slot + 1) * SLOT_BYTES;
    let from = range.start + cut;
    after[from..range.end].copy_from_slice(&before[from..range.end]);
    std::fs::write(&path, &after).unwrap();
    Some(range)
}

/// A crash while an append overwrites its commit slot leaves that slot
/// unreadable and the other one valid: `verify` reports an unacknowledged
/// tail (the slot and the append's data) and writes nothing, `append`
/// refuses, and `repair` rewrites the slot with the acknowledged extent and
/// removes the data, after which the log appends again.
#[test]
fn a_commit_slot_torn_by_a_crash_is_a_tail_that_repair_removes() {
    let mut torn_cases = 0;
    for existing in [0usize, 3] {
        for cut in [1, 8, 16, 20, 23, 24, 31, 40, 56, 71, 72, 90, 103] {
            let dir = tempfile::tempdir().unwrap();
            let ledger = ledger_with(dir.path(), existing);
            let good = entries_of(dir.path());
            let clean = lens(dir.path());
            let before = std::fs::read(dir.path().join("committed")).unwrap();
            ledger
                .append_batch(&[&record("torn-0"), &record("torn-1")])
                .unwrap();
            let range = tear_newest_slot(dir.path(), &before, cut).unwrap();
            let slots = std::fs::read(dir.path().join("committed")).unwrap();
            if slots[range.clone()] == before[range.clone()] {
                // Only bytes equal in both were written: the slot is as it
                // was (and the data past it a plain torn tail).
                continue;
            }
            torn_cases += 1;
            let files = files_of(dir.path());
            let report = ledger.verify(&[]).unwrap();
            let what = format!("{existing} entries, cut {cut}");
            assert!(
                report.only_unacknowledged_tail(),
                "{what}: {:?}",
                report.problems
            );
            let torn = report
                .problems
                .iter()
                .find(|p| p.file == "committed")
                .unwrap_or_else(|| panic!("{what}: the slot is not reported"));
            assert_eq!(
                torn.location,
                format!(
                    "slot {} (bytes {}..{})",
                    range.start / SLOT_BYTES,
                    range.start,
                    range.end
                )
            );
            assert_eq!(files_of(dir.path()), files, "{what}: verify wrote");
            assert_eq!(entries_of(dir.path()), good, "{what}");
            let err = ledger.append(&record("next")).unwrap_err();
            assert!(
                matches!(err, LedgerError::UnacknowledgedTail { .. }),
                "{err}"
            );
            assert_eq!(files_of(dir.path()), files, "{what}: append wrote");

            let repaired = ledger.repair().unwrap();
            assert!(repaired.rewrote_torn_slot, "{what}");
            assert_eq!(repaired.unacknowledged_frames, 2, "{what}");
            assert_eq!(lens(dir.path()), clean, "{what}");
            assert!(ledger.verify(&[]).unwrap().ok(), "{what}");
            assert_eq!(entries_of(dir.path()), good, "{what}");
            assert_eq!(ledger.append(&record("next")).unwrap(), existing as u64);
            assert!(ledger.verify(&[]).unwrap().ok(), "{what}");
        }
    }
    assert!(torn_cases >= 20, "{torn_cases} torn slots checked");
}

/// An append used to write its commit record whatever the older one held;
/// with slots it would overwrite a damaged older slot and so hide the
/// damage. Now a damaged older slot is reported (not taken for a torn
/// one: nothing lies past the acknowledged entries) and `append` and
/// `repair` refuse, leaving every file as it is.
#[test]
fn a_damaged_older_slot_is_reported_and_never_written_over() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(dir.path(), 3);
    let newest = ledger.committed().unwrap();
    let path = dir.path().join("committed");
    let mut bytes = std::fs::read(&path).unwrap();
    // Sequence 3 is in slot 1, so the older record is in slot 0.
    bytes[40] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let before = files_of(dir.path());
    let report = ledger.verify(&[]).unwrap();
    assert!(!report.ok());
    assert!(!report.only_unacknowledged_tail(), "{:?}", report.problems);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.file == "committed" && p.location.starts_with("slot 0")),
        "{:?}",
        report.problems
    );
    assert_eq!(ledger.committed().unwrap(), newest);
    let err = ledger.append(&record("x")).unwrap_err();
    assert!(matches!(err, LedgerError::DamagedCommitted { .. }), "{err}");
    assert!(matches!(
        ledger.repair().unwrap_err(),
        LedgerError::RepairDamaged { .. }
    ));
    assert_eq!(files_of(dir.path()), before);
}

/// An unreadable newest slot is a torn one only when the append's whole
/// data lies past the other slot and its bytes are each the new record's
/// or the old one's; otherwise it is damage, and `repair` refuses.
#[test]
fn an_unreadable_slot_that_no_crash_can_leave_is_damage() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(dir.path(), 3);
    let before = std::fs::read(dir.path().join("committed")).unwrap();
    ledger.append(&record("torn")).unwrap();
    let range = tear_newest_slot(dir.path(), &before, 40).unwrap();
    assert!(ledger.verify(&[]).unwrap().only_unacknowledged_tail());
    let torn = std::fs::read(dir.path().join("committed")).unwrap();
    let index = std::fs::read(dir.path().join("index")).unwrap();

    type Damage<'a> = Box<dyn Fn(&Path) + 'a>;
    let cases: [(&str, Damage); 3] = [
        (
            "a byte of the magic changed",
            Box::new(|d: &Path| {
                let mut b = torn.clone();
                b[range.start + 2] ^= 0x01;
                std::fs::write(d.join("committed"), b).unwrap();
            }),
        ),
        (
            "a byte of the padding set",
            Box::new(|d: &Path| {
                let mut b = torn.clone();
                b[range.start + 300] = 7;
                std::fs::write(d.join("committed"), b).unwrap();
            }),
        ),
        (
            "the append's index record missing",
            Box::new(|d: &Path| {
                std::fs::write(d.join("index"), &index[..index.len() - 8]).unwrap();
            }),
        ),
    ];
    for (what, damage) in cases {
        damage(dir.path());
        let report = ledger.verify(&[]).unwrap();
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.file == "committed" && p.kind == gantry_ledger::ProblemKind::Damage),
            "{what}: {:?}",
            report.problems
        );
        let files = files_of(dir.path());
        assert!(ledger.repair().is_err(), "{what}");
        assert_eq!(files_of(dir.path()), files, "{what}: repair wrote");
        std::fs::write(dir.path().join("committed"), &torn).unwrap();
        std::fs::write(dir.path().join("index"), &index).unwrap();
    }
}

/// A ledger whose commit record is the v1 text (replaced atomically by
/// each append) still verifies and reads; its first append converts the
/// record to slots.
#[test]
fn a_v1_commit_record_is_read_and_converted_by_the_next_append() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(dir.path(), 3);
    ledger.checkpoint().unwrap();
    let committed = ledger.committed().unwrap();
    std::fs::write(dir.path().join("committed"), committed.to_text()).unwrap();
    assert!(ledger.verify(&[]).unwrap().ok());
    assert_eq!(ledger.committed().unwrap(), committed);
    assert_eq!(entries_of(dir.path()).len(), 3);
    let mut text = committed.to_text().into_bytes();
    text[30] ^= 0x01;
    std::fs::write(dir.path().join("committed"), &text).unwrap();
    assert!(!ledger.verify(&[]).unwrap().ok());
    std::fs::write(dir.path().join("committed"), committed.to_text()).unwrap();

    assert_eq!(ledger.append(&record("e3")).unwrap(), 3);
    let file = std::fs::read(dir.path().join("committed")).unwrap();
    assert_eq!(file.len(), 2 * SLOT_BYTES);
    assert!(ledger.verify(&[]).unwrap().ok());
    assert_eq!(entries_of(dir.path()).len(), 4);
    assert_eq!(ledger.append(&record("e4")).unwrap(), 4);
    assert!(ledger.verify(&[]).unwrap().ok());
}

/// An older record with a valid checksum that disagrees with the entries
/// (a forged one) is damage: `verify` reports it, and `append` refuses to
/// write over it, which would hide it.
#[test]
fn an_older_record_that_disagrees_with_the_entries_is_never_written_over() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(dir.path(), 3);
    let path = dir.path().join("committed");
    let mut bytes = std::fs::read(&path).unwrap();
    // Sequence 2 (two entries) is the older record, in slot 0.
    let CommitFile::Slots { slots, .. } = CommitFile::from_bytes(&bytes).unwrap() else {
        panic!("a slot file");
    };
    let SlotState::Valid(mut older) = slots[0] else {
        panic!("slot 0 is valid");
    };
    assert_eq!((older.seq, older.committed.size), (2, 2));
    older.committed.root[0] ^= 1;
    bytes[..SLOT_BYTES].copy_from_slice(&older.to_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let report = ledger.verify(&[]).unwrap();
    assert!(
        report.problems.iter().any(|p| p.file == "committed"
            && p.location.starts_with("slot 0")
            && p.kind == ProblemKind::Damage),
        "{:?}",
        report.problems
    );
    let before = files_of(dir.path());
    let err = ledger.append(&record("x")).unwrap_err();
    assert!(err.to_string().contains("disagrees"), "{err}");
    assert_eq!(files_of(dir.path()), before);
}
