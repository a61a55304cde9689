//! Run history: recording, reading back, migrations, damaged databases.

use std::fs;
use std::time::Duration;

use crate::common::open_with_clock;
use gantry_store::{
    CacheEvent, Conclusion, NewJob, NewRun, NewStep, RunId, Store, StoreError, schema_version,
};

fn new_run(name: &str) -> NewRun {
    NewRun {
        workflow_path: ".github/workflows/ci.yml".into(),
        workflow_name: name.into(),
        event: "push".into(),
        git_ref: Some("refs/heads/main".into()),
        commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
        inputs_json: r#"{"suite":"unit"}"#.into(),
    }
}

#[test]
fn a_run_with_jobs_steps_and_outputs_reads_back() {
    let home = tempfile::tempdir().unwrap();
    let (store, clock) = open_with_clock(home.path());
    let run = store.begin_run(&new_run("CI")).unwrap();
    let job = store
        .begin_job(
            run,
            &NewJob {
                job_id: "test".into(),
                name: "test (ubuntu, 3.12)".into(),
                matrix_json: Some(r#"{"os":"ubuntu","python":"3.12"}"#.into()),
                queued_ms: None,
            },
        )
        .unwrap();
    store
        .begin_step(
            job,
            &NewStep {
                index: 0,
                step_id: Some("build".into()),
                name: "Build".into(),
            },
        )
        .unwrap();
    clock.advance(Duration::from_secs(3));
    store
        .finish_step(
            job,
            0,
            Conclusion::Success,
            Conclusion::Success,
            Some(0),
            &[("artifact".into(), "dist/app".into())],
        )
        .unwrap();
    store
        .begin_step(
            job,
            &NewStep {
                index: 1,
                step_id: None,
                name: "Lint".into(),
            },
        )
        .unwrap();
    store
        .finish_step(
            job,
            1,
            Conclusion::Failure,
            Conclusion::Success,
            Some(3),
            &[],
        )
        .unwrap();
    store
        .record_cache_event(run, "pip-abc", CacheEvent::Miss)
        .unwrap();
    store
        .record_cache_event(
            run,
            "pip-abc",
            CacheEvent::Hit {
                matched_key: "pip-ab".into(),
            },
        )
        .unwrap();
    store
        .finish_job(
            job,
            Conclusion::Success,
            &[("version".into(), "1.2.3".into())],
        )
        .unwrap();
    clock.advance(Duration::from_secs(1));
    store.finish_run(run, Conclusion::Success).unwrap();

    let detail = store.run(run).unwrap().expect("the run exists");
    assert_eq!(detail.run.workflow_name, "CI");
    assert_eq!(detail.run.conclusion, Some(Conclusion::Success));
    assert_eq!(detail.run.pid, std::process::id());
    assert_eq!(detail.inputs_json, r#"{"suite":"unit"}"#);
    let finished = detail.run.finished_at.unwrap();
    assert_eq!(
        finished.since(detail.run.started_at),
        Duration::from_secs(4)
    );
    assert_eq!(detail.jobs.len(), 1);
    let j = &detail.jobs[0];
    assert_eq!(j.job_id, "test");
    assert_eq!(j.outputs, [("version".to_string(), "1.2.3".to_string())]);
    assert_eq!(j.steps.len(), 2);
    assert_eq!(j.steps[0].name, "Build");
    assert_eq!(
        j.steps[0].outputs,
        [("artifact".to_string(), "dist/app".to_string())]
    );
    assert_eq!(j.steps[1].outcome, Some(Conclusion::Failure));
    assert_eq!(j.steps[1].conclusion, Some(Conclusion::Success));
    assert_eq!(j.steps[1].exit_code, Some(3));
    assert_eq!(j.steps[0].log_path, store.log_path(run, job, Some(0)));
    assert_eq!(j.log_path, store.log_path(run, job, None));
    // Logs live in the store's home, one folder per job.
    assert!(j.log_path.starts_with(home.path().join("logs")));
    assert_eq!(detail.caches.len(), 2);
    assert_eq!(
        detail.caches[1].event,
        CacheEvent::Hit {
            matched_key: "pip-ab".into()
        }
    );

    let json = serde_json::to_value(&detail).unwrap();
    assert_eq!(json["ref"], "refs/heads/main");
    assert_eq!(json["jobs"][0]["outputs"]["version"], "1.2.3");
    assert_eq!(json["caches"][1]["kind"], "hit");
    assert_eq!(json["started_at"], "2026-01-01T00:00:00Z");
}

#[test]
fn runs_are_listed_newest_first_up_to_the_limit() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let ids: Vec<RunId> = (0..5)
        .map(|i| store.begin_run(&new_run(&format!("w{i}"))).unwrap())
        .collect();
    let listed = store.runs(3).unwrap();
    assert_eq!(
        listed.iter().map(|r| r.id).collect::<Vec<_>>(),
        [ids[4], ids[3], ids[2]]
    );
    assert!(listed.iter().all(|r| r.conclusion.is_none()));
    assert!(store.run(RunId(999)).unwrap().is_none());
}

#[test]
fn unknown_ids_are_reported() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let err = store
        .finish_run(RunId(42), Conclusion::Success)
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::NotFound {
                what: "run",
                id: 42
            }
        ),
        "{err}"
    );
    let err = store.begin_job(RunId(42), &NewJob::default()).unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
}

