//! An unusable run database, or a home that is not a folder, is an error
//! that names the path: never a panic, never an empty history, and never
//! taken over (a foreign file is not overwritten).

use std::fs;
use std::path::Path;

use gantry_store::{Home, NewRun, Store, StoreError, StoreOptions};

fn open_existing(home: &Path) -> Result<Option<Store>, StoreError> {
    Store::open_existing(&Home::new(home), StoreOptions::default())
}

/// Both ways of opening refuse what is at `home/gantry.db`, saying `why`.
fn refused(home: &Path, why: &str) {
    for err in [
        open_existing(home).map(drop).unwrap_err(),
        Store::open(home).map(drop).unwrap_err(),
    ] {
        let text = err.to_string();
        assert!(matches!(err, StoreError::UnusableDatabase { .. }), "{text}");
        assert!(
            text.contains(&home.join("gantry.db").display().to_string()),
            "{text}"
        );
        assert!(text.contains(why), "{text}");
        assert!(err.hint().is_some(), "{text}");
    }
}

#[test]
fn a_folder_in_place_of_the_database_is_refused() {
    let home = tempfile::tempdir().unwrap();
    fs::create_dir(home.path().join("gantry.db")).unwrap();
    refused(home.path(), "is a folder");
}

#[cfg(unix)]
#[test]
fn a_link_to_a_device_in_place_of_the_database_is_refused() {
    for device in ["/dev/null", "/dev/zero"] {
        let home = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(device, home.path().join("gantry.db")).unwrap();
        refused(home.path(), "not a regular file");
    }
}

#[cfg(unix)]
#[test]
fn a_dangling_link_in_place_of_the_database_is_refused() {
    let home = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/nonexistent/gantry.db", home.path().join("gantry.db")).unwrap();
    refused(home.path(), "does not exist");
}

#[test]
fn an_empty_file_in_place_of_the_database_is_refused_and_kept() {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("gantry.db");
    fs::write(&db, b"").unwrap();
    refused(home.path(), "empty file");
    assert_eq!(
        fs::metadata(&db).unwrap().len(),
        0,
        "the file was written to"
    );
}

#[test]
fn a_foreign_file_in_place_of_the_database_is_refused_and_kept() {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("gantry.db");
    fs::write(&db, b"my notes, not a database\n").unwrap();
    refused(home.path(), "not an SQLite database");
    assert_eq!(fs::read(&db).unwrap(), b"my notes, not a database\n");
}

#[test]
fn another_programs_sqlite_database_is_refused_and_not_migrated() {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("gantry.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('ada');")
        .unwrap();
    drop(conn);
    refused(home.path(), "another program");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        tables, 1,
        "gantry's tables were added to a foreign database"
    );

    // One with a schema version of its own but not gantry's migrations.
    let home = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open(home.path().join("gantry.db")).unwrap();
    conn.execute_batch("CREATE TABLE t (x); PRAGMA user_version = 7;")
        .unwrap();
    drop(conn);
    refused(home.path(), "another program");
}

#[test]
fn a_home_that_is_a_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    fs::write(&home, b"").unwrap();
    for err in [
        open_existing(&home).map(drop).unwrap_err(),
        Store::open(&home).map(drop).unwrap_err(),
    ] {
        assert!(matches!(err, StoreError::HomeNotAFolder { .. }), "{err}");
        assert!(
            err.to_string().contains(&home.display().to_string()),
            "{err}"
        );
    }
}

#[test]
fn reading_a_home_where_nothing_was_recorded_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    assert!(open_existing(&home).unwrap().is_none());
    assert!(!home.exists());
    fs::create_dir(&home).unwrap();
    assert!(open_existing(&home).unwrap().is_none());
    assert!(!home.join("gantry.db").exists());
}

#[test]
fn a_new_database_never_appears_half_made() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    store
        .begin_run(&NewRun {
            workflow_path: "ci.yml".into(),
            workflow_name: "CI".into(),
            event: "push".into(),
            ..NewRun::default()
        })
        .unwrap();
    drop(store);
    // Only the database itself and gantry's folders: no leftover of the
    // temporary database it was built as.
    let mut names: Vec<String> = fs::read_dir(home.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("gantry.db"))
        .collect();
    names.sort();
    assert_eq!(names, ["gantry.db"]);
    assert!(open_existing(home.path()).unwrap().is_some());
}
