//! Imports from hostile or unusual sources, alias merging, `GIT` ranges
//! beside others, and SARIF valid by its schema.

use std::path::{Path, PathBuf};

use gantry_sbom::{Component, Ecosystem, Location};
use gantry_vuln::import::{self, Limits, Options};
use gantry_vuln::{Database, scan};

use crate::common::{record, zip_with};

fn at() -> Location {
    Location {
        file: "requirements.txt".into(),
        line: 3,
    }
}

#[test]
fn imports_all_zip_exports_and_refuses_unsafe_entries() {
    let dir = tempfile::tempdir().unwrap();
    let good = serde_json::to_vec(&record(
        "PYSEC-1",
        &[],
        "PyPI",
        "flask",
        serde_json::json!([{"introduced": "0"}, {"fixed": "2.0"}]),
    ))
    .unwrap();
    let zip_path = dir.path().join("all.zip");
    zip_with(
        &zip_path,
        &[
            ("PYSEC-1.json", good.clone()),
            ("../../escape.json", good.clone()),
            ("/abs.json", good.clone()),
            ("broken.json", b"{\"id\": ".to_vec()),
            ("README.txt", b"not a record".to_vec()),
        ],
    );
    let read = import::read_source(&zip_path, &Limits::default()).unwrap();
    assert_eq!(read.kind, "zip");
    assert_eq!(read.records.len(), 1);
    let messages: Vec<String> = read.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), 3, "{messages:#?}");
    assert!(
        messages
            .iter()
            .filter(|m| m.contains("unsafe entry name"))
            .count()
            == 2
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("broken.json:1: not an OSV record"))
    );
    // Nothing was written next to the archive.
    assert!(!dir.path().join("escape.json").exists());
}

#[test]
fn zip_bombs_stop_at_the_limits() {
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("bomb.zip");
    // 32 MiB of spaces compress to a few tens of kilobytes.
    let mut big = b"{\"id\": \"X\", \"details\": \"".to_vec();
    big.extend(std::iter::repeat_n(b' ', 32 * 1024 * 1024));
    big.extend_from_slice(b"\"}");
    zip_with(&zip_path, &[("a.json", big.clone()), ("b.json", big)]);
    assert!(std::fs::metadata(&zip_path).unwrap().len() < 1024 * 1024);
    let limits = Limits {
        max_entry_bytes: 1024 * 1024,
        ..Limits::default()
    };
    let read = import::read_source(&zip_path, &limits).unwrap();
    assert!(read.records.is_empty());
    assert_eq!(read.warnings.len(), 2);
    assert!(
        read.warnings[0].message.contains("limit"),
        "{}",
        read.warnings[0]
    );
    // A total cap fails the whole import and leaves the database alone.
    let db_dir = dir.path().join("db");
    let limits = Limits {
        max_total_bytes: 40 * 1024 * 1024,
        ..Limits::default()
    };
    let err = import::import(
        &db_dir,
        &[zip_path],
        &Options {
            limits,
            ..Options::default()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("total limit"), "{err}");
    assert!(!Database::file_in(&db_dir).exists());
}

#[test]
fn newline_delimited_json_with_a_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("osv.ndjson");
    let a = serde_json::to_string(&record(
        "GHSA-aaaa",
        &["CVE-1"],
        "npm",
        "lodash",
        serde_json::json!([{"introduced": "0"}, {"fixed": "4.17.21"}]),
    ))
    .unwrap();
    std::fs::write(&path, format!("{a}\n\nnot json\n{{\"id\": \"\"}}\n")).unwrap();
    let read = import::read_source(&path, &Limits::default()).unwrap();
    assert_eq!(read.kind, "ndjson");
    assert_eq!(read.records.len(), 1);
    let lines: Vec<Option<usize>> = read.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, [Some(3), Some(4)]);
}

