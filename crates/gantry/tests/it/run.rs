//! `gantry run` as a new user meets it: the example pipeline passes; a
//! broken test fails it and the output names the job and step.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{copy_dir, git};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/pipeline")
}

fn gantry(dir: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(args)
        .current_dir(dir)
        .env("GANTRY_HOME", home)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// A committed repository with `ci.yml`, and a home beside it.
fn committed_repo(dir: &Path, workflow: &str) -> (PathBuf, PathBuf) {
    let repo = dir.join("repo");
    std::fs::create_dir_all(repo.join(".github/workflows")).unwrap();
    std::fs::write(repo.join(".github/workflows/ci.yml"), workflow).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "ci"]);
    (repo, dir.join("home"))
}

#[test]
fn the_example_passes_and_a_broken_test_is_pinpointed() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let home = dir.path().join("home");
    copy_dir(&example(), &repo);
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "example"]);

    let out = gantry(&repo, &home, &["run", "--format", "json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The stream's first event says which version of it this is.
    assert_eq!(events[0]["type"], "run-started");
    assert_eq!(events[0]["version"], 1);
    let finished: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e["type"] == "job-finished")
        .map(|e| (e["job"].as_str().unwrap(), e["result"].as_str().unwrap()))
        .collect();
    for job in [
        "quick-checks",
        "lint",
        "test (unit, 3.10)",
        "test (integration, 3.11)",
        "build",
        "smoke-test",
    ] {
        assert!(
            finished.contains(&(job, "success")),
            "{job} in {finished:?}"
        );
    }
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "job-skipped" && e["job"] == "release")
    );
    // The checkout step's outputs are recorded with the run.
    let head = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(&repo)
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
    let show = gantry(&repo, &home, &["runs", "show", "1"]);
    let show = String::from_utf8_lossy(&show.stdout);
    assert!(show.contains(&format!("output commit={head}")), "{show}");
    assert!(show.contains("output ref=refs/heads/main"), "{show}");

    // Break a unit test: the run fails, naming the job and the step.
    let test = repo.join("tests/unit/test_greet.py");
    let broken = std::fs::read_to_string(&test)
        .unwrap()
        .replace("hello, ops", "goodbye, ops");
    std::fs::write(&test, broken).unwrap();
    let out = gantry(&repo, &home, &["run", "--include-uncommitted"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("[test (unit, 3.11)] ✗ Test report failed"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "error: tests.unit.test_greet.test_greets_by_name failed: 'hello, ops' != 'goodbye, ops'"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("[build] skipped"), "{stdout}");

    // The run history has both runs.
    let runs = gantry(&repo, &home, &["runs", "--format", "json"]);
    let text = String::from_utf8_lossy(&runs.stdout);
    assert!(runs.status.success(), "{text}");
    let listed: serde_json::Value = serde_json::from_str(&text).unwrap();
    let conclusions: Vec<&str> = listed
        .as_array()
        .or_else(|| listed["runs"].as_array())
        .unwrap()
        .iter()
        .filter_map(|r| r["conclusion"].as_str())
        .collect();
    assert!(
        conclusions.contains(&"success") && conclusions.contains(&"failure"),
        "{text}"
    );
}

#[test]
fn invalid_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
    std::fs::write(
        dir.path().join(".github/workflows/x.yml"),
        "on: push\njobs:\n  a:\n    runs-onn: x\n",
    )
    .unwrap();
    let out = gantry(dir.path(), &dir.path().join("home"), &["run"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `runs-on`?"));
    let out = gantry(
        dir.path(),
        &dir.path().join("home"),
        &["run", "--secret", "novalue"],
    );
    assert_eq!(out.status.code(), Some(2));
}

/// Two runs in one `concurrency` group: the second waits for the first; with
/// `cancel-in-progress` it cancels the first instead.
#[test]
fn concurrency_groups_serialise_or_cancel_runs_on_one_host() {
    for (cancel, first_code) in [(false, Some(0)), (true, Some(1))] {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let home = dir.path().join("home");
        std::fs::create_dir_all(repo.join(".github/workflows")).unwrap();
        std::fs::write(
            repo.join(".github/workflows/w.yml"),
            format!(
                "on: push\nconcurrency:\n  group: deploy-${{{{ github.ref }}}}\n  cancel-in-progress: {cancel}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: sleep 3\n"
            ),
        )
        .unwrap();
        let spawn = || {
            Command::new(env!("CARGO_BIN_EXE_gantry"))
                .args(["run", "--ref", "main"])
                .current_dir(&repo)
                .env("GANTRY_HOME", &home)
                .env("NO_COLOR", "1")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let first = spawn();
        std::thread::sleep(std::time::Duration::from_millis(1000));
        let started = std::time::Instant::now();
        let second = spawn().wait_with_output().unwrap();
        let first = first.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&second.stderr);
        assert!(
            stderr.contains("holds the concurrency group `deploy-refs/heads/main`"),
            "{stderr}"
        );
        assert_eq!(second.status.code(), Some(0), "{stderr}");
        assert_eq!(
            first.status.code(),
            first_code,
            "cancel-in-progress: {cancel}"
        );
        if !cancel {
            // It waited for the first run's sleep before its own.
            assert!(
                started.elapsed() >= std::time::Duration::from_secs(4),
                "{:?}",
                started.elapsed()
            );
        }
    }
}

/// The human output of `gantry run` as a user reads it: jobs in order of
/// their needs, step marks, a masked secret, `continue-on-error`, a job
/// skipped by its `if:`, and the summary. Times, durations, run ids and
/// temporary paths are redacted.
#[test]
fn human_output_of_a_small_run() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let home = dir.path().join("home");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/run/small"),
        &repo,
    );
    let out = gantry(
        &repo,
        &home,
        &[
            "run",
            "--ref",
            "refs/heads/main",
            "--jobs",
            "1",
            "--secret",
            "TOKEN=hunter2",
        ],
    );
    let text = format!(
        "exit: {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains("hunter2"), "{text}");
    let temp = dir.path().display().to_string();
    insta::with_settings!({ filters => vec![
        (regex_escape(&temp).as_str(), "[TEMP]"),
        (r"\b\d+(\.\d+)?(ms|s)\b", "[DURATION]"),
        // Summary columns are aligned to the widest duration.
        (r"(success|failure|skipped|cancelled) +\[DURATION\]", "$1 [DURATION]"),
        (r"#\d+", "#[ID]"),
        (r"gantry logs \d+", "gantry logs [ID]"),
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[TIME]"),
    ]}, {
        insta::assert_snapshot!(text);
    });
}

/// `text` as a regular expression matching itself.
fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$#&-~".contains(c);
            special
                .then_some('\\')
                .into_iter()
                .chain(std::iter::once(c))
        })
        .collect()
}