#[test]
fn migrations_apply_from_empty_and_reopening_changes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let run = {
        let store = Store::open(home.path()).unwrap();
        store.begin_run(&new_run("CI")).unwrap()
    };
    let store = Store::open(home.path()).unwrap();
    let conn = rusqlite::Connection::open(store.database_path()).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, schema_version());
    let applied: Vec<i64> = conn
        .prepare("SELECT version FROM schema_migrations ORDER BY version")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(applied, (1..=schema_version()).collect::<Vec<_>>());
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    // The first store's process still lives (it is this one), but its
    // store was dropped: the run was cut off.
    assert_eq!(store.crashed_on_open(), [run]);
    assert!(store.run(run).unwrap().is_some());
}

#[test]
fn a_database_from_a_newer_gantry_is_refused() {
    let home = tempfile::tempdir().unwrap();
    drop(Store::open(home.path()).unwrap());
    let conn = rusqlite::Connection::open(home.path().join("gantry.db")).unwrap();
    conn.execute_batch(&format!("PRAGMA user_version = {}", schema_version() + 1))
        .unwrap();
    drop(conn);
    let err = Store::open(home.path()).unwrap_err();
    assert!(
        matches!(err, StoreError::DatabaseTooNew { found, .. } if found == schema_version() + 1),
        "{err}"
    );
    assert!(err.to_string().contains("gantry.db"), "{err}");
    assert!(err.hint().is_some());
}

#[test]
fn a_file_that_is_not_a_database_is_an_error_not_a_panic() {
    let home = tempfile::tempdir().unwrap();
    fs::write(home.path().join("gantry.db"), vec![0x5a; 8192]).unwrap();
    let err = Store::open(home.path()).unwrap_err();
    assert!(matches!(err, StoreError::UnusableDatabase { .. }), "{err}");
    assert!(err.to_string().contains("gantry.db"), "{err}");
    assert!(err.hint().is_some(), "{err}");
}

#[test]
fn a_truncated_database_is_an_error_not_a_panic() {
    let home = tempfile::tempdir().unwrap();
    {
        let store = Store::open(home.path()).unwrap();
        for i in 0..200 {
            let run = store.begin_run(&new_run(&format!("{i:0>200}"))).unwrap();
            store.finish_run(run, Conclusion::Success).unwrap();
        }
    }
    // Closing the last connection checkpointed the WAL into the file.
    let path = home.path().join("gantry.db");
    let len = fs::metadata(&path).unwrap().len();
    assert!(len > 16 * 4096, "the database is {len} bytes");
    let file = fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(len / 2).unwrap();
    drop(file);
    let outcome = Store::open(home.path()).and_then(|s| s.runs(1000));
    let err = outcome.expect_err("half a database must not read as a whole one");
    assert!(matches!(err, StoreError::Database { .. }), "{err}");
}

/// A run's outputs list the logs that were written (job log first), skip
/// those never written, and a log that is a link out of the home is
/// refused, never listed for digesting.
#[test]
fn run_outputs_list_written_logs_and_refuse_one_linked_out_of_the_home() {
    let home = tempfile::tempdir().unwrap();
    let (store, clock) = open_with_clock(home.path());
    assert_eq!(store.run_outputs(RunId(1), home.path()).unwrap(), None);
    let run = store.begin_run(&new_run("CI")).unwrap();
    let job = store
        .begin_job(
            run,
            &NewJob {
                job_id: "test".into(),
                name: "test".into(),
                matrix_json: None,
                queued_ms: None,
            },
        )
        .unwrap();
    for index in 0..2 {
        store
            .begin_step(
                job,
                &NewStep {
                    index,
                    step_id: None,
                    name: format!("step {index}"),
                },
            )
            .unwrap();
    }
    clock.advance(Duration::from_secs(5));
    store.finish_run(run, Conclusion::Success).unwrap();
    let step0 = store.log_path(run, job, Some(0));
    fs::create_dir_all(step0.parent().unwrap()).unwrap();
    fs::write(&step0, "hello\n").unwrap();
    fs::write(store.log_path(run, job, None), "").unwrap();

    let out = tempfile::tempdir().unwrap();
    let outputs = store.run_outputs(run, out.path()).unwrap().unwrap();
    assert_eq!(outputs.finished - outputs.started, 5);
    let names: Vec<_> = outputs.logs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["test/job.log", "test/0.log"]);
    assert_eq!(outputs.logs[1].1, step0);
    assert!(outputs.artifacts.is_empty());

    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret");
    fs::write(&secret, "secret").unwrap();
    std::os::unix::fs::symlink(&secret, store.log_path(run, job, Some(1))).unwrap();
    let err = store.run_outputs(run, out.path()).unwrap_err();
    assert!(matches!(err, StoreError::OutsideHome { .. }), "{err}");
}
