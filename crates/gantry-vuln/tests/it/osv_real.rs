//! Matching on the real advisories in `../shared/testdata/osv/` (RustSec,
//! Go, PyPA): deliberately old versions are found, fixed ones are not,
//! and the database import is idempotent and atomic.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use gantry_sbom::{Component, Ecosystem, Location};
use gantry_vuln::import::{self, Options};
use gantry_vuln::{Database, FindingKind, Level, Report, scan};

/// The shared OSV data: missing fails under `CI=true`, skips elsewhere.
fn osv_data() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/osv");
    if path.join("crates").is_dir() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{} is missing (required under CI=true)", path.display());
    }
    eprintln!("skipped: {} is missing", path.display());
    None
}

struct Imported {
    _dir: tempfile::TempDir,
    db: Database,
    summary: import::Summary,
}

/// All of the real data, imported once for the whole test binary.
fn real_db() -> Option<&'static Imported> {
    static DB: OnceLock<Option<Imported>> = OnceLock::new();
    DB.get_or_init(|| {
        let data = osv_data()?;
        let dir = tempfile::tempdir().unwrap();
        let sources: Vec<PathBuf> = ["crates", "Go", "PyPI"]
            .iter()
            .map(|s| data.join(s))
            .collect();
        let summary = import::import(dir.path(), &sources, &Options::default()).unwrap();
        let db = Database::open(dir.path()).unwrap();
        Some(Imported {
            _dir: dir,
            db,
            summary,
        })
    })
    .as_ref()
}

fn component(e: Ecosystem, name: &str, version: &str) -> Component {
    Component::new(
        e,
        name,
        Some(version),
        Location {
            file: "lockfile".into(),
            line: 1,
        },
    )
}

fn scan_one(db: &Database, e: Ecosystem, name: &str, version: &str) -> Report {
    scan(db, &[component(e, name, version)])
}

fn ids(report: &Report) -> Vec<String> {
    let mut ids: Vec<String> = report.findings.iter().map(|f| f.id().to_string()).collect();
    ids.sort();
    ids
}

#[test]
fn imports_every_record() {
    let Some(imported) = real_db() else { return };
    let meta = imported.db.meta();
    assert!(meta.records > 8000, "{}", meta.records);
    assert_eq!(meta.per_ecosystem["crates.io"], 1206);
    assert!(meta.per_ecosystem["Go"] >= 4000);
    assert!(meta.per_ecosystem["PyPI"] >= 2600);
    assert!(meta.withdrawn > 0);
    assert!(meta.newest_modified.as_deref().unwrap() >= "2026-08-01");
    assert!(
        imported.summary.warnings.is_empty(),
        "{:#?}",
        &imported.summary.warnings[..imported.summary.warnings.len().min(5)]
    );
    assert_eq!(meta.sources.len(), 3);
}

#[test]
fn rust_crates_old_versions_are_found_and_fixed_ones_are_not() {
    let Some(i) = real_db() else { return };
    let r = scan_one(&i.db, Ecosystem::Cargo, "smallvec", "0.6.9");
    assert_eq!(
        ids(&r),
        [
            "RUSTSEC-2019-0009",
            "RUSTSEC-2019-0012",
            "RUSTSEC-2021-0003"
        ]
    );
    let f = r
        .findings
        .iter()
        .find(|f| f.id() == "RUSTSEC-2019-0009")
        .unwrap();
    assert_eq!(f.severity.level, Level::Critical);
    assert_eq!(f.severity.score, Some(9.8));
    assert_eq!(f.fixed.as_deref(), Some("0.6.10"));
    assert!(f.ids.contains(&"CVE-2019-15551".to_string()));
    let f = r
        .findings
        .iter()
        .find(|f| f.id() == "RUSTSEC-2021-0003")
        .unwrap();
    assert_eq!(
        f.fixed.as_deref(),
        Some("0.6.14"),
        "smallest fix above 0.6.9"
    );
    // RustSec's unsound advisory is reported apart.
    assert_eq!(r.informational.len(), 1);
    assert_eq!(r.informational[0].id(), "RUSTSEC-2018-0018");
    assert_eq!(
        r.informational[0].kind,
        FindingKind::Informational("unsound".into())
    );
    // The 1.x line: only 2021-0003 until 1.6.1.
    assert_eq!(
        ids(&scan_one(&i.db, Ecosystem::Cargo, "smallvec", "1.6.0")),
        ["RUSTSEC-2021-0003"]
    );
    assert!(
        scan_one(&i.db, Ecosystem::Cargo, "smallvec", "1.6.1")
            .findings
            .is_empty()
    );
    assert_eq!(
        ids(&scan_one(&i.db, Ecosystem::Cargo, "regex", "1.5.4")),
        ["RUSTSEC-2022-0013"]
    );
    assert!(
        scan_one(&i.db, Ecosystem::Cargo, "regex", "1.5.5")
            .findings
            .is_empty()
    );
}

