//! `audit_files`, the one call behind `gantry audit`: unreadable files are
//! reported as `validate` reports them, fixes are computed but never
//! written, and the severity floor applies.

use gantry_audit::{AuditOptions, Config, Severity, audit_files};
use gantry_workflow::check::FileToCheck;

fn file(dir: &std::path::Path, name: &str, text: &[u8]) -> FileToCheck {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    FileToCheck {
        path,
        name: name.into(),
    }
}

const UNFIXED: &str =
    "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n";

#[test]
fn invalid_utf8_is_reported_with_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let files = [file(dir.path(), "bad.yml", b"on: push\n\xff\n")];
    let report = audit_files(&files, &Config::default(), &AuditOptions::default());
    assert!(report.files.is_empty());
    assert_eq!(
        report.invalid[0].diagnostics[0].message,
        "the file is not UTF-8 text (invalid byte at offset 9)"
    );
}

#[test]
fn fixes_are_computed_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let files = [file(dir.path(), "ci.yml", UNFIXED.as_bytes())];
    let plain = audit_files(&files, &Config::default(), &AuditOptions::default());
    let before = plain.findings();
    assert!(before > 0 && plain.files[0].fixed.is_none());

    let dry = AuditOptions {
        fix: true,
        dry_run: true,
        ..AuditOptions::default()
    };
    let report = audit_files(&files, &Config::default(), &dry);
    assert_eq!(report.findings(), before);
    let fixed = report.files[0].fixed.clone().unwrap();
    assert!(fixed.contains("timeout-minutes: 30"), "{fixed}");

    let fix = AuditOptions {
        dry_run: false,
        ..dry
    };
    let report = audit_files(&files, &Config::default(), &fix);
    assert!(report.findings() < before);
    assert_eq!(report.files[0].source.text(), fixed);
    assert_eq!(std::fs::read_to_string(&files[0].path).unwrap(), UNFIXED);

    let high = AuditOptions {
        min_severity: Severity::High,
        ..AuditOptions::default()
    };
    let report = audit_files(&files, &Config::default(), &high);
    assert!(
        report.files[0]
            .findings
            .iter()
            .all(|f| f.severity >= Severity::High)
    );
}
