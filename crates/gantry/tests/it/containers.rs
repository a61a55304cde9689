//! `gantry run` with `container:` and `services:`: under podman (through
//! the test podman's wrapper, first on `PATH`, as a user's podman would
//! be found), and without any engine.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::git;

#[path = "../../../gantry-container/tests/it/common/podman.rs"]
mod podman;

/// The tests that run gantry with podman take turns: a gantry starting
/// its first container job removes what dead gantry processes left, which
/// must not race with the test that leaves something on purpose.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn gantry(dir: &Path, home: &Path, path: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(args)
        .current_dir(dir)
        .env("GANTRY_HOME", home)
        .env("NO_COLOR", "1")
        .env("PATH", path)
        .output()
        .unwrap()
}

fn committed_repo(dir: &Path, workflow: &str) -> std::path::PathBuf {
    let repo = dir.join("repo");
    std::fs::create_dir_all(repo.join(".github/workflows")).unwrap();
    std::fs::write(repo.join(".github/workflows/ci.yml"), workflow).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "ci"]);
    repo
}

const WORKFLOW: &str = r#"on: push
jobs:
  test:
    runs-on: ubuntu-latest
    container: IMAGE
    services:
      db:
        image: IMAGE
        options: --health-cmd "wget -q -O /dev/null http://127.0.0.1:8080/bin/sh" --health-interval 1s
    steps:
      - uses: actions/checkout@v4
      - run: |
          test -f .github/workflows/ci.yml
          wget -q -O /dev/null http://db:8080/bin/sh && echo "db answered"
"#;

#[test]
fn a_job_with_a_service_runs_under_podman_and_leaves_nothing() {
    let Some(podman) = podman::podman() else {
        return;
    };
    let _turn = turn();
    let dir = tempfile::tempdir().unwrap();
    let repo = committed_repo(dir.path(), &WORKFLOW.replace("IMAGE", podman::IMAGE));
    let path = format!(
        "{}:{}",
        podman.bin_dir.display(),
        std::env::var("PATH").unwrap()
    );
    let out = gantry(
        &repo,
        &dir.path().join("home"),
        &path,
        &["run", "--container-engine", "podman"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("db answered"), "{stdout}");
    assert!(stdout.contains("starting service `db`"), "{stdout}");
    let created: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split("creating the network ").nth(1))
        .collect();
    assert_eq!(created.len(), 1, "{stdout}");
    podman.assert_gone(created[0]);
}

