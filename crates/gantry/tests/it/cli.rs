//! The command line as users see it: exit codes, stdout and stderr.

use std::path::{Path, PathBuf};
use std::process::Command;

fn gantry() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gantry"));
    cmd.env("NO_COLOR", "1").env_remove("GANTRY_FORMAT");
    cmd
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/pipeline")
}

/// Runs gantry and renders exit code, stdout and stderr for a snapshot.
fn run(args: &[&str], dir: &Path) -> (i32, String) {
    let out = gantry().args(args).current_dir(dir).output().unwrap();
    let code = out.status.code().unwrap_or(-1);
    let text = format!(
        "exit: {code}\n--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (code, text)
}

#[test]
fn validate_reports_seeded_mistakes_at_their_place() {
    let (code, text) = run(
        &["validate", "--format", "json"],
        &fixtures().join("broken"),
    );
    assert_eq!(code, 1, "{text}");
    let json: serde_json::Value = serde_json::from_str(
        text.split("--- stdout\n")
            .nth(1)
            .unwrap()
            .split("--- stderr")
            .next()
            .unwrap(),
    )
    .unwrap();
    let diags = json["files"][0]["diagnostics"].as_array().unwrap();
    let found: Vec<(String, u64, u64)> = diags
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["location"]["line"].as_u64().unwrap_or(0),
                d["location"]["column"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let expect = [
        ("invalid-glob", 4, 25),
        ("invalid-cron", 6, 14),
        ("invalid-permission", 8, 13),
        ("unknown-key", 11, 5),
        ("missing-key", 11, 5),
        ("duplicate-step-id", 15, 13),
        ("unknown-job", 18, 20),
        ("expression", 19, 9),
        ("expression", 22, 13),
        ("expression", 23, 14),
        ("needs-cycle", 25, 12),
        ("needs-cycle", 30, 12),
    ];
    for (code, line, col) in expect {
        assert!(
            found
                .iter()
                .any(|(c, l, k)| c == code && *l == line && *k == col),
            "missing {code} at {line}:{col} in {found:#?}"
        );
    }
    assert_eq!(found.len(), expect.len(), "{found:#?}");
}

#[test]
fn validate_renders_snippets_with_hints() {
    let (code, text) = run(&["validate"], &fixtures().join("broken"));
    assert_eq!(code, 1);
    insta::assert_snapshot!(text);
}

#[test]
fn validate_accepts_the_example_pipeline() {
    let (code, text) = run(&["validate"], &example());
    assert_eq!(code, 0, "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn plan_shows_jobs_matrices_and_stages() {
    let (code, text) = run(&["plan", "--event", "push", "--ref", "main"], &example());
    assert_eq!(code, 0, "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn plan_for_a_tag_runs_the_release() {
    let (code, text) = run(
        &[
            "plan",
            "--event",
            "push",
            "--ref",
            "refs/tags/v1.4.0",
            "--format",
            "json",
        ],
        &example(),
    );
    assert_eq!(code, 0, "{text}");
    let stdout = text
        .split("--- stdout\n")
        .nth(1)
        .unwrap()
        .split("--- stderr")
        .next()
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(stdout).unwrap();
    let ci = json["workflows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == "CI")
        .unwrap();
    assert_eq!(ci["decision"], "runs");
    let release = ci["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == "release")
        .unwrap();
    assert_eq!(release["decision"], "runs");
    let test = ci["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == "test")
        .unwrap();
    assert_eq!(test["matrix"]["combinations"].as_array().unwrap().len(), 4);
}

#[test]
fn plan_skips_what_filters_exclude() {
    // A push that only touches docs is ignored by `paths-ignore`.
    let (code, text) = run(
        &["plan", "--ref", "main", "--changed", "docs/index.md"],
        &example(),
    );
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("not triggered: no changed file matches the path filters"),
        "{text}"
    );
    // A branch that is not listed does not trigger.
    let (_, text) = run(&["plan", "--ref", "feature/x"], &example());
    assert!(text.contains("branch 'feature/x' does not match"), "{text}");
}

#[test]
fn plan_renders_graphs() {
    let (code, text) = run(
        &["plan", "--ref", "main", "--format", "mermaid"],
        &example(),
    );
    assert_eq!(code, 0);
    assert!(text.contains("flowchart LR"));
    assert!(text.contains("w0_build --> w0_smoke_test"), "{text}");
    let (_, text) = run(&["plan", "--ref", "main", "--format", "dot"], &example());
    assert!(text.contains("w0_lint -> w0_build;"), "{text}");
}

#[test]
fn eval_prints_json_and_fails_on_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ctx.json"),
        r#"{"github": {"event": {"pull_request": {"labels": [{"name": "ci"}, {"name": "docs"}]}}}}"#,
    )
    .unwrap();
    let (code, text) = run(
        &[
            "eval",
            "contains(github.event.pull_request.labels.*.name, 'CI')",
            "--context",
            "ctx.json",
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("--- stdout\ntrue\n"), "{text}");
    let (code, text) = run(&["eval", "format('{0}', 1"], dir.path());
    assert_eq!(code, 1, "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn bad_usage_exits_2() {
    let (code, _) = run(&["validate", "does/not/exist.yml"], &example());
    assert_eq!(code, 2);
    let (code, _) = run(&["plan", "--input", "novalue"], &example());
    assert_eq!(code, 2);
    let (code, _) = run(&["frobnicate"], &example());
    assert_eq!(code, 2);
}

fn write(path: &Path, text: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The diagnostics of `validate --format json`, as `(code, line, column)`.
fn validate_json(args: &[&str], dir: &Path) -> (i32, Vec<(String, u64, u64)>) {
    let out = gantry()
        .args(["validate", "--format", "json"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["diagnostics"].as_array().unwrap().clone())
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["location"]["line"].as_u64().unwrap_or(0),
                d["location"]["column"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    (out.status.code().unwrap_or(-1), found)
}

/// Regression: `gantry -C /elsewhere validate /repo/.github/workflows/ci.yml`
/// resolved `./` from `/elsewhere`, so local calls were "not found".
#[test]
fn validate_by_path_resolves_local_references_from_the_files_repository() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    write(
        &repo.join(".github/workflows/ci.yml"),
        b"on: push\njobs:\n  c:\n    uses: ./.github/workflows/called.yml\n",
    );
    write(
        &repo.join(".github/workflows/called.yml"),
        b"on: workflow_call\njobs:\n  b:\n    runs-on: x\n    steps:\n      - run: echo\n",
    );
    let ci = repo.join(".github/workflows/ci.yml");
    let ci = ci.to_str().unwrap();
    let (code, found) = validate_json(&[ci], elsewhere.path());
    assert_eq!((code, found), (0, vec![]));
    let (code, text) = run(
        &["-C", elsewhere.path().to_str().unwrap(), "validate", ci],
        dir.path(),
    );
    assert_eq!(code, 0, "{text}");
}

/// Regression: `uses: ./..` (and `./a/../../x`) were accepted by validate.
#[test]
fn validate_refuses_local_references_outside_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    write(
        &dir.path().join(".github/workflows/ci.yml"),
        b"on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ./..\n      - uses: ./a/../../x\n",
    );
    let (code, found) = validate_json(&[], dir.path());
    assert_eq!(code, 1);
    assert_eq!(
        found,
        [
            ("local-ref-escapes".to_string(), 6, 15),
            ("local-ref-escapes".to_string(), 7, 15)
        ]
    );
    let (_, text) = run(&["validate"], dir.path());
    assert!(
        text.contains("'./..' resolves outside the repository"),
        "{text}"
    );
    assert!(
        text.contains(
            "help: a local action or reusable workflow is named by its path inside the repository"
        ),
        "{text}"
    );
}

/// Regression: `max-parallel: 1e300` and `timeout-minutes: -1` passed
/// validate and reached the executor.
#[test]
fn validate_range_checks_huge_and_negative_numbers() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join(".github/workflows/ci.yml"),
        b"on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    timeout-minutes: -1\n    strategy:\n      matrix: { n: [1, 2] }\n      max-parallel: 1e300\n    steps:\n      - run: echo\n        timeout-minutes: 18446744073709551616\n",
    );
    let (code, found) = validate_json(&[], dir.path());
    assert_eq!(code, 1);
    assert_eq!(
        found,
        [
            ("number-range".to_string(), 5, 22),
            ("number-range".to_string(), 8, 21),
            ("number-range".to_string(), 11, 26)
        ]
    );
    let (_, text) = run(&["validate"], dir.path());
    assert!(
        text.contains("max-parallel must be at most 2147483647, not 1E+300"),
        "{text}"
    );
}

/// Regression: `plan` and `audit` said only "stream did not contain valid
/// UTF-8"; they now give the byte offset exactly as `validate` does.
#[test]
fn plan_and_audit_report_invalid_utf8_with_the_offset_validate_gives() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join(".github/workflows/ci.yml"),
        b"on: push\njobs: \xff\n",
    );
    let message = "the file is not UTF-8 text (invalid byte at offset 15)";
    let (code, text) = run(&["validate"], dir.path());
    assert_eq!(code, 1, "{text}");
    assert!(text.contains(message), "{text}");
    for command in ["plan", "audit"] {
        let (code, text) = run(&[command], dir.path());
        assert_eq!(code, 2, "{command}: {text}");
        assert!(
            text.contains(&format!(".github/workflows/ci.yml: {message}")),
            "{command}: {text}"
        );
    }
}

/// Regression: a local action reached through a symbolic link that points
/// out of the repository was accepted.
#[cfg(unix)]
#[test]
fn validate_refuses_local_actions_linked_from_outside_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::create_dir_all(repo.join(".github/actions")).unwrap();
    write(
        &dir.path().join("outside/action.yml"),
        b"name: x\nruns:\n  using: composite\n  steps:\n    - run: echo\n      shell: bash\n",
    );
    std::os::unix::fs::symlink(dir.path().join("outside"), repo.join(".github/actions/x")).unwrap();
    write(
        &repo.join(".github/workflows/ci.yml"),
        b"on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ./.github/actions/x\n",
    );
    let (code, found) = validate_json(&[".github/workflows/ci.yml"], &repo);
    assert_eq!(code, 1);
    assert_eq!(found, [("local-ref-escapes".to_string(), 6, 15)]);
}

/// The stdout of a `gantry` call as JSON.
fn json_of(args: &[&str], dir: &Path) -> serde_json::Value {
    let out = gantry().args(args).current_dir(dir).output().unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}\n{}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn validate_json_is_a_versioned_document() {
    let doc = json_of(
        &["validate", "--format", "json"],
        &fixtures().join("broken"),
    );
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["files"][0]["kind"], "workflow");
    assert_eq!(doc["files"][0]["valid"], false);
    assert!(doc["summary"]["errors"].as_u64().unwrap() > 0, "{doc:#}");
    // The documented fields of a diagnostic, and nothing renamed.
    let d = &doc["files"][0]["diagnostics"][0];
    for key in ["severity", "code", "message", "location"] {
        assert!(d.get(key).is_some(), "no {key} in {d:#}");
    }
}

#[test]
fn plan_json_is_a_versioned_document() {
    let doc = json_of(
        &[
            "plan", "--event", "push", "--ref", "main", "--format", "json",
        ],
        &example(),
    );
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["event"]["name"], "push");
    assert_eq!(doc["event"]["ref"], "refs/heads/main");
    let workflow = &doc["workflows"][0];
    for key in ["path", "name", "decision", "jobs", "levels"] {
        assert!(workflow.get(key).is_some(), "no {key} in {workflow:#}");
    }
}

