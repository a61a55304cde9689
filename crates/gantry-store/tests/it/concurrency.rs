//! Several processes (and threads) writing into one home at once: every
//! record arrives, nothing is corrupted, nobody sees `database is locked`.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use crate::common::{strings, write_tree};
use gantry_store::{CacheEvent, Conclusion, NewJob, NewRun, NewStep, PrunePolicy, Store};

const CHILD_HOME: &str = "GANTRY_STORE_TEST_WRITER_HOME";
const CHILD_ID: &str = "GANTRY_STORE_TEST_WRITER_ID";
const TEST_NAME: &str = "concurrency::several_processes_write_at_once";
const PROCESSES: usize = 4;
const RUNS_EACH: usize = 20;

/// One writer: records runs and saves, restores and uploads caches and
/// artifacts.
fn writer(store: &Store, id: &str, work: &Path) {
    write_tree(
        work,
        &[
            ("shared/a.txt", b"the same in every writer"),
            ("own/id.txt", id.as_bytes()),
        ],
    );
    for i in 0..RUNS_EACH {
        let run = store
            .begin_run(&NewRun {
                workflow_path: "ci.yml".into(),
                workflow_name: format!("writer {id}"),
                event: "push".into(),
                inputs_json: format!(r#"{{"i":{i}}}"#),
                ..NewRun::default()
            })
            .unwrap();
        let job = store
            .begin_job(
                run,
                &NewJob {
                    job_id: "j".into(),
                    name: "j".into(),
                    matrix_json: None,
                    queued_ms: None,
                },
            )
            .unwrap();
        for s in 0..3 {
            store
                .begin_step(
                    job,
                    &NewStep {
                        index: s,
                        step_id: None,
                        name: format!("step {s}"),
                    },
                )
                .unwrap();
            store
                .finish_step(
                    job,
                    s,
                    Conclusion::Success,
                    Conclusion::Success,
                    Some(0),
                    &[("n".into(), s.to_string())],
                )
                .unwrap();
        }
        store
            .record_cache_event(run, "shared", CacheEvent::Saved)
            .unwrap();
        if i % 5 == 0 {
            // Everyone saves the same key: exactly one entry survives.
            store
                .save_cache("shared", "v1", work, &strings(&["shared"]))
                .unwrap();
            store
                .save_cache(&format!("own-{id}-{i}"), "v1", work, &strings(&["own"]))
                .unwrap();
            let dest = work.join(format!("restore-{i}"));
            let hit = store
                .restore_cache(&strings(&["shared"]), "v1", &dest)
                .unwrap()
                .expect("the shared cache was saved");
            assert!(hit.exact);
            store
                .upload_artifact(run, "out", work, &strings(&["own"]), None)
                .unwrap();
        }
        // Pruning takes the write lock and deletes blob files while the
        // others save and restore.
        store.prune_caches(&PrunePolicy::default()).unwrap();
        store.finish_job(job, Conclusion::Success, &[]).unwrap();
        store.finish_run(run, Conclusion::Success).unwrap();
    }
}

fn check(store: &Store, writers: usize) {
    let runs = store.runs(10_000).unwrap();
    assert_eq!(runs.len(), writers * RUNS_EACH);
    for r in &runs {
        assert_eq!(r.conclusion, Some(Conclusion::Success), "run {}", r.id);
        let d = store.run(r.id).unwrap().unwrap();
        assert_eq!(d.jobs.len(), 1);
        assert_eq!(d.jobs[0].steps.len(), 3);
        assert_eq!(d.caches.len(), 1);
    }
    let caches = store.caches().unwrap();
    assert_eq!(caches.iter().filter(|c| c.key == "shared").count(), 1);
    assert_eq!(caches.len(), 1 + writers * RUNS_EACH / 5);
    for c in &caches {
        store.blobs().verify(&c.digest).unwrap();
    }
    let conn = rusqlite::Connection::open(store.database_path()).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

#[test]
fn several_processes_write_at_once() {
    if let Some(home) = std::env::var_os(CHILD_HOME) {
        let id = std::env::var(CHILD_ID).unwrap();
        let work = tempfile::tempdir().unwrap();
        let store = Store::open(Path::new(&home)).unwrap();
        writer(&store, &id, work.path());
        return;
    }
    // No store exists yet: the processes also race to create and migrate.
    let home = tempfile::tempdir().unwrap();
    let mut running: Vec<_> = (0..PROCESSES)
        .map(|i| {
            Command::new(std::env::current_exe().unwrap())
                .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
                .env(CHILD_HOME, home.path())
                .env(CHILD_ID, format!("p{i}"))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in running.drain(..) {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "a writer failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let store = Store::open(home.path()).unwrap();
    assert!(store.crashed_on_open().is_empty());
    check(&store, PROCESSES);
}

#[test]
fn several_threads_with_their_own_connections_write_at_once() {
    let home = tempfile::tempdir().unwrap();
    let home_path = Arc::new(home.path().to_path_buf());
    let threads: Vec<_> = (0..3)
        .map(|i| {
            let home = home_path.clone();
            std::thread::spawn(move || {
                let work = tempfile::tempdir().unwrap();
                let store = Store::open(&home).unwrap();
                writer(&store, &format!("t{i}"), work.path());
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    check(&Store::open(home.path()).unwrap(), 3);
}

/// Regression: four stores opening a new home at once used to fail with
/// `database is locked`, because switching the journal to WAL is a lock
/// SQLite does not wait for. Each round is a fresh home, so every round
/// races on creation, the WAL switch and the migrations.
#[test]
fn stores_opening_a_new_home_at_once_never_see_a_locked_database() {
    const ROUNDS: usize = 40;
    const OPENERS: usize = 4;
    let mut failures = Vec::new();
    for round in 0..ROUNDS {
        let home = tempfile::tempdir().unwrap();
        let barrier = Arc::new(std::sync::Barrier::new(OPENERS));
        let threads: Vec<_> = (0..OPENERS)
            .map(|i| {
                let home = home.path().to_path_buf();
                let barrier = barrier.clone();
                std::thread::spawn(move || -> Result<(), gantry_store::StoreError> {
                    barrier.wait();
                    for _ in 0..3 {
                        let store = Store::open(&home)?;
                        let run = store.begin_run(&NewRun {
                            workflow_path: "ci.yml".into(),
                            workflow_name: format!("opener {i}"),
                            event: "push".into(),
                            ..NewRun::default()
                        })?;
                        store.finish_run(run, Conclusion::Success)?;
                        store.runs(10)?;
                    }
                    Ok(())
                })
            })
            .collect();
        for t in threads {
            if let Err(e) = t.join().unwrap() {
                failures.push(format!("round {round}: {e}"));
            }
        }
        let runs = Store::open(home.path()).unwrap().runs(100).unwrap();
        assert_eq!(runs.len(), OPENERS * 3, "round {round}");
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
