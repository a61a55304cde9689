//! `gantry sbom`, `gantry db` and `gantry scan` as users run them: exit
//! codes, stdout and stderr, on the monorepo fixture of gantry-sbom and
//! the real advisories of ../shared/testdata/osv.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn monorepo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../gantry-sbom/tests/fixtures/monorepo")
}

/// The RustSec advisories in OSV form: missing fails under `CI=true`.
fn rustsec_osv() -> Option<PathBuf> {
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

fn gantry(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gantry"));
    cmd.env("NO_COLOR", "1")
        .env("GANTRY_HOME", home)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .env_remove("GANTRY_FAIL_ON")
        .env_remove("GANTRY_DB_MAX_AGE");
    cmd
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap();
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// A GANTRY_HOME with the RustSec advisories imported.
fn home_with_rustsec() -> Option<tempfile::TempDir> {
    let data = rustsec_osv()?;
    let home = tempfile::tempdir().unwrap();
    let (code, out, err) = run(gantry(home.path()).args(["db", "import"]).arg(&data));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1206 added"), "{out}");
    Some(home)
}

#[test]
fn sbom_is_reproducible_with_source_date_epoch() {
    let home = tempfile::tempdir().unwrap();
    let (code, first, err) = run(gantry(home.path()).arg("sbom").arg(monorepo()));
    assert_eq!(code, 0, "{err}");
    let (_, second, _) = run(gantry(home.path()).arg("sbom").arg(monorepo()));
    assert_eq!(first, second);
    let doc: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(doc["specVersion"], "1.6");
    assert_eq!(doc["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
    assert_eq!(doc["metadata"]["component"]["name"], "monorepo");
    let purls: Vec<&str> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["purl"].as_str().unwrap())
        .collect();
    for want in [
        "pkg:cargo/smallvec@0.6.9",
        "pkg:npm/%40babel/runtime@7.20.13",
        "pkg:pypi/pyyaml@5.1",
        "pkg:golang/golang.org/x/text@v0.3.5",
        "pkg:golang/stdlib@v1.20.4",
        "pkg:pypi/requests",
    ] {
        assert!(purls.contains(&want), "{want} missing from {purls:#?}");
    }
}

#[test]
fn sbom_spdx_to_a_file_and_bad_input() {
    let home = tempfile::tempdir().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let file = out_dir.path().join("sbom.spdx.json");
    let (code, stdout, err) = run(gantry(home.path())
        .arg("sbom")
        .arg(monorepo())
        .args(["--format", "spdx", "-o"])
        .arg(&file));
    assert_eq!(code, 0, "{err}");
    assert!(stdout.is_empty());
    assert!(err.contains("wrote"), "{err}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    let (code, _, err) = run(gantry(home.path()).args(["sbom", "/nonexistent/folder"]));
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(gantry(home.path())
        .arg("sbom")
        .arg(monorepo())
        .args(["--spec-version", "1.2"]));
    assert_eq!(code, 2);
    assert!(err.contains("1.6 (the default) or 1.5"), "{err}");
}

#[test]
fn sbom_warnings_point_at_file_and_line() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("requirements.txt"),
        "flask==2.0.1\nrequests ^^ 2\n",
    )
    .unwrap();
    let (code, out, err) = run(gantry(home.path()).arg("sbom").arg(dir.path()));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("pkg:pypi/flask@2.0.1"));
    assert!(
        err.contains("requirements.txt:2: cannot read version specifier"),
        "{err}"
    );
    assert!(
        err.contains("requests ^^ 2"),
        "the source line is shown: {err}"
    );
}

#[test]
fn scan_without_a_database_explains_how_to_import() {
    let home = tempfile::tempdir().unwrap();
    let (code, _, err) = run(gantry(home.path()).arg("scan").arg(monorepo()));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no vulnerability database"), "{err}");
    assert!(err.contains("gantry db import"), "{err}");
}

#[test]
fn a_critical_finding_fails_the_default_gate() {
    let Some(home) = home_with_rustsec() else {
        return;
    };
    let (code, out, err) = run(gantry(home.path()).arg("scan").arg(monorepo()));
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("RUSTSEC-2019-0009"), "{out}");
    assert!(
        out.contains("smallvec 0.6.9 (crates.io)  Cargo.lock:53  fixed in 0.6.10"),
        "{out}"
    );
    assert!(
        err.contains(
            "error: gate failed: 3 vulnerabilities at or above critical (--fail-on critical)"
        ),
        "{err}"
    );
    // High findings under the gate are warnings.
    assert!(err.contains("warning: RUSTSEC-2022-0013 (high 7.5) in regex 1.5.4 at Cargo.lock:30 is below the gate"), "{err}");
    // Fixed versions are not reported.
    assert!(!out.contains("serde 1.0.188"), "{out}");
    let (code, _, err) = run(gantry(home.path())
        .arg("scan")
        .arg(monorepo())
        .args(["--fail-on", "none"]));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn scan_json_and_sarif() {
    let Some(home) = home_with_rustsec() else {
        return;
    };
    let (code, out, _) = run(gantry(home.path()).arg("scan").arg(monorepo()).args([
        "--format",
        "json",
        "--fail-on",
        "high",
    ]));
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["version"], 1);
    assert!(
        doc.get("schema_version").is_none(),
        "one name for the version"
    );
    assert_eq!(doc["gate"]["failed"], true);
    assert_eq!(doc["summary"]["critical"], 3);
    assert_eq!(doc["summary"]["high"], 1);
    let ids: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["ids"][0].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "RUSTSEC-2019-0009",
            "RUSTSEC-2019-0012",
            "RUSTSEC-2021-0003",
            "RUSTSEC-2022-0013",
            "RUSTSEC-2020-0071"
        ]
    );
    assert_eq!(doc["informational"][0]["informational"], "unsound");
    let (_, out, _) = run(gantry(home.path())
        .arg("scan")
        .arg(monorepo())
        .args(["--format", "sarif"]));
    let sarif: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 6);
}

