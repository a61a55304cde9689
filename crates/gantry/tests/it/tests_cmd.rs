//! `gantry/test-report` in a real run, then `gantry tests`: failures with
//! their messages, flaky tests across runs of one commit, quarantine, and
//! the split.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::commit_all;

const WORKFLOW: &str = r#"name: CI
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false
      matrix:
        leg: [a, b]
    steps:
      - uses: actions/checkout@v4
      - name: Write the report
        env:
          FLIP: ${{ vars.FLIP }}
          LEG: ${{ matrix.leg }}
        run: |
          mkdir -p reports
          if [ "$FLIP" = "$LEG" ]; then
            flip='<failure message="flipped on leg '"$LEG"'"/>'
          else
            flip=''
          fi
          cat > "reports/junit-$LEG.xml" <<XML
          <testsuite name="unit">
            <testcase classname="tests.test_math" name="test_add" file="tests/test_math.py" time="2.0"/>
            <testcase classname="tests.test_math" name="test_flip" file="tests/test_math.py" time="1.0">$flip</testcase>
            <testcase classname="tests.test_slow" name="test_big" file="tests/test_slow.py" time="6.0"/>
            <testcase classname="tests.test_io" name="test_read" file="tests/test_io.py" time="3.0"/>
          </testsuite>
          XML
      - uses: gantry/test-report@v1
        with:
          path: reports/*.xml
"#;

struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join(".github/workflows")).unwrap();
        std::fs::create_dir_all(root.join("tests")).unwrap();
        std::fs::write(root.join(".github/workflows/ci.yml"), WORKFLOW).unwrap();
        for (file, size) in [
            ("tests/test_math.py", 300),
            ("tests/test_slow.py", 600),
            ("tests/test_io.py", 300),
            ("tests/test_new.py", 600),
        ] {
            std::fs::write(root.join(file), "#".repeat(size)).unwrap();
        }
        commit_all(&root);
        Repo { dir }
    }

    fn root(&self) -> std::path::PathBuf {
        self.dir.path().join("repo")
    }

    fn gantry(&self, args: &[&str]) -> Output {
        self.gantry_in(&self.root(), args)
    }

    /// gantry started in `folder` (`-C`), on this repository's home.
    fn gantry_in(&self, folder: &Path, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_gantry"))
            .arg("-C")
            .arg(folder)
            .args(args)
            .env("GANTRY_HOME", self.dir.path().join("home"))
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self.gantry(args);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "gantry {args:?}: {e}\n{}\n{}",
                text(&out.stdout),
                text(&out.stderr)
            )
        })
    }

    fn write(&self, rel: &str, body: &str) {
        let path = self.root().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn exit(out: &Output) -> Option<i32> {
    out.status.code()
}

fn failing_names(report: &Value) -> Vec<String> {
    report["failing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} in {}",
                f["name"].as_str().unwrap(),
                f["job_name"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn a_failing_test_is_named_with_its_message_and_a_flip_on_one_commit_is_flaky() {
    let repo = Repo::new();
    // Run 1: test_flip fails on leg b; the job fails through the report step.
    let first = repo.gantry(&["run", "--var", "FLIP=b"]);
    assert_eq!(
        exit(&first),
        Some(1),
        "{}\n{}",
        text(&first.stdout),
        text(&first.stderr)
    );
    let all = format!("{}{}", text(&first.stdout), text(&first.stderr));
    assert!(
        all.contains("tests.test_math.test_flip failed: flipped on leg b"),
        "{all}"
    );

    let report = repo.json(&["tests", "--format", "json"]);
    assert_eq!(report["counts"]["total"], 8, "{report:#}");
    assert_eq!(report["counts"]["failed"], 1, "{report:#}");
    assert_eq!(failing_names(&report), ["test_flip in test (b)"]);
    assert_eq!(report["failing"][0]["message"], "flipped on leg b");
    let human = repo.gantry(&["tests", "--failed"]);
    assert_eq!(exit(&human), Some(1));
    assert!(
        text(&human.stdout)
            .contains("FAILED tests.test_math.test_flip (tests/test_math.py) in test (b)"),
        "{}",
        text(&human.stdout)
    );

    let show = repo.gantry(&["runs", "show", "1"]);
    assert!(
        text(&show.stdout)
            .contains("failing tests\n  tests.test_math.test_flip in test (b): flipped on leg b"),
        "{}",
        text(&show.stdout)
    );

    // Run 2 of the same commit passes: test_flip is flaky, the others are not.
    let second = repo.gantry(&["run"]);
    assert_eq!(
        exit(&second),
        Some(0),
        "{}\n{}",
        text(&second.stdout),
        text(&second.stderr)
    );
    let flaky = repo.json(&["tests", "--flaky", "--since", "1d", "--format", "json"]);
    let tests = flaky["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 1, "{flaky:#}");
    assert_eq!(tests[0]["test"], "tests.test_math.test_flip");
    assert_eq!(tests[0]["flake_rate"], 1.0);
    assert_eq!(
        tests[0]["last"][0]["how"],
        "failed and passed on the same commit"
    );
    assert_eq!(flaky["runs"], 2);

    // The recorded results as test-result attestations: run 1 failed; run
    // 2 passed, but test_flip is flaky and not quarantined, so it counts
    // as failed.
    assert_eq!(
        exit(&repo.gantry(&["key", "generate", "--out", "ci"])),
        Some(0)
    );
    let predicate = |run: &str| -> Value {
        let envelope = repo.json(&[
            "attest",
            "-t",
            "test-result",
            "--run",
            run,
            "-s",
            "tests",
            "-k",
            "ci.key",
        ]);
        let payload = envelope["payload"].as_str().unwrap();
        let statement: Value = serde_json::from_slice(&base64_decode(payload)).unwrap();
        statement["predicate"].clone()
    };
    let first = predicate("1");
    assert_eq!(first["result"], "FAILED", "{first:#}");
    assert_eq!(
        first["failedTests"],
        serde_json::json!(["tests.test_math.test_flip"])
    );
    assert_eq!(first["passedTests"].as_array().unwrap().len(), 3);
    assert_eq!(
        first["configuration"],
        serde_json::json!([{"name": "reports/junit-a.xml"}, {"name": "reports/junit-b.xml"}])
    );
    let second = predicate("2");
    assert_eq!(second["result"], "FAILED", "{second:#}");
    assert_eq!(
        second["failedTests"],
        serde_json::json!(["tests.test_math.test_flip"])
    );

    // Quarantined, its failure is a warning and the job passes.
    repo.write(
        ".gantry/quarantine.yml",
        "quarantine:\n  - test: tests.test_math.test_flip\n    reason: flips on leg b\n    expires: 2999-12-31\n",
    );
    let third = repo.gantry(&["run", "--include-uncommitted", "--var", "FLIP=a"]);
    let all = format!("{}{}", text(&third.stdout), text(&third.stderr));
    assert_eq!(exit(&third), Some(0), "{all}");
    assert!(
        all.contains("quarantined until 2999-12-31: flips on leg b"),
        "{all}"
    );
    let report = repo.json(&["tests", "--format", "json"]);
    assert_eq!(
        report["failing"][0]["quarantined"],
        "flips on leg b (until 2999-12-31)"
    );
    assert_eq!(exit(&repo.gantry(&["tests"])), Some(0));

    // Run 3's failure is quarantined: warned.
    let third = predicate("3");
    assert_eq!(third["result"], "WARNED", "{third:#}");
    assert_eq!(
        third["warnedTests"],
        serde_json::json!(["tests.test_math.test_flip"])
    );
    let none = repo.gantry(&[
        "attest",
        "-t",
        "test-result",
        "--run",
        "99",
        "-s",
        "tests",
        "-k",
        "ci.key",
    ]);
    assert_eq!(exit(&none), Some(2));
    assert!(
        text(&none.stderr).contains("run 99 has no recorded test results"),
        "{}",
        text(&none.stderr)
    );
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

#[test]
fn split_balances_files_by_their_recorded_time() {
    let repo = Repo::new();
    assert_eq!(exit(&repo.gantry(&["run"])), Some(0));
    // Recorded: test_slow 6 s, test_math 3 s, test_io 3 s; test_new has no
    // history and weighs its size at the recorded rate (1 s per 100 bytes): 6 s.
    let plan = repo.json(&[
        "tests",
        "split",
        "--shards",
        "2",
        "--index",
        "1",
        "--glob",
        "tests/*.py",
        "--format",
        "json",
    ]);
    let shards = plan["shards"].as_array().unwrap();
    let seconds: Vec<f64> = shards
        .iter()
        .map(|s| s["seconds"].as_f64().unwrap())
        .collect();
    assert_eq!(seconds, [9.0, 9.0], "{plan:#}");
    assert_eq!(plan["estimated"], serde_json::json!(["tests/test_new.py"]));
    let mut by_index: Vec<Vec<String>> = Vec::new();
    for index in ["1", "2"] {
        let out = repo.gantry(&[
            "tests",
            "split",
            "--shards",
            "2",
            "--index",
            index,
            "--glob",
            "tests/*.py",
        ]);
        assert_eq!(exit(&out), Some(0), "{}", text(&out.stderr));
        by_index.push(text(&out.stdout).lines().map(str::to_string).collect());
    }
    let mut files: Vec<String> = by_index.concat();
    files.sort();
    assert_eq!(
        files,
        [
            "tests/test_io.py",
            "tests/test_math.py",
            "tests/test_new.py",
            "tests/test_slow.py"
        ]
    );
    // From a folder inside the repository, files are given and printed
    // from there, and still weigh their recorded time.
    let tests = repo.root().join("tests");
    let from_tests = |args: &[&str]| repo.gantry_in(&tests, args);
    let mut seen = 0;
    for (index, from_root) in ["1", "2"].into_iter().zip(&by_index) {
        let out = from_tests(&[
            "tests",
            "split",
            "--shards",
            "2",
            "--index",
            index,
            "test_io.py",
            "test_math.py",
            "test_new.py",
            "test_slow.py",
        ]);
        assert_eq!(exit(&out), Some(0), "{}", text(&out.stderr));
        let shard: Vec<String> = text(&out.stdout).lines().map(str::to_string).collect();
        let expected: Vec<String> = from_root
            .iter()
            .map(|f| f.trim_start_matches("tests/").to_string())
            .collect();
        assert_eq!(shard, expected, "shard {index}");
        seen += shard.len();
    }
    assert_eq!(seen, 4);
    let split_one = |files: &[&str]| {
        let mut args = vec!["tests", "split", "--shards", "1", "--index", "1"];
        args.extend_from_slice(files);
        from_tests(&args)
    };
    // `.` and `..` are resolved: each file once, as history knows it.
    let out = split_one(&[
        "./test_io.py",
        "../tests/test_io.py",
        "../tests/./test_math.py",
    ]);
    assert_eq!(exit(&out), Some(0), "{}", text(&out.stderr));
    let mut one: Vec<String> = text(&out.stdout).lines().map(str::to_string).collect();
    one.sort();
    assert_eq!(one, ["test_io.py", "test_math.py"]);
    let out = split_one(&["../../outside.py"]);
    assert_eq!(exit(&out), Some(2));
    assert!(
        text(&out.stderr).contains("`../../outside.py` is outside the repository"),
        "{}",
        text(&out.stderr)
    );
    let bad = repo.gantry(&[
        "tests",
        "split",
        "--shards",
        "2",
        "--index",
        "3",
        "--glob",
        "tests/*.py",
    ]);
    assert_eq!(exit(&bad), Some(2));
    assert!(
        text(&bad.stderr).contains("--index 3 is outside 1..=2"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn an_unreadable_report_is_a_warning_at_its_line_and_fails_nothing() {
    let repo = Repo::new();
    let root: &Path = &repo.root();
    let workflow = "name: CI\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: printf '<testsuite name=\"u\">\\n<testcase name=\"a\">\\n</testsuit>\\n' > broken.xml\n      - uses: gantry/test-report@v1\n        with:\n          path: broken.xml\n";
    std::fs::write(root.join(".github/workflows/ci.yml"), workflow).unwrap();
    let out = repo.gantry(&["run", "--include-uncommitted"]);
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(exit(&out), Some(0), "{all}");
    assert!(all.contains("unreadable test report"), "{all}");
    let report = repo.json(&["tests", "--format", "json"]);
    let error = report["reports"][0]["error"].as_str().unwrap();
    assert!(error.starts_with("line 3:"), "{report:#}");
}

#[test]
fn junit_files_in_an_uploaded_artifact_are_recorded_too() {
    let repo = Repo::new();
    let root: &Path = &repo.root();
    let workflow = r#"name: CI
on: push
jobs:
  e2e:
    runs-on: ubuntu-latest
    steps:
      - run: |
          mkdir -p out/results
          printf '<?xml version="1.0"?>\n<!-- playwright -->\n<testsuites><testsuite name="login.spec.ts"><testcase classname="login.spec.ts" name="signs in" time="1.5"><failure message="timeout 5000ms"/></testcase></testsuite></testsuites>\n' > out/results/junit.xml
          printf '<config/>\n' > out/results/other.xml
      - uses: actions/upload-artifact@v4
        with:
          name: e2e-results
          path: out/
"#;
    std::fs::write(root.join(".github/workflows/ci.yml"), workflow).unwrap();
    let out = repo.gantry(&["run", "--include-uncommitted"]);
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(exit(&out), Some(0), "{all}");
    let report = repo.json(&["tests", "--format", "json"]);
    assert_eq!(report["counts"]["total"], 1, "{report:#}");
    assert_eq!(report["failing"][0]["name"], "signs in");
    assert_eq!(
        report["failing"][0]["report"],
        "artifact e2e-results: out/results/junit.xml"
    );
    assert_eq!(report["reports"].as_array().unwrap().len(), 1, "{report:#}");
}
