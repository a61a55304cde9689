//! `gantry services` as users run it: every format, problems with their
//! source lines, cycles, and the exit codes.

use std::path::Path;
use std::process::{Command, Output};

fn gantry(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("GANTRY_HOME", dir.join(".home"))
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A repository holding `files` (path, text).
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, body) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
    dir
}

const SERVICE_A: &str = "\
service:
  name: service-a
  spec:
    api_version: v1
    compliance_mode: compliant
    dependencies:
      runtime: [service-b]
      data: []
      security:
        - { name: service-c, optional: true }
";

const SERVICE_B: &str = "\
service:
  name: service-b
  spec:
    api_version: v1
    compliance_mode: compliant
    dependencies:
      data: [service-c]
";

const SERVICE_C: &str = "\
service:
  name: service-c
  spec:
    api_version: v2
    compliance_mode: sandbox
";

/// The seed's three services.
fn seed() -> tempfile::TempDir {
    repo(&[
        (".gantry/services/service-a.yml", SERVICE_A),
        (".gantry/services/service-b.yml", SERVICE_B),
        (".gantry/services/service-c.yaml", SERVICE_C),
    ])
}

#[test]
fn every_format_of_the_seed_services_is_stable() {
    let dir = seed();
    for format in ["human", "json", "dot", "mermaid"] {
        let out = gantry(dir.path(), &["services", "--format", format]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(text(&out.stderr), "");
        insta::assert_snapshot!(format!("services_{format}"), text(&out.stdout));
    }
    let json: serde_json::Value =
        serde_json::from_slice(&gantry(dir.path(), &["services", "--format", "json"]).stdout)
            .unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(
        json["order"],
        serde_json::json!(["service-c", "service-b", "service-a"])
    );
}

#[test]
fn the_directory_flag_names_the_repository() {
    let dir = seed();
    let elsewhere = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    let out = gantry(elsewhere.path(), &["-C", root, "services"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        text(&gantry(dir.path(), &["services"]).stdout)
    );
}

#[test]
fn a_repository_without_services_says_where_they_go() {
    let dir = repo(&[]);
    let out = gantry(dir.path(), &["services"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "no services: define them in .gantry/services/*.yml\n"
    );
}

#[test]
fn every_problem_is_shown_with_its_source_line_and_exit_2() {
    let dir = repo(&[
        (
            ".gantry/services/service-a.yml",
            &SERVICE_A.replace("runtime: [service-b]", "runtime: [service-bb]"),
        ),
        (
            ".gantry/services/service-b.yml",
            &SERVICE_B.replace("api_version", "api_versoin"),
        ),
        (".gantry/services/service-c.yml", SERVICE_C),
    ]);
    let out = gantry(dir.path(), &["services", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stdout), "");
    insta::assert_snapshot!("services_problems", text(&out.stderr));
}

#[test]
fn a_cycle_is_shown_whole_with_each_edge() {
    let dir = repo(&[
        (".gantry/services/service-a.yml", SERVICE_A),
        (
            ".gantry/services/service-b.yml",
            &SERVICE_B.replace("data: [service-c]", "data: [service-c, service-a]"),
        ),
        (".gantry/services/service-c.yml", SERVICE_C),
    ]);
    let out = gantry(dir.path(), &["services"]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!("services_cycle", text(&out.stderr));
}

#[test]
fn a_bad_promotion_file_is_shown_with_its_source_line() {
    let dir = seed();
    std::fs::write(
        dir.path().join(".gantry/promotion.yml"),
        "states:\n  sandbox:\n    allowed_transitions: [complaint]\n  compliant: {}\n",
    )
    .unwrap();
    let out = gantry(dir.path(), &["services"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("unknown state `complaint` in `states.sandbox.allowed_transitions`"),
        "{stderr}"
    );
    assert!(stderr.contains("[.gantry/promotion.yml:3:27]"), "{stderr}");
    assert!(stderr.contains("did you mean `compliant`?"), "{stderr}");
}
