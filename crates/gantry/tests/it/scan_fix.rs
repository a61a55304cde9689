//! `gantry scan --fix` as users run it: the dry-run plan changes nothing,
//! `--apply` runs the real `cargo update --precise` on an offline project
//! (crates.io replaced by a local registry holding only an index) and
//! rescans, `--renovate` writes package rules.

use std::path::Path;
use std::process::Command;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The project, the advisory, and a GANTRY_HOME with it imported.
fn setup(root: &Path) {
    let mut index = String::new();
    for v in ["1.0.0", "1.0.1", "1.1.0"] {
        index.push_str(&format!(
            "{{\"name\":\"vulnlib\",\"vers\":\"{v}\",\"deps\":[],\"cksum\":\"{}\",\"features\":{{}},\"yanked\":false}}\n",
            "cd".repeat(32)
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
            "version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n \"vulnlib\",\n]\n\n[[package]]\nname = \"vulnlib\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{}\"\n",
            "cd".repeat(32)
        ),
    );
    write(
        &root.join("osv/RUSTSEC-0000-0001.json"),
        r#"{"id": "RUSTSEC-0000-0001", "modified": "2026-11-01T00:00:00Z",
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected": [{"package": {"ecosystem": "crates.io", "name": "vulnlib"},
              "ranges": [{"type": "SEMVER", "events": [{"introduced": "0.0.0-0"}, {"fixed": "1.0.1"}]}]}]}"#,
    );
    let out = gantry(root).args(["db", "import", "osv"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn gantry(root: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gantry"));
    cmd.current_dir(root)
        .env("NO_COLOR", "1")
        .env("GANTRY_HOME", root.join("home"))
        .env("CARGO_NET_OFFLINE", "true")
        .env_remove("GANTRY_FAIL_ON")
        .env("GANTRY_DB_MAX_AGE", "100000");
    cmd
}

fn lock(root: &Path) -> String {
    std::fs::read_to_string(root.join("app/Cargo.lock")).unwrap()
}

#[test]
fn dry_run_plans_and_apply_carries_out_with_cargo() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    setup(root);
    let before = lock(root);

    let out = gantry(root)
        .args(["scan", "app", "--fix", "--dry-run"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the critical finding fails the gate: {stdout}"
    );
    assert!(
        stdout.contains("vulnlib (crates.io) 1.0.0 -> 1.0.1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("constraint unchanged: `1.0` in Cargo.toml admits 1.0.1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("cargo update -p vulnlib@1.0.0 --precise 1.0.1"),
        "{stdout}"
    );
    assert_eq!(lock(root), before, "a dry run changes nothing");

    let out = gantry(root)
        .args([
            "scan",
            "app",
            "--fix",
            "--apply",
            "--renovate",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["mode"], "apply");
    let fix = &doc["fixes"][0];
    assert_eq!(fix["package"], "vulnlib");
    assert_eq!(fix["ecosystem"], "crates.io");
    assert_eq!(
        (fix["from"].as_str(), fix["to"].as_str()),
        (Some("1.0.0"), Some("1.0.1"))
    );
    assert_eq!(fix["advisories"][0], "RUSTSEC-0000-0001");
    assert_eq!(fix["constraint_changed"], false);
    assert_eq!(fix["applied"]["status"], "applied", "{doc}");
    assert_eq!(doc["unfixable"].as_array().unwrap().len(), 0);
    assert_eq!(doc["rescan"]["vulnerabilities"], 0);
    assert!(
        lock(root).contains("name = \"vulnlib\"\nversion = \"1.0.1\""),
        "{}",
        lock(root)
    );
    let renovate: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("app/renovate.json")).unwrap())
            .unwrap();
    assert_eq!(renovate["packageRules"][0]["matchManagers"][0], "cargo");
    assert_eq!(renovate["packageRules"][0]["allowedVersions"], ">=1.0.1");
}

#[test]
fn fix_refuses_sarif_and_apply_needs_fix() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let out = gantry(dir.path())
        .args(["scan", "app", "--apply"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = gantry(dir.path())
        .args(["scan", "app", "--fix", "--format", "sarif"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--fix prints a plan, not SARIF"),
        "{stderr}"
    );
}
