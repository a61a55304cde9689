//! Paths and names read back from a hand-edited database never lead a
//! read or a write out of where they belong.

use std::fs;
use std::path::Path;

use crate::common::write_tree;
use gantry_store::{NewStep, RunId, Store, StoreError};

fn sql(home: &Path, statement: &str) {
    let conn = rusqlite::Connection::open(home.join("gantry.db")).unwrap();
    conn.execute_batch(statement).unwrap();
}

fn run_with_a_step(store: &Store) -> RunId {
    let (run, job) = crate::common::begin_run_and_job(store, "j");
    store
        .begin_step(
            job,
            &NewStep {
                index: 0,
                step_id: None,
                name: "s".into(),
            },
        )
        .unwrap();
    run
}

#[test]
fn a_log_path_in_the_database_that_leaves_the_home_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.txt");
    fs::write(&secret, b"not yours").unwrap();
    for stored in [
        secret.display().to_string(),
        "logs/../../../../../../../../etc/passwd".to_string(),
        "gantry.db".to_string(),
        String::new(),
    ] {
        let home = tempfile::tempdir().unwrap();
        let run = run_with_a_step(&Store::open(home.path()).unwrap());
        sql(
            home.path(),
            &format!(
                "UPDATE steps SET log_path = '{}'",
                stored.replace('\'', "''")
            ),
        );
        let err = Store::open(home.path()).unwrap().run(run).unwrap_err();
        assert!(
            matches!(err, StoreError::UnsafeStoredPath { .. }),
            "{stored}: {err}"
        );
        assert!(err.to_string().contains(&stored), "{err}");
    }
    // The job's log path is checked the same way.
    let home = tempfile::tempdir().unwrap();
    let run = run_with_a_step(&Store::open(home.path()).unwrap());
    sql(home.path(), "UPDATE jobs SET log_path = '/etc/passwd'");
    let err = Store::open(home.path()).unwrap().run(run).unwrap_err();
    assert!(matches!(err, StoreError::UnsafeStoredPath { .. }), "{err}");
}

#[cfg(unix)]
#[test]
fn a_log_that_links_out_of_the_home_is_not_opened() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.txt");
    fs::write(&secret, b"not yours").unwrap();
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let run = run_with_a_step(&store);
    let detail = store.run(run).unwrap().unwrap();
    let log = &detail.jobs[0].steps[0].log_path;
    fs::create_dir_all(log.parent().unwrap()).unwrap();

    // The file itself a link out.
    std::os::unix::fs::symlink(&secret, log).unwrap();
    let err = store.open_log(log).unwrap_err();
    assert!(matches!(err, StoreError::OutsideHome { .. }), "{err}");
    assert!(err.to_string().contains("secret.txt"), "{err}");

    // A folder on the way a link out.
    fs::remove_file(log).unwrap();
    let job_dir = log.parent().unwrap();
    fs::remove_dir(job_dir).unwrap();
    let elsewhere = outside.path().join("job");
    write_tree(&elsewhere, &[("0.log", b"not yours either")]);
    std::os::unix::fs::symlink(&elsewhere, job_dir).unwrap();
    let err = store.open_log(log).unwrap_err();
    assert!(matches!(err, StoreError::OutsideHome { .. }), "{err}");

    // A FIFO or device in its place is not opened (it could block or
    // never end).
    fs::remove_file(job_dir).unwrap();
    fs::create_dir(job_dir).unwrap();
    std::os::unix::fs::symlink("/dev/zero", log).unwrap();
    assert!(store.open_log(log).is_err());

    // A plain log reads, and a missing one is `None`.
    fs::remove_file(log).unwrap();
    assert!(store.open_log(log).unwrap().is_none());
    fs::write(log, b"hello\n").unwrap();
    assert!(store.open_log(log).unwrap().is_some());
    // A path outside logs/ is refused outright.
    assert!(store.open_log(&secret).is_err());
}

fn run_with_an_artifact(home: &Path, work: &Path) -> (Store, RunId) {
    let store = Store::open(home).unwrap();
    let run = run_with_a_step(&store);
    write_tree(work, &[("out/a.txt", b"artifact")]);
    store
        .upload_artifact(run, "dist", work, &["out".to_string()], None)
        .unwrap();
    (store, run)
}

#[test]
fn an_artifact_name_in_the_database_that_leaves_the_folder_is_refused() {
    for name in ["..", ".", "../escaped", "/tmp/escaped", "", "a\0b"] {
        let home = tempfile::tempdir().unwrap();
        let work = tempfile::tempdir().unwrap();
        let (store, run) = run_with_an_artifact(home.path(), work.path());
        let conn = rusqlite::Connection::open(store.database_path()).unwrap();
        conn.execute("UPDATE artifacts SET name = ?1", [name])
            .unwrap();
        drop(conn);
        let base = tempfile::tempdir().unwrap();
        let dest = base.path().join("dest");
        fs::create_dir(&dest).unwrap();
        let err = store.download_artifact(run, None, &dest, true).unwrap_err();
        assert!(
            matches!(err, StoreError::InvalidRecord { .. }),
            "{name:?}: {err}"
        );
        let written: Vec<_> = walk(base.path());
        assert_eq!(
            written,
            vec![dest.clone()],
            "{name:?}: something was written"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_link_in_an_artifacts_place_in_the_destination_is_not_followed() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let (store, run) = run_with_an_artifact(home.path(), work.path());
    let outside = tempfile::tempdir().unwrap();
    let dest = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), dest.path().join("dist")).unwrap();
    let err = store
        .download_artifact(run, None, dest.path(), true)
        .unwrap_err();
    assert!(matches!(err, StoreError::LinkInDestination { .. }), "{err}");
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
}

#[test]
fn names_that_could_leave_the_folder_are_refused_on_upload() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let run = run_with_a_step(&store);
    write_tree(work.path(), &[("a.txt", b"a")]);
    for name in ["..", ".", "../x", "/abs", "", "a\0b"] {
        let err = store
            .upload_artifact(run, name, work.path(), &["a.txt".to_string()], None)
            .unwrap_err();
        assert!(
            matches!(err, StoreError::InvalidArtifactName { .. }),
            "{name:?}: {err}"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_link_in_a_blobs_place_is_not_followed() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let (store, run) = run_with_an_artifact(home.path(), work.path());
    let digest = store.artifacts(run).unwrap()[0].digest.unwrap();
    let blob = store.blobs().path(&digest);
    let copy = home.path().join("copy.zst");
    fs::rename(&blob, &copy).unwrap();
    std::os::unix::fs::symlink(&copy, &blob).unwrap();
    let dest = tempfile::tempdir().unwrap();
    let err = store
        .download_artifact(run, None, dest.path(), true)
        .unwrap_err();
    assert!(matches!(err, StoreError::CorruptBlob { .. }), "{err}");
}

fn walk(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out.sort();
    out
}