#[test]
fn without_an_engine_the_job_says_which_to_install_and_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let repo = committed_repo(dir.path(), &WORKFLOW.replace("IMAGE", "postgres:16"));
    // A PATH with git and a shell, and neither podman nor docker.
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["git", "bash", "sh"] {
        let found = std::env::split_paths(&std::env::var_os("PATH").unwrap())
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
            .unwrap();
        std::os::unix::fs::symlink(found, bin.join(tool)).unwrap();
    }
    let out = gantry(
        &repo,
        &dir.path().join("home"),
        &bin.display().to_string(),
        &["run"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("this job needs containers (`container:` or `services:`), and neither podman nor docker is installed (looked for both on PATH); install one of them, or name one with `--container-engine podman|docker`"),
        "{stdout}"
    );
    let out = gantry(
        &repo,
        &dir.path().join("home"),
        &bin.display().to_string(),
        &["run", "--container-engine", "docker"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("`--container-engine docker`: `docker` is not on PATH; install it, or use `--container-engine podman`"), "{stdout}");
}

#[test]
fn a_docker_step_without_an_engine_fails_or_is_skipped_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let wf = "on: push\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: docker://alpine:3\n        with:\n          args: echo hi\n";
    let repo = committed_repo(dir.path(), wf);
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["git", "bash", "sh"] {
        let found = std::env::split_paths(&std::env::var_os("PATH").unwrap())
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
            .unwrap();
        std::os::unix::fs::symlink(found, bin.join(tool)).unwrap();
    }
    let path = bin.display().to_string();
    let out = gantry(&repo, &dir.path().join("home"), &path, &["run"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "`docker://alpine:3` runs in a container, and neither podman nor docker is installed"
        ),
        "{stdout}"
    );
    let out = gantry(
        &repo,
        &dir.path().join("home"),
        &path,
        &["run", "--skip-unsupported"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("skipping the step (--skip-unsupported)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("the job is `skipped`, not `success`"),
        "{stdout}"
    );
}

#[test]
fn an_unknown_engine_is_bad_usage() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(["run", "--container-engine", "nerdctl"])
        .current_dir(dir.path())
        .env("GANTRY_HOME", dir.path().join("home"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown container engine `nerdctl`: use `podman` or `docker`"),
        "{stderr}"
    );
}

const LONG_JOB: &str = r#"on: push
jobs:
  long:
    runs-on: ubuntu-latest
    services:
      web:
        image: IMAGE
        ports: ["8080"]
    steps:
      - run: echo "step started"; sleep 60
"#;

/// Starts `gantry run` and waits until its step has started; gives the
/// child, the job's network and the lines read so far.
fn start_long_run(
    podman: &podman::Podman,
    dir: &Path,
) -> (
    std::process::Child,
    String,
    std::sync::mpsc::Receiver<String>,
) {
    use std::io::BufRead;
    let repo = committed_repo(dir, &LONG_JOB.replace("IMAGE", podman::IMAGE));
    let path = format!(
        "{}:{}",
        podman.bin_dir.display(),
        std::env::var("PATH").unwrap()
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .arg("run")
        .current_dir(&repo)
        .env("GANTRY_HOME", dir.join("home"))
        .env("NO_COLOR", "1")
        .env("PATH", path)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut network = None;
    let mut seen = Vec::new();
    loop {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("the step did not start: {seen:#?}"));
        if let Some(n) = line.split("creating the network ").nth(1) {
            network = Some(n.to_string());
        }
        let started = line.contains("step started");
        seen.push(line);
        if started {
            break;
        }
    }
    (child, network.unwrap(), rx)
}

fn wait_for(child: &mut std::process::Child, secs: u64) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(std::time::Instant::now() < deadline, "gantry did not stop");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn ctrl_c_removes_the_services() {
    let Some(podman) = podman::podman() else {
        return;
    };
    let _turn = turn();
    let dir = tempfile::tempdir().unwrap();
    let (mut child, network, _lines) = start_long_run(podman, dir.path());
    assert!(podman.networks().contains(&network));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = wait_for(&mut child, 60);
    assert_eq!(status.code(), Some(1), "a cancelled run is not a success");
    podman.assert_gone(&network);
}

#[test]
fn what_a_killed_gantry_left_goes_with_the_next_run() {
    let Some(podman) = podman::podman() else {
        return;
    };
    let _turn = turn();
    let dir = tempfile::tempdir().unwrap();
    let (mut child, network, _lines) = start_long_run(podman, dir.path());
    let kill = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    wait_for(&mut child, 30);
    // Nothing could clean up: the service and the network are still there.
    assert!(podman.networks().contains(&network));
    let again = tempfile::tempdir().unwrap();
    let repo = committed_repo(again.path(), &WORKFLOW.replace("IMAGE", podman::IMAGE));
    let path = format!(
        "{}:{}",
        podman.bin_dir.display(),
        std::env::var("PATH").unwrap()
    );
    let out = gantry(&repo, &again.path().join("home"), &path, &["run"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("removed what gantry processes that are gone left: "),
        "{stdout}"
    );
    assert!(stdout.contains(&network), "{stdout}");
    podman.assert_gone(&network);
}

#[test]
fn plan_names_each_jobs_container_and_services() {
    let dir = tempfile::tempdir().unwrap();
    let repo = committed_repo(dir.path(), &WORKFLOW.replace("IMAGE", "postgres:16"));
    let path = std::env::var("PATH").unwrap();
    let out = gantry(&repo, &dir.path().join("home"), &path, &["plan"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(
            "      ✓ test\n          container postgres:16\n          service db postgres:16\n"
        ),
        "{stdout}"
    );
    let out = gantry(
        &repo,
        &dir.path().join("home"),
        &path,
        &["plan", "--format", "json"],
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let job = &doc["workflows"][0]["jobs"][0];
    assert_eq!(job["container"], "postgres:16", "{doc:#}");
    assert_eq!(
        job["services"],
        serde_json::json!([{"id": "db", "image": "postgres:16"}]),
        "{doc:#}"
    );
}

/// The example's `service` job as its README runs it: the vendored action
/// waits for the service container's mapped port, the next step calls it.
#[test]
fn the_example_service_job_runs_under_podman() {
    if std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "node is not installed"
        );
        eprintln!("skipped: node is not installed");
        return;
    }
    let Some(podman) = podman::podman() else {
        return;
    };
    let _turn = turn();
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let home = dir.path().join("home");
    crate::common::copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/pipeline"),
        &repo,
    );
    git(&repo, &["init", "-q", "-b", "main"]);
    crate::common::commit_all(&repo);
    let path = format!(
        "{}:{}",
        podman.bin_dir.display(),
        std::env::var("PATH").unwrap()
    );
    let out = gantry(
        &repo,
        &home,
        &path,
        &[
            "actions",
            "add",
            "example-org/wait-for-port@v1",
            "--from",
            "vendor/wait-for-port",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let image = format!("SERVICE_IMAGE={}", podman::IMAGE);
    let out = gantry(
        &repo,
        &home,
        &path,
        &[
            "run",
            "integration.yml",
            "--event",
            "workflow_dispatch",
            "--job",
            "service",
            "--var",
            &image,
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // busybox httpd answers for `/` (with 404: it lists no folders).
    assert!(stdout.contains("service answered "), "{stdout}");
    assert!(!stdout.contains("service answered 000"), "{stdout}");
    let created: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split("creating the network ").nth(1))
        .collect();
    assert_eq!(created.len(), 1, "{stdout}");
    podman.assert_gone(created[0]);
}