/// `call-permissions` follows the repository's default token setting
/// (flag, then `.gantry/config.yml`) and is a warning while it is unknown;
/// `runner-labels:` in the same file declares self-hosted labels.
#[test]
fn validate_follows_the_default_token_setting_and_declared_runner_labels() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    write(
        &dir.path().join(".github/workflows/ci.yml"),
        b"on: push\njobs:\n  call:\n    uses: ./.github/workflows/deploy.yml\n  gpu:\n    runs-on: [self-hosted, gpu]\n    steps:\n      - run: echo\n",
    );
    write(
        &dir.path().join(".github/workflows/deploy.yml"),
        b"on: workflow_call\njobs:\n  go:\n    runs-on: ubuntu-latest\n    permissions: { contents: write }\n    steps:\n      - run: echo\n",
    );
    let severities = |args: &[&str]| {
        let json = json_of(
            &[&["validate", "--format", "json"], args].concat(),
            dir.path(),
        );
        let mut found: Vec<(String, String)> = json["files"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|f| f["diagnostics"].as_array().unwrap().clone())
            .map(|d| {
                (
                    d["code"].as_str().unwrap().to_string(),
                    d["severity"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        found.sort();
        found
    };
    let pair = |c: &str, s: &str| (c.to_string(), s.to_string());
    assert_eq!(
        severities(&[]),
        [
            pair("call-permissions", "warning"),
            pair("unknown-runner-label", "warning")
        ]
    );
    let (code, _) = validate_json(&[], dir.path());
    assert_eq!(code, 0, "warnings alone pass");
    assert_eq!(
        severities(&["--default-token-permissions", "read"]),
        [
            pair("call-permissions", "error"),
            pair("unknown-runner-label", "warning")
        ]
    );
    write(
        &dir.path().join(".gantry/config.yml"),
        b"default-token-permissions: write\nrunner-labels: [gpu]\n",
    );
    assert_eq!(severities(&[]), []);
    assert_eq!(
        severities(&["--default-token-permissions", "read"]),
        [pair("call-permissions", "error")]
    );
    write(
        &dir.path().join(".gantry/config.yml"),
        b"default-token-permissions: admin\n",
    );
    let (code, text) = run(&["validate"], dir.path());
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("`admin`") && text.contains(".gantry/config.yml"),
        "{text}"
    );
}

/// `run:` scripts go through shellcheck when it is installed, each finding
/// at its place in the workflow; without it, validate says so once.
#[test]
fn validate_checks_run_scripts_with_shellcheck_when_installed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    write(
        &dir.path().join(".github/workflows/ci.yml"),
        b"on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n          echo ok\n          echo $FOO\n",
    );
    write(
        &dir.path().join(".github/workflows/other.yml"),
        b"on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo $BAR\n",
    );
    if Path::new("/usr/bin/shellcheck").is_file() {
        let (code, found) = validate_json(&[], dir.path());
        assert_eq!(code, 0, "shellcheck findings are warnings");
        assert_eq!(
            found,
            [("SC2086".to_string(), 8, 16), ("SC2086".to_string(), 6, 19)]
        );
    }
    let empty = tempfile::tempdir().unwrap();
    let out = gantry()
        .arg("validate")
        .current_dir(dir.path())
        .env("PATH", empty.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(
        text.matches("note: shellcheck is not installed").count(),
        1,
        "{text}"
    );
}

/// actionlint's classic broken workflow through `validate`: each finding
/// of validate's at the line and column actionlint gives it.
#[test]
fn validate_reports_actionlint_classic_mistakes_at_their_place() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    let classic = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../gantry-workflow/tests/fixtures/lint/classic.yml");
    write(
        &dir.path().join(".github/workflows/ci.yml"),
        &std::fs::read(classic).unwrap(),
    );
    let (code, found) = validate_json(&[], dir.path());
    assert_eq!(
        code, 1,
        "the unknown `branch` key is an error on GitHub too"
    );
    for expected in [
        ("unknown-key", 3, 5),
        ("unknown-runner-label", 10, 28),
        ("undefined-matrix-key", 21, 20),
    ] {
        assert!(
            found
                .iter()
                .any(|(c, l, k)| c == expected.0 && *l == expected.1 && *k == expected.2),
            "{expected:?} not in {found:?}"
        );
    }
}

#[test]
fn commands_find_the_repository_from_a_folder_inside_it() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let deep = repo.join("src/deep");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::create_dir_all(repo.join(".github/workflows")).unwrap();
    std::fs::create_dir_all(repo.join(".gantry/services")).unwrap();
    std::fs::write(
        repo.join(".github/workflows/ci.yml"),
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo built\n",
    )
    .unwrap();
    std::fs::write(
        repo.join(".gantry/services/api.yml"),
        "service:\n  name: api\n  spec:\n    api_version: v1\n    compliance_mode: compliant\n    dependencies:\n      runtime: []\n      data: []\n      security: []\n",
    )
    .unwrap();
    let home = dir.path().join("home");

    // From a folder deep inside: the workflows and .gantry/ of the repository.
    for args in [
        vec!["plan", "--format", "json"],
        vec!["validate"],
        // A path is relative to where gantry was started, as with git.
        vec!["validate", "../../.github/workflows/ci.yml"],
        vec!["plan", "ci.yml"],
    ] {
        let out = gantry()
            .args(&args)
            .current_dir(&deep)
            .env("GANTRY_HOME", &home)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if args[0] == "plan" {
            assert!(stdout.contains("build"), "{args:?}: {stdout}");
        }
    }
    let out = gantry()
        .args(["-C", "repo/src", "services", "--format", "json"])
        .current_dir(dir.path())
        .env("GANTRY_HOME", &home)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("\"api\""), "{stdout}");

    // A -C folder that is not there is a usage error naming it.
    let out = gantry()
        .args(["-C", "nowhere", "plan"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot work in nowhere"));
}