/// Processes whose environment holds `LEFTOVER_MARK=<mark>`.
fn marked(mark: &str) -> Vec<i32> {
    let needle = format!("LEFTOVER_MARK={mark}");
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .map(|env| env.split(|&b| b == 0).any(|v| v == needle.as_bytes()))
                .unwrap_or(false)
        })
        .collect()
}

/// Kills what the test left running, even when it fails.
struct KillMarked(String);

impl Drop for KillMarked {
    fn drop(&mut self) {
        for pid in marked(&self.0) {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
}

/// `kill -9` of a running gantry leaves its steps' processes behind; the
/// next `gantry run` ends them and says so.
#[test]
fn the_next_run_ends_what_a_killed_gantry_left() {
    use std::io::BufRead;
    let mark = KillMarked(format!("killed-gantry-{}", std::process::id()));
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let home = dir.path().join("home");
    std::fs::create_dir_all(repo.join(".github/workflows")).unwrap();
    std::fs::write(
        repo.join(".github/workflows/w.yml"),
        format!(
            "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: 'setsid sleep 300 & echo escaped-$((6*7)); sleep 300'\n        env:\n          LEFTOVER_MARK: {}\n",
            mark.0
        ),
    )
    .unwrap();
    let mut first = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(["run", "--ref", "main"])
        .current_dir(&repo)
        .env("GANTRY_HOME", &home)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = first.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.contains("escaped-42") {
                let _ = tx.send(());
            }
        }
    });
    let started = rx.recv_timeout(std::time::Duration::from_secs(60));
    let pid = first.id();
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(started.is_ok(), "the step never started");
    assert!(!marked(&mark.0).is_empty(), "nothing was left behind");

    std::fs::write(
        repo.join(".github/workflows/w.yml"),
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: echo fine}]\n",
    )
    .unwrap();
    let second = gantry(&repo, &home, &["run", "--ref", "main"]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("processes left by run 1 (pid ")
            && stderr.contains(&format!("(pid {pid} crashed)")),
        "{stderr}"
    );
    let mut left = marked(&mark.0);
    for _ in 0..50 {
        if left.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        left = marked(&mark.0);
    }
    assert_eq!(left, Vec::<i32>::new(), "processes outlived the next start");
}

