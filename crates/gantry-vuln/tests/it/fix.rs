//! `scan --fix` planning: the largest of the advisories' smallest fixes,
//! fixed versions inside another advisory's range passed over, no fix,
//! manifest requirements, Renovate rules, and `--apply` with the real
//! `cargo` on an offline project (a local registry that holds only an
//! index, so `cargo update --precise` needs no network).

use std::path::{Path, PathBuf};

use gantry_sbom::DiscoverOptions;
use gantry_vuln::fix::{
    self, Advisory, Applied, Choice, FixRequest, Mode, Reason, SystemTools, Tools, choose,
};
use gantry_vuln::osv::{Affected, Record};
use gantry_vuln::version::SemVer;
use gantry_vuln::{Database, Policy, Request};

fn affected(events: serde_json::Value) -> Affected {
    serde_json::from_value(serde_json::json!({
        "package": {"ecosystem": "crates.io", "name": "p"},
        "ranges": [{"type": "SEMVER", "events": events}]
    }))
    .unwrap()
}

fn advisory(id: &str, events: serde_json::Value) -> Advisory {
    Advisory {
        id: id.into(),
        affected: vec![affected(events)],
    }
}

#[test]
fn several_advisories_take_the_largest_smallest_fix() {
    let advisories = [
        advisory(
            "A",
            serde_json::json!([{"introduced": "0"}, {"fixed": "1.2.0"}]),
        ),
        advisory(
            "B",
            serde_json::json!([{"introduced": "0"}, {"fixed": "1.4.0"}]),
        ),
        advisory(
            "C",
            serde_json::json!([{"introduced": "1.0.0"}, {"fixed": "1.3.0"}]),
        ),
    ];
    let choice = choose(&SemVer, "1.1.0", &advisories, None);
    assert_eq!(
        choice,
        Choice::Fix {
            to: "1.4.0".into(),
            constraint_changed: false,
            passed_over: vec![]
        }
    );
}

#[test]
fn a_fix_inside_another_range_is_passed_over() {
    let advisories = [
        advisory(
            "A",
            serde_json::json!([{"introduced": "0"}, {"fixed": "1.5.0"}]),
        ),
        advisory(
            "B",
            serde_json::json!([{"introduced": "1.5.0"}, {"fixed": "1.6.2"}]),
        ),
    ];
    let Choice::Fix {
        to, passed_over, ..
    } = choose(&SemVer, "1.0.0", &advisories, None)
    else {
        panic!("no fix");
    };
    assert_eq!(to, "1.6.2");
    assert_eq!(passed_over.len(), 1);
    assert_eq!(passed_over[0].version, "1.5.0");
    assert_eq!(passed_over[0].affected_by, "B");
}

#[test]
fn no_fixed_version_is_unfixable() {
    let advisories = [
        advisory(
            "A",
            serde_json::json!([{"introduced": "0"}, {"fixed": "1.5.0"}]),
        ),
        advisory(
            "NOFIX",
            serde_json::json!([{"introduced": "0"}, {"last_affected": "9.0.0"}]),
        ),
    ];
    assert_eq!(
        choose(&SemVer, "1.0.0", &advisories, None),
        Choice::NoFixedVersion {
            advisories: vec!["NOFIX".into()]
        }
    );
}

#[test]
fn a_requirement_picks_an_admitted_fix_or_says_it_changes() {
    let advisories = [advisory(
        "A",
        serde_json::json!([{"introduced": "0"}, {"fixed": "1.2.5"}, {"introduced": "1.3.0"}, {"fixed": "2.0.1"}]),
    )];
    let caret = semver::VersionReq::parse("^1.2").unwrap();
    let admits = |v: &str| caret.matches(&semver::Version::parse(v).unwrap());
    // 1.2.5 fixes and ^1.2 admits it.
    assert!(matches!(
        choose(&SemVer, "1.2.0", &advisories, Some(&admits)),
        Choice::Fix { ref to, constraint_changed: false, .. } if to == "1.2.5"
    ));
    // From 1.3.0 only 2.0.1 fixes, and ^1.2 does not admit it.
    assert!(matches!(
        choose(&SemVer, "1.3.0", &advisories, Some(&admits)),
        Choice::Fix { ref to, constraint_changed: true, .. } if to == "2.0.1"
    ));
}

fn record(id: &str, eco: &str, name: &str, events: serde_json::Value) -> Record {
    serde_json::from_value(crate::common::record(id, &[], eco, name, events)).unwrap()
}

fn request(dir: &Path) -> Request {
    Request {
        path: dir.to_path_buf(),
        root: dir.to_path_buf(),
        ignore_file: None,
        discover: DiscoverOptions::default(),
        policy: Policy::default(),
        now: 1_700_000_000,
        platform: None,
    }
}

fn write(path: &Path, text: &str) {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

const NPM_LOCK: &str = r#"{
  "name": "web", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
  "packages": {
    "": {"name": "web", "version": "1.0.0", "dependencies": {"lib": "^1.2"}},
    "node_modules/lib": {"version": "1.3.0"}
  }
}"#;