#[test]
fn pre_release_windows_of_real_ranges() {
    let Some(i) = real_db() else { return };
    // RUSTSEC-2020-0071 (time): fixed 0.2.0, re-introduced at 0.2.1-0 ...
    // fixed 0.2.23.
    for (version, affected) in [
        ("0.1.43", true),
        ("0.2.0", false),
        ("0.2.1-alpha.1", true),
        ("0.2.1", false),
        ("0.2.7", true),
        ("0.2.22", true),
        ("0.2.23", false),
        ("0.3.17", false),
    ] {
        let got = ids(&scan_one(&i.db, Ecosystem::Cargo, "time", version));
        assert_eq!(
            got.contains(&"RUSTSEC-2020-0071".to_string()),
            affected,
            "time {version}: {got:?}"
        );
    }
    // PYSEC-2020-176 (PyYAML) is fixed in a beta: 5.2b1.
    let r = scan_one(&i.db, Ecosystem::PyPI, "PyYAML", "5.1");
    assert_eq!(
        ids(&r),
        ["PYSEC-2020-176", "PYSEC-2020-96", "PYSEC-2021-142"]
    );
    let f = r
        .findings
        .iter()
        .find(|f| f.id() == "PYSEC-2020-176")
        .unwrap();
    assert_eq!(f.fixed.as_deref(), Some("5.2b1"));
    let r = scan_one(&i.db, Ecosystem::PyPI, "pyyaml", "5.2b1");
    assert!(!ids(&r).contains(&"PYSEC-2020-176".to_string()));
    assert!(ids(&r).contains(&"PYSEC-2020-96".to_string()));
    assert!(
        ids(&scan_one(&i.db, Ecosystem::PyPI, "pyyaml", "5.2a1"))
            .contains(&"PYSEC-2020-176".to_string())
    );
    assert!(
        scan_one(&i.db, Ecosystem::PyPI, "pyyaml", "5.4")
            .findings
            .is_empty()
    );
}

#[test]
fn last_affected_is_inclusive() {
    let Some(i) = real_db() else { return };
    // PYSEC-2022-42969: py, introduced 0, last_affected 1.11.0.
    for (version, affected) in [
        ("1.11.0", true),
        ("1.10.0", true),
        ("1.11.1", false),
        ("2.0", false),
    ] {
        let got = ids(&scan_one(&i.db, Ecosystem::PyPI, "py", version));
        assert_eq!(
            got.contains(&"PYSEC-2022-42969".to_string()),
            affected,
            "py {version}: {got:?}"
        );
    }
    let f = &scan_one(&i.db, Ecosystem::PyPI, "py", "1.11.0").findings[0];
    assert_eq!(f.fixed, None, "no fixed version is known");
}

#[test]
fn pypi_names_are_normalised_on_both_sides() {
    let Some(i) = real_db() else { return };
    // The record says `jw.util`; requirements may say any spelling.
    for name in ["jw.util", "JW_Util", "jw-util", "Jw..Util"] {
        assert_eq!(
            ids(&scan_one(&i.db, Ecosystem::PyPI, name, "1.5.4")),
            ["PYSEC-2020-341"],
            "{name}"
        );
    }
    assert!(
        scan_one(&i.db, Ecosystem::PyPI, "jw_util", "2.3")
            .findings
            .is_empty()
    );
    // A version the ecosystem order cannot read still matches the
    // record's `versions` list exactly.
    assert_eq!(
        ids(&scan_one(&i.db, Ecosystem::PyPI, "jw.util", "1.0a")),
        ["PYSEC-2020-341"]
    );
}