#[test]
fn ignores_need_a_reason_and_fail_once_expired() {
    let Some(home) = home_with_rustsec() else {
        return;
    };
    let repo = tempfile::tempdir().unwrap();
    std::fs::copy(
        monorepo().join("Cargo.lock"),
        repo.path().join("Cargo.lock"),
    )
    .unwrap();
    std::fs::create_dir(repo.path().join(".gantry")).unwrap();
    let ignore = repo.path().join(".gantry/ignore.yml");
    std::fs::write(
        &ignore,
        "ignore:\n  - id: CVE-2019-15551\n    reason: grow() is never called with user input\n    expires: 2999-01-01\n  - id: RUSTSEC-2019-0012\n    reason: same code path\n    expires: 2999-01-01\n  - id: RUSTSEC-2021-0003\n    reason: insert_many is unused\n    expires: 2999-01-01\n",
    )
    .unwrap();
    let (code, out, err) = run(gantry(home.path()).arg("scan").arg(repo.path()));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("ignored"), "{out}");
    assert!(out.contains("RUSTSEC-2019-0009 in smallvec 0.6.9 (Cargo.lock:53): grow() is never called with user input (until 2999-01-01)"), "{out}");
    std::fs::write(
        &ignore,
        "ignore:\n  - id: RUSTSEC-2022-0013\n    reason: patterns are not user input\n    expires: 2020-06-30\n",
    )
    .unwrap();
    let (code, _, err) = run(gantry(home.path())
        .arg("scan")
        .arg(repo.path())
        .args(["--fail-on", "none"]));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("ignore.yml:2: the ignore of RUSTSEC-2022-0013 expired on 2020-06-30"),
        "{err}"
    );
    std::fs::write(
        &ignore,
        "ignore:\n  - id: RUSTSEC-2022-0013\n    expires: 2030-01-01\n",
    )
    .unwrap();
    let (code, _, err) = run(gantry(home.path()).arg("scan").arg(repo.path()));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("ignore.yml"), "{err}");
}

#[test]
fn scan_reads_an_sbom_as_well_as_lockfiles() {
    let Some(home) = home_with_rustsec() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let bom = dir.path().join("bom.cdx.json");
    let (code, _, err) = run(gantry(home.path())
        .arg("sbom")
        .arg(monorepo())
        .arg("-o")
        .arg(&bom));
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(gantry(home.path())
        .arg("scan")
        .arg(&bom)
        .args(["--format", "json"]));
    assert_eq!(code, 1, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["summary"]["critical"], 3);
    assert_eq!(doc["findings"][0]["location"]["file"], "bom.cdx.json");
}

#[test]
fn db_status_and_a_failed_import_that_changes_nothing() {
    let Some(home) = home_with_rustsec() else {
        return;
    };
    let (code, out, _) = run(gantry(home.path()).args(["db", "status", "--format", "json"]));
    assert_eq!(code, 0);
    let status: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(status["version"], 1);
    assert_eq!(status["records"], 1206);
    assert_eq!(status["per_ecosystem"]["crates.io"], 1206);
    let db = home.path().join("vuln/osv.db");
    let before = std::fs::read(&db).unwrap();
    let (code, _, err) = run(gantry(home.path()).args(["db", "import", "/nonexistent/osv"]));
    assert_eq!(code, 2);
    assert!(err.contains("the database was not changed"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), before);
    let (code, out, _) = run(gantry(home.path()).args(["db", "status"]));
    assert_eq!(code, 0);
    assert!(out.contains("crates.io"), "{out}");
}

