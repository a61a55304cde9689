//! Imports from files that are not what they claim: FIFOs, devices and
//! `/proc` files behind OSV names never hang or exhaust memory, and
//! records whose dates do not parse are rejected, never trusted.

use std::path::PathBuf;

use gantry_vuln::import::{self, ImportError, Options, read_source};

use crate::common::{guarded, record};

fn options() -> Options {
    Options {
        now: 1_700_000_000,
        ..Options::default()
    }
}

fn import_guarded(db: PathBuf, paths: Vec<PathBuf>) -> Result<import::Summary, ImportError> {
    guarded(move || import::import(&db, &paths, &options()))
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("all.ndjson");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let e = import_guarded(dir.path().join("db"), vec![fifo.clone()]).unwrap_err();
    assert!(e.to_string().contains("FIFO"), "{e}");
    // Inside a folder it is skipped and the rest is read.
    let folder = dir.path().join("osv");
    std::fs::create_dir(&folder).unwrap();
    nix::unistd::mkfifo(
        &folder.join("a.json"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    let good = record(
        "GHSA-1",
        &[],
        "npm",
        "x",
        serde_json::json!([{"introduced": "0"}]),
    );
    std::fs::write(folder.join("b.json"), good.to_string()).unwrap();
    let summary = import_guarded(dir.path().join("db"), vec![folder]).unwrap();
    assert_eq!(summary.added, 1);
}

#[cfg(unix)]
#[test]
fn dev_zero_through_a_link_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["all.json", "all.zip", "records.ndjson"] {
        let link = dir.path().join(name);
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let e = import_guarded(dir.path().join("db"), vec![link]).unwrap_err();
        assert!(e.to_string().contains("character device"), "{name}: {e}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn proc_files_are_refused() {
    let e = guarded(|| {
        read_source(
            std::path::Path::new("/proc/self/status"),
            &import::Limits::default(),
        )
    })
    .unwrap_err();
    assert!(e.to_string().contains("system file"), "{e}");
}

#[test]
fn a_file_over_the_limit_names_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.ndjson");
    std::fs::write(&path, "x".repeat(2048)).unwrap();
    let limits = import::Limits {
        max_entry_bytes: 1024,
        ..import::Limits::default()
    };
    let e = read_source(&path, &limits).unwrap_err();
    assert!(
        e.to_string().contains("larger than the 1024-byte limit"),
        "{e}"
    );
}

#[test]
fn unparsable_dates_reject_the_record_naming_it_and_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("osv");
    std::fs::create_dir(&folder).unwrap();
    let events = serde_json::json!([{"introduced": "0"}]);
    let mut bad_modified = record("GHSA-bad-mod", &[], "npm", "a", events.clone());
    bad_modified["modified"] = "zzzz-not-a-date".into();
    let mut bad_published = record("GHSA-bad-pub", &[], "npm", "b", events.clone());
    bad_published["published"] = "yesterday".into();
    let mut bad_withdrawn = record("GHSA-bad-wd", &[], "npm", "c", events.clone());
    bad_withdrawn["withdrawn"] = "2024-13-45T00:00:00Z".into();
    let mut no_modified = record("GHSA-no-mod", &[], "npm", "d", events.clone());
    no_modified.as_object_mut().unwrap().remove("modified");
    let good = record("GHSA-good", &[], "npm", "e", events);
    for (name, r) in [
        ("bad-mod.json", &bad_modified),
        ("bad-pub.json", &bad_published),
        ("bad-wd.json", &bad_withdrawn),
        ("no-mod.json", &no_modified),
        ("good.json", &good),
    ] {
        std::fs::write(folder.join(name), r.to_string()).unwrap();
    }
    let summary = import_guarded(dir.path().join("db"), vec![folder]).unwrap();
    assert_eq!(summary.added, 1);
    let warnings: Vec<String> = summary.warnings.iter().map(|w| w.to_string()).collect();
    let text = warnings.join("\n");
    for (file, needle) in [
        (
            "bad-mod.json",
            "record GHSA-bad-mod: `modified` \"zzzz-not-a-date\" is not an RFC 3339 date",
        ),
        (
            "bad-pub.json",
            "record GHSA-bad-pub: `published` \"yesterday\"",
        ),
        ("bad-wd.json", "record GHSA-bad-wd: `withdrawn`"),
        ("no-mod.json", "record GHSA-no-mod has no `modified` date"),
    ] {
        assert!(
            warnings
                .iter()
                .any(|w| w.contains(file) && w.contains(needle)),
            "{file}: {text}"
        );
    }
    // The same for NDJSON lines, with the line.
    let ndjson = dir.path().join("more.ndjson");
    std::fs::write(&ndjson, format!("{}\n", bad_modified)).unwrap();
    let summary = import_guarded(dir.path().join("db2"), vec![ndjson]).unwrap();
    assert_eq!(summary.added, 0);
    assert!(
        summary.warnings[0]
            .to_string()
            .contains("more.ndjson:1: record GHSA-bad-mod"),
        "{}",
        summary.warnings[0]
    );
}

#[test]
fn a_newer_copy_wins_by_time_not_by_text() {
    // `2024-05-01T00:00:00.5Z` is later than `2024-05-01T00:00:00Z` though
    // it sorts before it as text; `+01:00` an hour earlier.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let events = serde_json::json!([{"introduced": "0"}]);
    let write = |name: &str, modified: &str, summary: &str| {
        let mut r = record("GHSA-x", &[], "npm", "a", events.clone());
        r["modified"] = modified.into();
        r["summary"] = summary.into();
        let path = dir.path().join(name);
        std::fs::write(&path, r.to_string()).unwrap();
        path
    };
    let first = write("1.json", "2024-05-01T00:00:00Z", "first");
    import_guarded(db.clone(), vec![first]).unwrap();
    let later = write("2.json", "2024-05-01T00:00:00.5Z", "later");
    let s = import_guarded(db.clone(), vec![later]).unwrap();
    assert_eq!(s.updated, 1);
    let earlier = write("3.json", "2024-05-01T00:30:00+01:00", "earlier");
    let s = import_guarded(db.clone(), vec![earlier]).unwrap();
    assert_eq!((s.updated, s.unchanged), (0, 1));
    let opened = gantry_vuln::Database::open(&db).unwrap();
    let records = opened.all_records().unwrap();
    assert_eq!(records[0].summary.as_deref(), Some("later"));
}

#[cfg(unix)]
#[test]
fn a_database_file_that_is_a_device_or_fifo_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vuln");
    std::fs::create_dir(&db).unwrap();
    let file = gantry_vuln::Database::file_in(&db);
    std::os::unix::fs::symlink("/dev/zero", &file).unwrap();
    let opened = db.clone();
    let e = guarded(move || gantry_vuln::Database::open(&opened).map(|_| ())).unwrap_err();
    assert!(e.to_string().contains("character device"), "{e}");
    std::fs::remove_file(&file).unwrap();
    nix::unistd::mkfifo(&file, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let e = guarded(move || gantry_vuln::Database::open(&db).map(|_| ())).unwrap_err();
    assert!(e.to_string().contains("FIFO"), "{e}");
}