#[test]
fn go_pseudo_versions_and_the_standard_library() {
    let Some(i) = real_db() else { return };
    // GO-2020-0004: introduced and fixed at pseudo-versions.
    let name = "github.com/nanobox-io/golang-nanoauth";
    for (version, affected) in [
        ("v0.0.0-20150101000000-aaaaaaaaaaaa", false),
        ("v0.0.0-20160722212129-ac0cc4484ad4", true),
        ("v0.0.0-20190101000000-bbbbbbbbbbbb", true),
        ("v0.0.0-20200131131040-063a3fb69896", false),
    ] {
        let got = ids(&scan_one(&i.db, Ecosystem::Go, name, version));
        assert_eq!(
            got.contains(&"GO-2020-0004".to_string()),
            affected,
            "{version}: {got:?}"
        );
    }
    // GO-2020-0006: fixed at a pseudo-version of v1.0.4.
    assert!(
        ids(&scan_one(
            &i.db,
            Ecosystem::Go,
            "github.com/miekg/dns",
            "v1.0.3"
        ))
        .contains(&"GO-2020-0006".to_string())
    );
    assert!(
        !ids(&scan_one(
            &i.db,
            Ecosystem::Go,
            "github.com/miekg/dns",
            "v1.0.4-0.20180125103619-43913f2f4fbd"
        ))
        .contains(&"GO-2020-0006".to_string())
    );
    assert!(
        !ids(&scan_one(
            &i.db,
            Ecosystem::Go,
            "github.com/miekg/dns",
            "v1.0.4"
        ))
        .contains(&"GO-2020-0006".to_string())
    );
    let text = scan_one(&i.db, Ecosystem::Go, "golang.org/x/text", "v0.3.5");
    assert!(
        ids(&text).contains(&"GO-2021-0113".to_string()),
        "{:?}",
        ids(&text)
    );
    let f = text
        .findings
        .iter()
        .find(|f| f.id() == "GO-2021-0113")
        .unwrap();
    assert_eq!(f.fixed.as_deref(), Some("0.3.7"));
    assert!(
        scan_one(&i.db, Ecosystem::Go, "golang.org/x/text", "v0.39.0")
            .findings
            .is_empty()
    );
    // `+incompatible` is ignored for ordering.
    let ugorji = scan_one(
        &i.db,
        Ecosystem::Go,
        "github.com/ugorji/go",
        "v1.1.4+incompatible",
    );
    assert!(ugorji.warnings.is_empty(), "{:?}", ugorji.warnings);
    // The standard library: go1.20.4 has GO-2023-1840, fixed in 1.20.5.
    let std = scan_one(&i.db, Ecosystem::Go, "stdlib", "v1.20.4");
    assert!(ids(&std).contains(&"GO-2023-1840".to_string()));
    assert!(
        !ids(&scan_one(&i.db, Ecosystem::Go, "stdlib", "v1.20.5"))
            .contains(&"GO-2023-1840".to_string())
    );
}

#[test]
fn withdrawn_records_are_skipped() {
    let Some(i) = real_db() else { return };
    // RUSTSEC-2020-0053 (dirs, every version) was withdrawn.
    let r = scan_one(&i.db, Ecosystem::Cargo, "dirs", "1.0.0");
    assert!(!ids(&r).contains(&"RUSTSEC-2020-0053".to_string()));
    assert!(
        r.informational
            .iter()
            .all(|f| f.id() != "RUSTSEC-2020-0053")
    );
}

#[test]
fn unmaintained_crates_are_informational() {
    let Some(i) = real_db() else { return };
    let r = scan_one(&i.db, Ecosystem::Cargo, "libusb", "0.3.0");
    assert!(r.findings.is_empty());
    assert_eq!(r.informational[0].id(), "RUSTSEC-2016-0004");
    assert_eq!(
        r.informational[0].kind,
        FindingKind::Informational("unmaintained".into())
    );
}

#[test]
fn every_real_cvss_vector_scores_as_the_reference_library() {
    let text = include_str!("../fixtures/cvss-reference.txt");
    let mut checked = 0;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (vector, score) = line.rsplit_once(' ').unwrap();
        let want: f64 = score.parse().unwrap();
        assert_eq!(
            gantry_vuln::severity::cvss_score(vector),
            Some(want),
            "{vector}"
        );
        checked += 1;
    }
    assert!(checked > 100);
}

#[test]
fn scores_cvss_v4_from_real_records() {
    let Some(i) = real_db() else { return };
    // RUSTSEC-2024-0445 carries only a CVSS 4.0 vector.
    let r = scan_one(&i.db, Ecosystem::Cargo, "cap-primitives", "3.4.0");
    let f = r
        .findings
        .iter()
        .find(|f| f.id() == "RUSTSEC-2024-0445")
        .unwrap();
    assert!(
        f.severity
            .vector
            .as_deref()
            .unwrap()
            .starts_with("CVSS:4.0/")
    );
    assert_eq!(f.severity.score, Some(2.3));
    assert_eq!(f.severity.level, Level::Low);
}

#[test]
fn reimport_is_idempotent_and_failed_imports_change_nothing() {
    let Some(data) = osv_data() else { return };
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        now: 1_800_000_000,
        ..Options::default()
    };
    let crates = data.join("crates");
    let first = import::import(dir.path(), std::slice::from_ref(&crates), &options).unwrap();
    assert_eq!(first.added, 1206);
    let path = Database::file_in(dir.path());
    let before = std::fs::read(&path).unwrap();
    let second = import::import(dir.path(), std::slice::from_ref(&crates), &options).unwrap();
    assert_eq!(
        (second.added, second.updated, second.unchanged),
        (0, 0, 1206)
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "byte-identical after re-import"
    );
    // A missing source fails before anything is written.
    let err = import::import(
        dir.path(),
        &[data.join("Go"), dir.path().join("nope")],
        &options,
    )
    .unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // A damaged database is reported, not silently replaced.
    std::fs::write(&path, &before[..before.len() / 2]).unwrap();
    let err = import::import(dir.path(), &[crates], &options).unwrap_err();
    assert!(err.to_string().contains("damaged"), "{err}");
}