#[test]
fn aliases_merge_into_one_finding_with_every_id() {
    let records = vec![
        serde_json::from_value(record("RUSTSEC-2022-0013", &["CVE-2022-24713", "GHSA-m5pq-gvj9-9vr8"], "crates.io", "regex", serde_json::json!([{"introduced": "0.0.0-0"}, {"fixed": "1.5.5"}]))).unwrap(),
        serde_json::from_value(serde_json::json!({
            "id": "GHSA-m5pq-gvj9-9vr8", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2022-24713"],
            "database_specific": {"severity": "HIGH"},
            "affected": [{"package": {"ecosystem": "crates.io", "name": "regex"},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.5.5"}]}]}]
        })).unwrap(),
    ];
    let db = Database::from_records(records);
    let c = Component::new(Ecosystem::Cargo, "regex", Some("1.5.4"), at());
    let report = scan(&db, &[c]);
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
    assert_eq!(
        report.findings[0].ids,
        ["RUSTSEC-2022-0013", "CVE-2022-24713", "GHSA-m5pq-gvj9-9vr8"]
    );
    assert_eq!(report.findings[0].severity.level, gantry_vuln::Level::High);
}

#[test]
fn a_git_range_does_not_hide_the_other_ranges() {
    let r: gantry_vuln::osv::Record = serde_json::from_value(serde_json::json!({
        "id": "PYSEC-9", "modified": "2024-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "PyPI", "name": "Some_Pkg"},
            "ranges": [
                {"type": "GIT", "repo": "https://example.com/repo", "events": [{"introduced": "0"}, {"fixed": "abc123"}]},
                {"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"fixed": "1.4.2"}]}
            ]}]
    }))
    .unwrap();
    let db = Database::from_records(vec![r]);
    let hit = scan(
        &db,
        &[Component::new(
            Ecosystem::PyPI,
            "some-pkg",
            Some("1.4.1"),
            at(),
        )],
    );
    assert_eq!(hit.findings.len(), 1);
    assert_eq!(hit.findings[0].fixed.as_deref(), Some("1.4.2"));
    assert!(hit.warnings.is_empty(), "{:?}", hit.warnings);
    let miss = scan(
        &db,
        &[Component::new(
            Ecosystem::PyPI,
            "some.pkg",
            Some("1.4.2"),
            at(),
        )],
    );
    assert!(miss.findings.is_empty());
}

/// The SARIF schema from shared/testdata: missing fails under CI only.
fn sarif_schema() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/schemas/sarif-schema-2.1.0.json");
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "{} is missing",
        path.display()
    );
    eprintln!("skipped: {} is missing", path.display());
    None
}

#[test]
fn sarif_is_valid_by_the_schema() {
    let Some(schema_path) = sarif_schema() else {
        return;
    };
    let records = vec![
        serde_json::from_value(serde_json::json!({
            "id": "RUSTSEC-2019-0009", "modified": "2023-06-13T13:10:24Z", "aliases": ["CVE-2019-15551"],
            "summary": "Double-free and use-after-free in SmallVec::grow()",
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected": [{"package": {"ecosystem": "crates.io", "name": "smallvec"},
                          "ranges": [{"type": "SEMVER", "events": [{"introduced": "0.6.5"}, {"fixed": "0.6.10"}]}]}],
            "references": [{"type": "ADVISORY", "url": "https://rustsec.org/advisories/RUSTSEC-2019-0009.html"}]
        })).unwrap(),
        serde_json::from_value(serde_json::json!({
            "id": "RUSTSEC-2018-0018", "modified": "2023-06-13T13:10:24Z",
            "summary": "smallvec creates uninitialized value of any type",
            "affected": [{"package": {"ecosystem": "crates.io", "name": "smallvec"},
                          "database_specific": {"informational": "unsound"},
                          "ranges": [{"type": "SEMVER", "events": [{"introduced": "0.0.0-0"}, {"fixed": "0.6.13"}]}]}]
        })).unwrap(),
    ];
    let db = Database::from_records(records);
    let report = scan(
        &db,
        &[Component::new(
            Ecosystem::Cargo,
            "smallvec",
            Some("0.6.9"),
            Location {
                file: "Cargo.lock".into(),
                line: 53,
            },
        )],
    );
    let sarif = serde_json::to_value(gantry_vuln::sarif::write(&report, "0.1.0")).unwrap();
    let mut schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    // The published schema's `language` patterns have a stray `]` that
    // the meta-schema's `regex` format rejects; gantry never writes
    // `language`, so those patterns are dropped rather than format checks.
    fn drop_bad_patterns(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                if map.get("pattern").and_then(|p| p.as_str())
                    == Some("^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$")
                {
                    map.remove("pattern");
                }
                map.values_mut().for_each(drop_bad_patterns);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(drop_bad_patterns),
            _ => {}
        }
    }
    drop_bad_patterns(&mut schema);
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["ruleId"], "RUSTSEC-2019-0009");
    assert_eq!(results[0]["level"], "error");
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        53
    );
    assert_eq!(results[1]["level"], "note");
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(
        rules
            .iter()
            .any(|r| r["properties"]["security-severity"] == "9.8")
    );
    // The schema really checks: a bad level is an error.
    let mut bad = sarif.clone();
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(validator.iter_errors(&bad).next().is_some());
}