#[test]
fn every_new_verb_has_examples_in_its_help() {
    let home = tempfile::tempdir().unwrap();
    for verb in [&["sbom"][..], &["scan"], &["db"], &["db", "import"]] {
        let (code, out, _) = run(gantry(home.path()).args(verb).arg("--help"));
        assert_eq!(code, 0);
        assert!(
            out.contains("--format") || verb == ["db"],
            "{verb:?}: {out}"
        );
        if verb.len() == 1 {
            assert!(out.contains("Examples:"), "{verb:?}: {out}");
        }
    }
}

/// Snapshot filters: the scratch folders and the elapsed time differ
/// between runs.
fn snapshot_settings(dirs: &[&Path]) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    for dir in dirs {
        let shown = dir.display().to_string();
        let escaped: String = shown
            .chars()
            .flat_map(|c| {
                if "\\.+*?()|[]{}^$".contains(c) {
                    vec!['\\', c]
                } else {
                    vec![c]
                }
            })
            .collect();
        settings.add_filter(&escaped, "[TMP]");
    }
    settings.add_filter(r"\(\d+ ms\)", "([TIME] ms)");
    settings.add_filter(r"\(\d+\.\d+s\)", "([TIME]s)");
    settings
}

/// A GANTRY_HOME whose database holds one advisory without any severity
/// for `left` 1.0.0 (crates.io), and a project that uses it.
fn unscored_setup() -> (tempfile::TempDir, tempfile::TempDir) {
    let home = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    std::fs::write(
        project.path().join("Cargo.lock"),
        "version = 4\n\n[[package]]\nname = \"left\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    )
    .unwrap();
    let record = serde_json::json!({
        "id": "RUSTSEC-2024-0001", "modified": "2999-01-01T00:00:00Z",
        "summary": "a flaw nobody scored",
        "affected": [{"package": {"ecosystem": "crates.io", "name": "left"},
                      "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.1"}]}]}]
    });
    let data = project.path().join("osv.ndjson");
    std::fs::write(&data, format!("{record}\n")).unwrap();
    let (code, out, err) = run(gantry(home.path()).args(["db", "import"]).arg(&data));
    assert_eq!(code, 0, "{out}{err}");
    std::fs::remove_file(&data).unwrap();
    (home, project)
}

#[test]
fn unknown_severity_warns_under_the_default_gate_and_fails_a_high_one() {
    let (home, project) = unscored_setup();
    let (code, out, err) = run(gantry(home.path()).arg("scan").arg(project.path()));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("unknown"), "display still says unknown: {out}");
    assert!(
        err.contains("no usable severity, ranked high (--unknown-severity)"),
        "{err}"
    );
    let (code, _, err) = run(gantry(home.path())
        .arg("scan")
        .arg(project.path())
        .args(["--fail-on", "high"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("gate failed: 1 vulnerability"), "{err}");
    let (code, _, err) = run(gantry(home.path()).arg("scan").arg(project.path()).args([
        "--fail-on",
        "high",
        "--unknown-severity",
        "medium",
    ]));
    assert_eq!(code, 0, "{err}");
    let (code, _, _) = run(gantry(home.path())
        .arg("scan")
        .arg(project.path())
        .args(["--unknown-severity", "critical"]));
    assert_eq!(code, 1);
}

#[test]
fn scan_human_output() {
    let (home, project) = unscored_setup();
    let (code, out, err) = run(gantry(home.path())
        .arg("scan")
        .arg(project.path())
        .args(["--fail-on", "high"]));
    assert_eq!(code, 1);
    snapshot_settings(&[project.path(), home.path()]).bind(|| {
        insta::assert_snapshot!(format!("exit {code}\n--- stdout\n{out}--- stderr\n{err}"));
    });
}

#[test]
fn sbom_human_output() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("requirements.txt"),
        "flask==2.0.1\n-r ../outside.txt\nrequests ^^ 2\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("svc")).unwrap();
    std::fs::write(dir.path().join("svc/go.sum"), "").unwrap();
    let file = dir.path().join("bom.json");
    let (code, out, err) = run(gantry(home.path())
        .arg("sbom")
        .arg(dir.path())
        .arg("-o")
        .arg(&file));
    assert_eq!(code, 0, "{err}");
    snapshot_settings(&[dir.path(), home.path()]).bind(|| {
        insta::assert_snapshot!(format!("exit {code}\n--- stdout\n{out}--- stderr\n{err}"));
    });
}

