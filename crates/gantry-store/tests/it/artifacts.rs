//! Artifacts: run-scoped names, path globs, downloads, retention.

use std::fs;
use std::time::Duration;

use crate::common::{files_under, open_with_clock, strings, write_tree};
use gantry_store::{NewRun, PrunePolicy, RunId, Store, StoreError};

fn begin(store: &Store) -> RunId {
    store
        .begin_run(&NewRun {
            workflow_path: "ci.yml".into(),
            workflow_name: "CI".into(),
            event: "push".into(),
            ..NewRun::default()
        })
        .unwrap()
}

fn workspace() -> tempfile::TempDir {
    let work = tempfile::tempdir().unwrap();
    write_tree(
        work.path(),
        &[
            ("dist/app.tar.gz", b"binary"),
            ("dist/app.sha256", b"sum"),
            ("dist/debug/app.pdb", b"symbols"),
            ("reports/junit.xml", b"<testsuites/>"),
            ("reports/coverage/index.html", b"<html/>"),
        ],
    );
    work
}

#[test]
fn upload_with_globs_and_exclusions_then_download() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let run = begin(&store);
    let work = workspace();
    let info = store
        .upload_artifact(
            run,
            "dist",
            work.path(),
            &strings(&["dist/**\n!dist/debug", "reports/*.xml"]),
            Some(5),
        )
        .unwrap();
    assert_eq!(info.files, 3);
    assert!(info.digest.is_some());
    let dest = tempfile::tempdir().unwrap();
    let got = store
        .download_artifact(run, Some("dist"), dest.path(), false)
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        files_under(dest.path()),
        ["dist/app.sha256", "dist/app.tar.gz", "reports/junit.xml"]
    );
    assert_eq!(
        fs::read(dest.path().join("dist/app.tar.gz")).unwrap(),
        b"binary"
    );
    let listed = store.artifacts(run).unwrap();
    assert_eq!(listed, [info]);
}

#[test]
fn names_are_unique_within_a_run_only() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let work = workspace();
    let run = begin(&store);
    store
        .upload_artifact(run, "out", work.path(), &strings(&["dist"]), None)
        .unwrap();
    let err = store
        .upload_artifact(run, "out", work.path(), &strings(&["reports"]), None)
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::ArtifactExists { name, .. } if name == "out"),
        "{err}"
    );
    let other = begin(&store);
    store
        .upload_artifact(other, "out", work.path(), &strings(&["reports"]), None)
        .unwrap();
    let err = store
        .upload_artifact(run, "a/b", work.path(), &strings(&["dist"]), None)
        .unwrap_err();
    assert!(
        matches!(err, StoreError::InvalidArtifactName { .. }),
        "{err}"
    );
    let err = store
        .upload_artifact(RunId(999), "x", work.path(), &strings(&["dist"]), None)
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
}

#[test]
fn an_upload_that_matches_nothing_stores_nothing() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let run = begin(&store);
    let work = workspace();
    let info = store
        .upload_artifact(run, "none", work.path(), &strings(&["nothing/*.txt"]), None)
        .unwrap();
    assert_eq!(info.files, 0);
    assert_eq!(info.digest, None);
    assert!(store.artifacts(run).unwrap().is_empty());
}

#[test]
fn download_by_glob_into_one_folder_each_or_merged() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let run = begin(&store);
    let work = workspace();
    for (name, path) in [
        ("report-unit", "reports/junit.xml"),
        ("report-cov", "reports/coverage"),
        ("binary", "dist/app.tar.gz"),
    ] {
        store
            .upload_artifact(run, name, work.path(), &strings(&[path]), None)
            .unwrap();
    }
    let dest = tempfile::tempdir().unwrap();
    let got = store
        .download_artifact(run, Some("report-*"), dest.path(), true)
        .unwrap();
    let names: Vec<&str> = got.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["report-cov", "report-unit"]);
    assert_eq!(
        files_under(dest.path()),
        [
            "report-cov/reports/coverage/index.html",
            "report-unit/reports/junit.xml"
        ]
    );
    let merged = tempfile::tempdir().unwrap();
    let all = store
        .download_artifact(run, None, merged.path(), false)
        .unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(files_under(merged.path()).len(), 3);
    let err = store
        .download_artifact(run, Some("missing"), merged.path(), false)
        .unwrap_err();
    assert!(matches!(err, StoreError::ArtifactNotFound { .. }), "{err}");
    assert!(
        store
            .download_artifact(run, Some("missing-*"), merged.path(), false)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn artifacts_expire_after_their_retention() {
    let home = tempfile::tempdir().unwrap();
    let (store, clock) = open_with_clock(home.path());
    let run = begin(&store);
    let work = workspace();
    let short = store
        .upload_artifact(
            run,
            "short",
            work.path(),
            &strings(&["dist/app.sha256"]),
            Some(1),
        )
        .unwrap();
    store
        .upload_artifact(run, "default", work.path(), &strings(&["reports"]), None)
        .unwrap();
    clock.advance(Duration::from_secs(2 * 86_400));
    let listed = store.artifacts(run).unwrap();
    let expired: Vec<(&str, bool)> = listed
        .iter()
        .map(|a| (a.name.as_str(), a.expired))
        .collect();
    assert_eq!(expired, [("default", false), ("short", true)]);
    let dest = tempfile::tempdir().unwrap();
    let err = store
        .download_artifact(run, Some("short"), dest.path(), false)
        .unwrap_err();
    assert!(matches!(err, StoreError::ArtifactNotFound { .. }), "{err}");
    // An expired name can be used again.
    store
        .upload_artifact(
            run,
            "short",
            work.path(),
            &strings(&["dist/app.tar.gz"]),
            Some(1),
        )
        .unwrap();
    store
        .download_artifact(run, Some("short"), dest.path(), false)
        .unwrap();
    assert_eq!(files_under(dest.path()), ["dist/app.tar.gz"]);
    // Pruning removes what expired, with its blob.
    clock.advance(Duration::from_secs(2 * 86_400));
    let report = store.prune_caches(&PrunePolicy::default()).unwrap();
    assert_eq!(report.expired_artifacts.len(), 1);
    assert!(!store.blobs().contains(&short.digest.unwrap()));
    let names: Vec<String> = store
        .artifacts(run)
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["default"]);
    // The default retention is 90 days.
    clock.advance(Duration::from_secs(90 * 86_400));
    assert!(store.artifacts(run).unwrap()[0].expired);
}

#[test]
fn a_run_shows_its_artifacts() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let run = begin(&store);
    let work = workspace();
    store
        .upload_artifact(run, "dist", work.path(), &strings(&["dist"]), None)
        .unwrap();
    let detail = store.run(run).unwrap().unwrap();
    assert_eq!(detail.artifacts.len(), 1);
    assert_eq!(detail.artifacts[0].files, 3);
}
