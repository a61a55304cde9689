//! Exports: checkable offline, a changed byte is caught and named, and an
//! entry removed from the manifest is caught because the export's signed
//! checkpoint commits to the exported entries.

use gantry_ledger::export::{Manifest, export, verify_export};

use crate::common::{ledger_with, record_for};

#[test]
fn export_is_verifiable_offline_and_tampering_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(dir.path(), 4);
    let out = dir.path().join("export");
    let manifest = export(&ledger, "service-a", &out).unwrap();
    assert_eq!(manifest.entries.len(), 4);
    assert!(out.join("evidence/20240501/other").is_dir());
    let report = verify_export(&out, Some(&ledger.verifier().unwrap())).unwrap();
    assert!(report.ok, "{:?}", report.problems);
    // Change one byte of an entry: caught, and named.
    let entry = out.join(&manifest.entries[2].entry);
    let mut bytes = std::fs::read(&entry).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&entry, bytes).unwrap();
    let report = verify_export(&out, None).unwrap();
    assert!(!report.ok);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains(&manifest.entries[2].entry)),
        "{:?}",
        report.problems
    );
    // A non-empty folder is refused.
    assert!(export(&ledger, "service-a", &out).is_err());
}

/// Before, dropping an entry (and its files) from `manifest.json` left an
/// export that verified.
#[test]
fn an_entry_removed_from_the_manifest_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(dir.path(), 3);
    ledger.append(&record_for("b0", "service-b")).unwrap();
    ledger.append(&record_for("e4", "service-a")).unwrap();
    let out = dir.path().join("export");
    let manifest = export(&ledger, "service-a", &out).unwrap();
    assert_eq!(manifest.entries.len(), 4);
    let path = out.join("manifest.json");
    let original = std::fs::read(&path).unwrap();

    for drop in 0..manifest.entries.len() {
        let mut m: Manifest = serde_json::from_slice(&original).unwrap();
        let gone = m.entries.remove(drop);
        for rel in [&gone.envelope, &gone.entry, &gone.proof] {
            m.files.remove(rel);
            std::fs::remove_file(out.join(rel)).ok();
        }
        std::fs::write(&path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
        let report = verify_export(&out, Some(&ledger.verifier().unwrap())).unwrap();
        assert!(!report.ok, "entry {} removed: not detected", gone.index);
        assert!(
            report.problems.iter().any(|p| p.contains("were removed")),
            "{:?}",
            report.problems
        );
    }
}

/// Every single-byte change of `manifest.json` is caught (it is not in its
/// own digest list, so each field is checked against what it describes).
#[test]
fn every_changed_byte_of_the_manifest_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(dir.path(), 2);
    let out = dir.path().join("export");
    export(&ledger, "service-a", &out).unwrap();
    let verifier = ledger.verifier().unwrap();
    let path = out.join("manifest.json");
    let original = std::fs::read(&path).unwrap();
    for i in 0..original.len() {
        let mut changed = original.clone();
        changed[i] ^= 0x01;
        std::fs::write(&path, &changed).unwrap();
        let caught = match verify_export(&out, Some(&verifier)) {
            Ok(report) => !report.ok,
            Err(_) => true, // not a manifest any more
        };
        // Whitespace between JSON tokens carries nothing.
        let inert = matches!(original[i], b' ' | b'\n') && matches!(changed[i], b'!' | b'\x0b');
        if !inert {
            assert!(
                caught,
                "byte {i} ({:?} -> {:?}) not caught: {}",
                char::from(original[i]),
                char::from(changed[i]),
                String::from_utf8_lossy(
                    &original[i.saturating_sub(60)..(i + 10).min(original.len())]
                )
            );
        }
    }
}

/// A manifest naming a file outside the export (`../`, an absolute path,
/// a symbolic link) is reported, and the file is never read.
#[test]
fn a_manifest_pointing_outside_the_export_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = ledger_with(dir.path(), 1);
    let out = dir.path().join("export");
    export(&ledger, "service-a", &out).unwrap();
    let path = out.join("manifest.json");
    let original: Manifest = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let entry = original.entries[0].entry.clone();
    std::fs::copy(out.join(&entry), dir.path().join("outside.json")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("outside.json"), out.join("link.json")).unwrap();
    for target in ["../outside.json", "/etc/hostname", "link.json", "./x"] {
        let mut m = original.clone();
        m.entries[0].entry = target.to_string();
        std::fs::write(&path, serde_json::to_vec(&m).unwrap()).unwrap();
        let report = verify_export(&out, Some(&ledger.verifier().unwrap())).unwrap();
        assert!(!report.ok, "{target}");
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.contains("inside the export") || p.contains("symbolic link")),
            "{target}: {:?}",
            report.problems
        );
    }
}