#[cfg(unix)]
#[test]
fn files_that_are_not_regular_are_refused_not_read() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let zero = dir.path().join("bom.json");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let (code, _, err) = run(gantry(home.path()).args(["db", "import"]).arg(&zero));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("character device"), "{err}");
    let fifo = dir.path().join("all.ndjson");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let (code, _, err) = run(gantry(home.path()).args(["db", "import"]).arg(&fifo));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("FIFO"), "{err}");
    assert!(err.contains("the database was not changed"), "{err}");
    let (code, _, err) = run(gantry(home.path()).arg("sbom").arg(&fifo));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not read"), "{err}");
}

#[test]
fn sbom_json_is_a_versioned_document() {
    let home = tempfile::tempdir().unwrap();
    let (code, out, err) = run(gantry(home.path())
        .arg("sbom")
        .arg(monorepo())
        .args(["--format", "json"]));
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["version"], 1);
    assert!(
        doc.get("schema_version").is_none(),
        "one name for the version"
    );
    assert!(!doc["files"].as_array().unwrap().is_empty(), "{doc:#}");
    assert!(doc["components"][0]["name"].is_string(), "{doc:#}");
}

/// `scan` says per ecosystem how many packages it could not check because
/// the database has no advisories of that ecosystem, and counts components
/// as `sbom` does (one per package URL).
#[test]
fn scan_says_what_it_could_not_check_and_counts_components_as_sbom_does() {
    let Some(home) = home_with_rustsec() else {
        return;
    };
    let bom = tempfile::tempdir().unwrap();
    let (code, _, err) = run(gantry(home.path())
        .arg("sbom")
        .arg(monorepo())
        .arg("-o")
        .arg(bom.path().join("bom.json")));
    assert_eq!(code, 0, "{err}");
    let sbom_count: usize = err
        .rsplit("with ")
        .next()
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {err}"));
    let (_, out, _) = run(gantry(home.path())
        .args(["scan", "--fail-on", "none", "--format", "json"])
        .arg(monorepo()));
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["summary"]["components"], sbom_count);
    assert_eq!(
        json["summary"]["not_checked"]["npm"], 5,
        "{}",
        json["summary"]
    );
    assert!(json["summary"]["not_checked"].get("crates.io").is_none());
    let (_, out, _) = run(gantry(home.path())
        .args(["scan", "--fail-on", "none"])
        .arg(monorepo()));
    assert!(
        out.contains("npm: 5 packages not checked: the database has no npm advisories"),
        "{out}"
    );
    assert!(
        out.contains(&format!("in {sbom_count} components")),
        "{out}"
    );
}

/// Hints and examples speak of the user's data, never of paths of
/// gantry's own test setup.
#[test]
fn hints_and_examples_name_no_test_setup_paths() {
    let home = tempfile::tempdir().unwrap();
    let mut texts = Vec::new();
    for verb in [
        &["scan", "--help"][..],
        &["db", "--help"],
        &["db", "import", "--help"],
    ] {
        texts.push(run(gantry(home.path()).args(verb)).1);
    }
    texts.push(run(gantry(home.path()).arg("scan").arg(monorepo())).2);
    texts.push(run(gantry(home.path()).args(["db", "status"])).2);
    for text in texts {
        assert!(
            !text.contains("testdata") && !text.contains("shared/"),
            "{text}"
        );
    }
}

/// `db import` of a folder skips JSON and YAML files that are not OSV
/// records without a warning, and says how many it skipped.
#[test]
fn db_import_of_a_folder_counts_skipped_files_quietly() {
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(data.path().join(".github/workflows")).unwrap();
    std::fs::write(data.path().join(".github/workflows/ci.yml"), "on: push\n").unwrap();
    std::fs::write(data.path().join("package.json"), "{\"name\": \"x\"}").unwrap();
    std::fs::write(
        data.path().join("RUSTSEC-2024-0001.json"),
        r#"{"id":"RUSTSEC-2024-0001","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"crates.io","name":"left"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.1"}]}]}]}"#,
    )
    .unwrap();
    let (code, out, err) = run(gantry(home.path()).args(["db", "import"]).arg(data.path()));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(err, "", "no warnings");
    assert!(out.contains("1 added"), "{out}");
    assert!(
        out.contains("skipped 2 files that are not OSV records"),
        "{out}"
    );
}