#[test]
fn npm_constraint_changed_and_cargo_constraint_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join("web/package.json"),
        r#"{"name": "web", "dependencies": {"lib": "^1.2"}}"#,
    );
    write(&root.join("web/package-lock.json"), NPM_LOCK);
    write(
        &root.join("rs/Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\n[dependencies]\nlib = \"1.2\"\n",
    );
    write(
        &root.join("rs/Cargo.lock"),
        "version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"lib\"]\n\n[[package]]\nname = \"lib\"\nversion = \"1.3.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    );
    let events = serde_json::json!([{"introduced": "1.3.0"}, {"fixed": "2.0.1"}]);
    let db = Database::from_records(vec![
        record("NPM-1", "npm", "lib", events.clone()),
        record("RS-1", "crates.io", "lib", events),
    ]);
    let outcome = fix::run(
        &db,
        &FixRequest {
            check: request(root),
            mode: Mode::DryRun,
            renovate: false,
        },
        &SystemTools,
    )
    .unwrap();
    let plan = &outcome.plan;
    assert_eq!(plan.manifests, ["rs/Cargo.toml", "web/package.json"]);
    assert_eq!(plan.fixes.len(), 1, "{:?}", plan.fixes);
    let f = &plan.fixes[0];
    assert_eq!(
        (f.package.as_str(), f.from.as_str(), f.to.as_str()),
        ("lib", "1.3.0", "2.0.1")
    );
    assert!(f.constraint_changed);
    assert_eq!(f.constraints[0].requirement, "^1.2");
    assert_eq!(
        f.command.as_ref().unwrap().to_string(),
        "npm install --package-lock-only --ignore-scripts lib@2.0.1"
    );
    assert_eq!(plan.unfixable.len(), 1);
    let u = &plan.unfixable[0];
    assert_eq!(u.lockfile, "rs/Cargo.lock");
    assert!(
        matches!(&u.reason, Reason::ConstraintBlocks { needed, tool, .. } if needed == "2.0.1" && tool == "cargo update"),
        "{:?}",
        u.reason
    );
    let doc = serde_json::to_value(outcome.document()).unwrap();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["fixes"][0]["constraint_changed"], true);
    assert_eq!(doc["fixes"][0]["advisories"][0], "NPM-1");
    assert_eq!(doc["unfixable"][0]["reason"], "constraint-blocks");
}

#[test]
fn renovate_rules_merge_into_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join("package.json"),
        r#"{"name": "web", "dependencies": {"lib": "^1.2"}}"#,
    );
    write(&root.join("package-lock.json"), NPM_LOCK);
    write(
        &root.join("renovate.json"),
        r#"{"extends": ["config:recommended"], "packageRules": [{"matchPackageNames": ["x"], "enabled": false}], "timezone": "Europe/Berlin"}"#,
    );
    let db = Database::from_records(vec![record(
        "NPM-1",
        "npm",
        "lib",
        serde_json::json!([{"introduced": "0"}, {"fixed": "1.3.4"}]),
    )]);
    let req = FixRequest {
        check: request(root),
        mode: Mode::DryRun,
        renovate: true,
    };
    for _ in 0..2 {
        let outcome = fix::run(&db, &req, &SystemTools).unwrap();
        assert_eq!(outcome.renovate.as_ref().unwrap().rules, 1);
    }
    let text = std::fs::read_to_string(root.join("renovate.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["extends", "packageRules", "timezone"]);
    let rules = doc["packageRules"].as_array().unwrap();
    // The team's rule kept, gantry's written once although run twice.
    assert_eq!(rules.len(), 2, "{text}");
    assert_eq!(rules[0]["enabled"], false);
    assert_eq!(rules[1]["matchManagers"][0], "npm");
    assert_eq!(rules[1]["matchPackageNames"][0], "lib");
    assert_eq!(rules[1]["allowedVersions"], ">=1.3.4");
}

/// The shared OSV data: missing fails under `CI=true`, skips elsewhere.
fn rustsec() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/osv/crates");
    if path.is_dir() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "{} is missing (required under CI=true)",
        path.display()
    );
    eprintln!("skipped: {} is missing", path.display());
    None
}

