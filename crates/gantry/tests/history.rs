//! `gantry runs`, `gantry logs` and `gantry cache` over a history recorded
//! through the store, as the executor records it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use gantry_store::{CacheEvent, Conclusion, NewJob, NewRun, NewStep, RunId, Store};

fn gantry(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(args)
        .env("GANTRY_HOME", home)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Records one finished run with two steps, logs, a cache and an artifact.
fn record(home: &Path) -> RunId {
    let store = Store::open(home).unwrap();
    let run = store
        .begin_run(&NewRun {
            workflow_path: ".github/workflows/ci.yml".into(),
            workflow_name: "CI".into(),
            event: "push".into(),
            git_ref: Some("refs/heads/main".into()),
            commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
            inputs_json: "{}".into(),
        })
        .unwrap();
    let job = store
        .begin_job(
            run,
            &NewJob {
                job_id: "test".into(),
                name: "test (ubuntu)".into(),
                matrix_json: Some(r#"{"os":"ubuntu"}"#.into()),
            },
        )
        .unwrap();
    for (index, name, exit, log) in [
        (0u32, "Build", 0, "compiling\nfinished\n"),
        (1, "Unit tests", 1, "1 passed, 1 failed\n"),
    ] {
        store
            .begin_step(
                job,
                &NewStep {
                    index,
                    step_id: Some(name.to_lowercase().replace(' ', "-")),
                    name: name.into(),
                },
            )
            .unwrap();
        let log_path = store.log_path(run, job, Some(index));
        std::fs::create_dir_all(log_path.parent().unwrap()).unwrap();
        std::fs::write(log_path, log).unwrap();
        let c = if exit == 0 {
            Conclusion::Success
        } else {
            Conclusion::Failure
        };
        store
            .finish_step(
                job,
                index,
                c,
                c,
                Some(exit),
                &[("n".into(), index.to_string())],
            )
            .unwrap();
    }
    store
        .record_cache_event(run, "cargo-abc", CacheEvent::Miss)
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(work.path().join("target")).unwrap();
    std::fs::write(work.path().join("target/app"), b"binary").unwrap();
    store
        .save_cache("cargo-abc", "v1", work.path(), &["target".into()])
        .unwrap();
    store
        .upload_artifact(run, "app", work.path(), &["target/app".into()], None)
        .unwrap();
    store
        .finish_job(
            job,
            Conclusion::Failure,
            &[("version".into(), "1.0".into())],
        )
        .unwrap();
    store.finish_run(run, Conclusion::Failure).unwrap();
    run
}

#[test]
fn runs_lists_and_shows_the_history() {
    let home = tempfile::tempdir().unwrap();
    let run = record(home.path());

    let out = gantry(home.path(), &["runs"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.starts_with("ID  STATUS"), "{text}");
    assert!(text.contains(&format!("{run}   failure  CI")), "{text}");
    assert!(text.contains("main"), "{text}");

    let out = gantry(home.path(), &["runs", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["runs"][0]["conclusion"], "failure");
    assert_eq!(json["runs"][0]["ref"], "refs/heads/main");

    let out = gantry(home.path(), &["runs", "show", &run.to_string()]);
    assert!(out.status.success());
    let text = stdout(&out);
    for expected in [
        "run 1: CI (.github/workflows/ci.yml)",
        "test (ubuntu)  failure",
        "1. Unit tests  failure",
        "exit 1",
        "output version=1.0",
        "miss   cargo-abc",
        "app  1 file",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    let out = gantry(home.path(), &["runs", "show", "1", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["jobs"][0]["steps"][1]["exit_code"], 1);
    assert_eq!(json["jobs"][0]["outputs"]["version"], "1.0");
    assert_eq!(json["artifacts"][0]["name"], "app");

    let out = gantry(home.path(), &["runs", "show", "7"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no run 7"));
}

#[test]
fn logs_print_each_step_under_a_header() {
    let home = tempfile::tempdir().unwrap();
    record(home.path());
    let out = gantry(home.path(), &["logs", "1"]);
    assert!(out.status.success());
    assert_eq!(
        stdout(&out),
        "==> test (ubuntu) / 0. Build (success) <==\ncompiling\nfinished\n\n\
         ==> test (ubuntu) / 1. Unit tests (failure) <==\n1 passed, 1 failed\n\n"
    );
    for step in ["1", "unit-tests", "Unit tests"] {
        let out = gantry(home.path(), &["logs", "1", "--job", "test", "--step", step]);
        assert_eq!(
            stdout(&out),
            "==> test (ubuntu) / 1. Unit tests (failure) <==\n1 passed, 1 failed\n\n",
            "--step {step}"
        );
    }
    let out = gantry(home.path(), &["logs", "1", "--job", "deploy"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("its jobs: test"));
}

#[test]
fn cache_list_and_prune() {
    let home = tempfile::tempdir().unwrap();
    record(home.path());
    let out = gantry(home.path(), &["cache", "list", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["caches"][0]["key"], "cargo-abc");
    assert_eq!(json["limit_bytes"], 10u64 * 1024 * 1024 * 1024);

    let out = gantry(
        home.path(),
        &["cache", "prune", "--key", "cargo-", "--dry-run"],
    );
    assert!(
        stdout(&out).contains("would remove cache cargo-abc"),
        "{}",
        stdout(&out)
    );
    let out = gantry(home.path(), &["cache", "list"]);
    assert!(stdout(&out).contains("cargo-abc"));

    let out = gantry(
        home.path(),
        &["cache", "prune", "--key", "cargo-", "--format", "json"],
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["removed"][0]["key"], "cargo-abc");
    assert_eq!(json["blobs_deleted"], 1);
    let out = gantry(home.path(), &["cache", "list"]);
    assert_eq!(stdout(&out), "no caches\n");

    let out = gantry(home.path(), &["cache", "prune", "--max-size", "5X"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_empty_home_has_no_history_and_is_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let out = gantry(&home, &["runs"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("no runs recorded yet"));
    let out = gantry(&home, &["cache", "list"]);
    assert_eq!(stdout(&out), "no caches\n");
    assert!(!home.exists());
}