#[test]
fn one_job_one_matrix_leg_and_a_job_alone_with_the_results_of_its_needs() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, home) = committed_repo(
        dir.path(),
        r#"on: push
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: echo linted
  build:
    runs-on: ubuntu-latest
    outputs:
      version: ${{ steps.v.outputs.version }}
    steps:
      - id: v
        run: echo "version=1.2.3" >> "$GITHUB_OUTPUT"
  test:
    needs: build
    runs-on: ubuntu-latest
    strategy:
      matrix:
        python: ["3.11", "3.12"]
    steps:
      - run: echo "testing ${{ needs.build.outputs.version }} on ${{ matrix.python }}"
"#,
    );
    let finished = |out: &std::process::Output| -> Vec<String> {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|e| e["type"] == "job-finished")
            .map(|e| {
                format!(
                    "{} {}",
                    e["job"].as_str().unwrap(),
                    e["result"].as_str().unwrap()
                )
            })
            .collect()
    };

    // --job test brings build, not lint; --matrix keeps one leg.
    let out = gantry(
        &repo,
        &home,
        &[
            "run",
            "--job",
            "test",
            "--matrix",
            "python:3.12",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut jobs = finished(&out);
    jobs.sort();
    assert_eq!(jobs, ["build success", "test (3.12) success"]);

    // --no-deps takes build's outputs from that run.
    let out = gantry(&repo, &home, &["run", "--job", "test", "--no-deps"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("of build come from run 1"), "{stderr}");
    assert!(stdout.contains("testing 1.2.3 on 3.11"), "{stdout}");
    assert!(!stdout.contains("[build]"), "{stdout}");

    // Unknown jobs are named, with a suggestion.
    let out = gantry(&repo, &home, &["run", "--job", "biuld"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("has no job `biuld` (did you mean `build`?)"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_unknown_event_is_refused_with_a_suggestion() {
    let home = tempfile::tempdir().unwrap();
    for command in ["run", "plan"] {
        let out = gantry(
            &example(),
            home.path(),
            &[command, "--event", "pul_request"],
        );
        assert_eq!(out.status.code(), Some(2), "{command}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(
                "`pul_request` is not an event GitHub sends (did you mean `pull_request`?)"
            ),
            "{command}: {stderr}"
        );
    }
}

#[test]
fn secrets_read_but_not_supplied_are_named_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, home) = committed_repo(
        dir.path(),
        r#"on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo "token is [${{ secrets.NPM_TOKEN }}]"
  release:
    if: startsWith(github.ref, 'refs/tags/')
    runs-on: ubuntu-latest
    steps:
      - run: echo ${{ secrets.RELEASE_KEY }}
"#,
    );

    let out = gantry(&repo, &home, &["run"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("secret NPM_TOKEN is read by job build but not supplied"),
        "{stderr}"
    );
    // The release job does not run on a branch, so its secret is not asked for.
    assert!(!stderr.contains("RELEASE_KEY"), "{stderr}");
    // The warning comes before the job's output.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("token is []"), "{stdout}");

    let out = gantry(&repo, &home, &["run", "--secret", "npm_token=s3cret"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("not supplied"), "{stderr}");
}
