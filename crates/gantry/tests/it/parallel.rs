//! Several `gantry run`s and `gantry cache prune`s sharing one
//! `$GANTRY_HOME` at once: every run succeeds and is recorded whole, and
//! nobody sees `database is locked`.

use std::path::Path;
use std::process::{Command, Output};

const WORKFLOW: &str = "on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo hello > out.txt
      - uses: actions/cache@v4
        with:
          path: out.txt
          key: shared-${{ github.run_id }}
      - uses: actions/upload-artifact@v4
        with:
          name: out
          path: out.txt
";

/// Four processes at once, a few rounds each: bounded, and enough to
/// race on the first open, the writes and the prunes.
const PROCESSES: usize = 4;
const ROUNDS: usize = 6;

fn gantry(dir: &Path, home: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gantry"));
    cmd.args(args)
        .current_dir(dir)
        .env("GANTRY_HOME", home)
        .env("NO_COLOR", "1");
    cmd
}

fn check(what: &str, out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!stderr.contains("database is locked"), "{what}: {stderr}");
}

#[test]
fn parallel_runs_and_prunes_on_one_home_all_succeed_and_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let repos: Vec<_> = (0..PROCESSES)
        .map(|i| {
            let repo = dir.path().join(format!("repo{i}"));
            std::fs::create_dir_all(repo.join(".github/workflows")).unwrap();
            std::fs::write(repo.join(".github/workflows/ci.yml"), WORKFLOW).unwrap();
            repo
        })
        .collect();
    for round in 0..ROUNDS {
        let mut running: Vec<_> = repos
            .iter()
            .map(|repo| {
                gantry(repo, &home, &["run"])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        running.push(
            gantry(
                dir.path(),
                &home,
                &["cache", "prune", "--older-than", "30d"],
            )
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
        );
        for child in running {
            check(
                &format!("round {round}"),
                &child.wait_with_output().unwrap(),
            );
        }
    }
    let out = gantry(
        dir.path(),
        &home,
        &["runs", "-n", "1000", "--format", "json"],
    )
    .output()
    .unwrap();
    check("runs", &out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let runs = json["runs"].as_array().unwrap();
    assert_eq!(runs.len(), PROCESSES * ROUNDS);
    for run in runs {
        assert_eq!(run["conclusion"], "success", "{run}");
        let id = run["id"].to_string();
        let out = gantry(
            dir.path(),
            &home,
            &["runs", "show", &id, "--format", "json"],
        )
        .output()
        .unwrap();
        check("runs show", &out);
        let detail: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            detail["jobs"][0]["steps"].as_array().unwrap().len(),
            4,
            "{detail}"
        );
        assert_eq!(detail["artifacts"][0]["name"], "out", "run {id}");
        assert_eq!(detail["caches"].as_array().unwrap().len(), 1, "run {id}");
    }
    let out = gantry(dir.path(), &home, &["cache", "list", "--format", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["caches"].as_array().unwrap().len(), PROCESSES * ROUNDS);
}
