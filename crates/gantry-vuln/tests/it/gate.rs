//! The whole scan as `gantry scan` runs it ([`gantry_vuln::check`]):
//! unknown severity ranked high for the gate, the ignore file, the data
//! age, and inputs that are not regular files.

use std::path::{Path, PathBuf};

use gantry_sbom::DiscoverOptions;
use gantry_vuln::import::{self, Options};
use gantry_vuln::{CheckError, Database, FailOn, Level, Policy, Request, check};

use crate::common::guarded;

const NOW: i64 = 1_714_521_600; // 2024-05-01

/// A project with a Cargo.lock using `left` (a vulnerability without any
/// severity) and `right` (a CVSS 9.8 one), and the database.
fn project() -> (tempfile::TempDir, PathBuf, Database) {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(
        project.join("Cargo.lock"),
        "version = 4\n\n[[package]]\nname = \"left\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"right\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    )
    .unwrap();
    let unscored = serde_json::json!({
        "id": "RUSTSEC-2024-0001", "modified": "2024-04-30T00:00:00Z",
        "affected": [{"package": {"ecosystem": "crates.io", "name": "left"},
                      "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.1"}]}]}]
    });
    let critical = serde_json::json!({
        "id": "RUSTSEC-2024-0002", "modified": "2024-04-30T00:00:00Z",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [{"package": {"ecosystem": "crates.io", "name": "right"},
                      "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.1"}]}]}]
    });
    let data = dir.path().join("osv.ndjson");
    std::fs::write(&data, format!("{unscored}\n{critical}\n")).unwrap();
    let db_dir = dir.path().join("db");
    import::import(
        &db_dir,
        &[data],
        &Options {
            now: NOW,
            ..Options::default()
        },
    )
    .unwrap();
    let db = Database::open(&db_dir).unwrap();
    (dir, project, db)
}

fn request(path: &Path, policy: Policy) -> Request {
    Request {
        path: path.to_path_buf(),
        root: path.to_path_buf(),
        ignore_file: None,
        discover: DiscoverOptions::default(),
        policy,
        now: NOW,
        platform: None,
    }
}

fn failing(outcome: &gantry_vuln::Outcome) -> Vec<&str> {
    outcome.gate.failing.iter().map(|f| f.id()).collect()
}

#[test]
fn unknown_severity_ranks_high_for_the_gate() {
    let (_dir, project, db) = project();
    let policy = Policy::default();
    let outcome = check(&db, &request(&project, policy)).unwrap();
    // Shown as unknown.
    let left = outcome
        .report
        .findings
        .iter()
        .find(|f| f.package == "left")
        .unwrap();
    assert_eq!(left.severity.level, Level::Unknown);
    // The default critical gate fails on the critical one and warns on
    // the unknown one.
    assert_eq!(failing(&outcome), ["RUSTSEC-2024-0002"]);
    let below: Vec<&str> = outcome.gate.below.iter().map(|f| f.id()).collect();
    assert_eq!(below, ["RUSTSEC-2024-0001"]);
    // --fail-on high fails on it.
    let high = Policy {
        fail_on: FailOn::High,
        ..policy
    };
    let outcome = check(&db, &request(&project, high)).unwrap();
    assert!(failing(&outcome).contains(&"RUSTSEC-2024-0001"));
    let doc = serde_json::to_value(outcome.document()).unwrap();
    assert_eq!(doc["gate"]["unknown_severity"], "high");
    assert_eq!(doc["summary"]["unknown"], 1);
    assert_eq!(doc["version"], 1);
    // --unknown-severity low lets it through a high gate, without a warning.
    let lenient = Policy {
        fail_on: FailOn::High,
        unknown_severity: Level::Low,
        ..policy
    };
    let outcome = check(&db, &request(&project, lenient)).unwrap();
    assert!(!failing(&outcome).contains(&"RUSTSEC-2024-0001"));
    assert!(outcome.gate.below.is_empty());
}

#[test]
fn ignores_and_data_age_are_decided_by_the_library() {
    let (_dir, project, db) = project();
    std::fs::create_dir(project.join(".gantry")).unwrap();
    std::fs::write(
        project.join(".gantry/ignore.yml"),
        "ignore:\n  - id: RUSTSEC-2024-0002\n    reason: not reachable\n    expires: 2030-01-01\n  - id: RUSTSEC-1999-0001\n    reason: old\n    expires: 2030-01-01\n",
    )
    .unwrap();
    let mut req = request(&project, Policy::default());
    let outcome = check(&db, &req).unwrap();
    assert!(!outcome.gate.failed);
    let ignores = outcome.ignores.as_ref().unwrap();
    assert_eq!(ignores.applied.ignored.len(), 1);
    assert_eq!(ignores.applied.unused[0].id, "RUSTSEC-1999-0001");
    assert!(outcome.stale.is_none());
    // 60 days later: the data is stale.
    req.now = NOW + 60 * 86_400;
    let outcome = check(&db, &req).unwrap();
    let stale = outcome.stale.unwrap();
    assert_eq!((stale.days, stale.max_days), (61, 30));
    // An expired ignore fails the gate.
    req.now = 1_900_000_000;
    let outcome = check(&db, &req).unwrap();
    assert!(outcome.gate.failed);
    assert_eq!(outcome.gate.expired[0].id, "RUSTSEC-2024-0002");
}

#[cfg(unix)]
#[test]
fn an_sbom_or_ignore_file_that_is_not_a_regular_file_is_refused() {
    let (dir, project, db) = project();
    let bom = dir.path().join("bom.json");
    std::os::unix::fs::symlink("/dev/zero", &bom).unwrap();
    let req = request(&bom, Policy::default());
    let db2 = db.clone();
    let e = guarded(move || check(&db2, &req).map(|_| ())).unwrap_err();
    assert!(matches!(e, CheckError::Inventory(_)), "{e}");
    let fifo = dir.path().join("ignore.yml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let mut req = request(&project, Policy::default());
    req.ignore_file = Some(fifo);
    let e = guarded(move || check(&db, &req).map(|_| ())).unwrap_err();
    assert!(e.to_string().contains("FIFO"), "{e}");
}