#[test]
fn real_rustsec_advisories_on_smallvec() {
    let Some(data) = rustsec() else { return };
    let home = tempfile::tempdir().unwrap();
    gantry_vuln::import::import(home.path(), &[data], &Default::default()).unwrap();
    let db = Database::open(home.path()).unwrap();
    for (req, want) in [("0.6", Ok("0.6.14")), ("=0.6.9", Err(()))] {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            &root.join("Cargo.toml"),
            &format!(
                "[package]\nname = \"app\"\nversion = \"0.1.0\"\n[dependencies]\nsmallvec = \"{req}\"\n"
            ),
        );
        write(
            &root.join("Cargo.lock"),
            "version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"smallvec\"]\n\n[[package]]\nname = \"smallvec\"\nversion = \"0.6.9\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
        );
        let plan = fix::plan(&db, &gantry_vuln::check(&db, &request(root)).unwrap());
        match want {
            Ok(to) => {
                // RUSTSEC-2019-0009 and -0012 are fixed in 0.6.10,
                // RUSTSEC-2021-0003 only in 0.6.14.
                let f = &plan.fixes[0];
                assert_eq!(f.to, to);
                assert!(!f.constraint_changed);
                let mut ids = f.advisories.clone();
                ids.sort();
                assert_eq!(
                    ids,
                    [
                        "RUSTSEC-2019-0009",
                        "RUSTSEC-2019-0012",
                        "RUSTSEC-2021-0003"
                    ]
                );
            }
            Err(()) => {
                assert!(plan.fixes.is_empty());
                assert!(
                    matches!(&plan.unfixable[0].reason, Reason::ConstraintBlocks { needed, .. } if needed == "0.6.14")
                );
            }
        }
    }
}

/// A Cargo project whose crates.io is replaced by a local registry that
/// holds only an index (no `.crate` files): `cargo update --precise`
/// resolves against it without the network.
pub(crate) fn offline_cargo_project(root: &Path, versions: &[&str], locked: &str) {
    let mut index = String::new();
    for v in versions {
        index.push_str(&format!(
            "{{\"name\":\"vulnlib\",\"vers\":\"{v}\",\"deps\":[],\"cksum\":\"{}\",\"features\":{{}},\"yanked\":false}}\n",
            "ab".repeat(32)
        ));
    }
    write(&root.join("registry/index/vu/ln/vulnlib"), &index);
    write(
        &root.join("app/.cargo/config.toml"),
        "[source.crates-io]\nreplace-with = \"local\"\n\n[source.local]\nlocal-registry = \"../registry\"\n",
    );
    write(
        &root.join("app/Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nvulnlib = \"1.0\"\n",
    );
    write(&root.join("app/src/lib.rs"), "");
    write(
        &root.join("app/Cargo.lock"),
        &format!(
            "version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n \"vulnlib\",\n]\n\n[[package]]\nname = \"vulnlib\"\nversion = \"{locked}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{}\"\n",
            "ab".repeat(32)
        ),
    );
}

#[test]
fn apply_runs_cargo_update_precise_and_rescans() {
    assert!(
        SystemTools.available("cargo"),
        "cargo is needed (it runs this test)"
    );
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    offline_cargo_project(root, &["1.0.0", "1.0.1", "1.0.2", "1.1.0"], "1.0.0");
    let db = Database::from_records(vec![record(
        "RUSTSEC-0000-0001",
        "crates.io",
        "vulnlib",
        serde_json::json!([{"introduced": "0"}, {"fixed": "1.0.1"}]),
    )]);
    let app = root.join("app");
    let outcome = fix::run(
        &db,
        &FixRequest {
            check: request(&app),
            mode: Mode::Apply,
            renovate: false,
        },
        &SystemTools,
    )
    .unwrap();
    let f = &outcome.plan.fixes[0];
    assert_eq!(f.to, "1.0.1");
    assert_eq!(f.applied, Some(Applied::Done), "{:?}", f.applied);
    let lock = std::fs::read_to_string(app.join("Cargo.lock")).unwrap();
    // The smallest fix, not the newest version the requirement admits.
    assert!(
        lock.contains("name = \"vulnlib\"\nversion = \"1.0.1\""),
        "{lock}"
    );
    let after = outcome.after.as_ref().unwrap();
    assert!(
        after.report.findings.is_empty(),
        "{:?}",
        after.report.findings
    );
}

/// Tools where nothing is installed.
struct NothingInstalled;

impl Tools for NothingInstalled {
    fn available(&self, _: &str) -> bool {
        false
    }
    fn run(&self, _: &Path, _: &str, _: &[String]) -> std::io::Result<gantry_vuln::fix::ToolRun> {
        unreachable!("nothing is installed")
    }
}

#[test]
fn a_missing_updater_is_reported_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    offline_cargo_project(root, &["1.0.0", "1.0.1"], "1.0.0");
    let db = Database::from_records(vec![record(
        "X-1",
        "crates.io",
        "vulnlib",
        serde_json::json!([{"introduced": "0"}, {"fixed": "1.0.1"}]),
    )]);
    let app = root.join("app");
    let before = std::fs::read_to_string(app.join("Cargo.lock")).unwrap();
    let outcome = fix::run(
        &db,
        &FixRequest {
            check: request(&app),
            mode: Mode::Apply,
            renovate: false,
        },
        &NothingInstalled,
    )
    .unwrap();
    assert_eq!(
        outcome.plan.fixes[0].applied,
        Some(Applied::ToolMissing {
            program: "cargo".into()
        })
    );
    assert_eq!(
        std::fs::read_to_string(app.join("Cargo.lock")).unwrap(),
        before
    );
    assert_eq!(outcome.after.unwrap().report.findings.len(), 1);
}