/// A folder of advisories beside other JSON and YAML files (a clone of an
/// advisory repository with its CI configuration and manifests): the other
/// files are skipped without a warning and counted; a broken advisory
/// still warns.
#[test]
fn folder_import_skips_files_that_are_not_advisories_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("advisories");
    std::fs::create_dir_all(data.join(".github/workflows")).unwrap();
    std::fs::create_dir_all(data.join("crates/foo")).unwrap();
    let good = serde_json::to_vec(&record(
        "RUSTSEC-2024-0001",
        &[],
        "crates.io",
        "foo",
        serde_json::json!([{"introduced": "0"}, {"fixed": "1.0.0"}]),
    ))
    .unwrap();
    std::fs::write(data.join("crates/foo/RUSTSEC-2024-0001.json"), good).unwrap();
    std::fs::write(
        data.join(".github/workflows/ci.yml"),
        "on: push\njobs: {}\n",
    )
    .unwrap();
    std::fs::write(data.join("package.json"), "{\"name\": \"tools\"}").unwrap();
    std::fs::write(data.join("tsconfig.json"), "{ // comments\n}").unwrap();
    std::fs::write(
        data.join("crates/foo/RUSTSEC-2024-0002.json"),
        "{\"id\": \"RUSTSEC-2024-0002\", \"affected\": []}",
    )
    .unwrap();
    let summary = import::import(
        &dir.path().join("db"),
        std::slice::from_ref(&data),
        &Options::default(),
    )
    .unwrap();
    assert_eq!(summary.added, 1);
    assert_eq!(summary.skipped, 3, "{summary:#?}");
    assert_eq!(summary.warnings.len(), 1, "{:#?}", summary.warnings);
    assert!(summary.warnings[0].file.ends_with("RUSTSEC-2024-0002.json"));
}

/// A package of an ecosystem the database has no advisories for is not
/// "clean": the report counts it as not checked, per ecosystem. Components
/// count once per package URL, as an SBOM lists them.
#[test]
fn packages_without_advisories_to_match_are_counted_as_not_checked() {
    let records = vec![
        serde_json::from_value(record(
            "RUSTSEC-2024-0001",
            &[],
            "crates.io",
            "left",
            serde_json::json!([{"introduced": "0"}, {"fixed": "1.0.1"}]),
        ))
        .unwrap(),
    ];
    let db = Database::from_records(records);
    let components = [
        Component::new(Ecosystem::Cargo, "left", Some("1.0.0"), at()),
        Component::new(Ecosystem::Cargo, "left", Some("1.0.0"), at()),
        Component::new(Ecosystem::Npm, "lodash", Some("4.17.20"), at()),
        Component::new(Ecosystem::Npm, "react", Some("18.0.0"), at()),
        Component::new(Ecosystem::Npm, "react", Some("18.0.0"), at()),
        Component::new(Ecosystem::Npm, "vue", None, at()),
    ];
    let report = scan(&db, &components);
    assert!(report.findings.iter().all(|f| f.package == "left"));
    assert!(!report.findings.is_empty());
    assert_eq!(report.components, 4, "one per package URL");
    assert_eq!(
        report.not_checked.into_iter().collect::<Vec<_>>(),
        [("npm".to_string(), 2)]
    );
    assert_eq!(report.unpinned.len(), 1);
}
