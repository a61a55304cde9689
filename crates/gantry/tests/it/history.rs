//! `gantry runs`, `gantry logs` and `gantry cache` over a history recorded
//! through the store, as the executor records it.

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
                queued_ms: None,
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
    assert_eq!(json["version"], 1);
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
    assert_eq!(json["version"], 1);
    assert_eq!(json["workflow_name"], "CI");
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
    assert_eq!(json["version"], 1);
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
    assert_eq!(json["version"], 1);
    assert_eq!(json["dry_run"], false);
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

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Snapshot filters: what differs between runs.
fn redact(text: &str, home: &Path) -> String {
    let mut text = text.replace(&home.display().to_string(), "[HOME]");
    for (pattern, with) in [
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[TIME]"),
        (r"\b\d+\.\ds\b", "[DURATION]"),
        (r"pid       \d+", "pid       [PID]"),
        // Compressed sizes depend on the files' times inside the archive.
        (r"\b\d+ B\b", "[SIZE]"),
    ] {
        text = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&text, with)
            .into_owned();
    }
    text
}

#[test]
fn human_output_of_runs_show_logs_and_cache_list() {
    let home = tempfile::tempdir().unwrap();
    let run = record(home.path());
    let run = run.to_string();
    for (name, args) in [
        ("runs", vec!["runs"]),
        ("runs_show", vec!["runs", "show", run.as_str()]),
        ("logs", vec!["logs", run.as_str()]),
        ("cache_list", vec!["cache", "list"]),
    ] {
        let out = gantry(home.path(), &args);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        insta::assert_snapshot!(name, redact(&stdout(&out), home.path()));
    }
}

/// Runs `gantry runs` and `gantry cache list` against `home` and checks
/// each fails with exit 2 and an error that names `path` and says `why`.
fn refused_by_reading_commands(home: &Path, path: &Path, why: &str) {
    for args in [
        &["runs"][..],
        &["cache", "list"],
        &["runs", "show", "1"],
        &["logs", "1"],
    ] {
        let out = gantry(home, args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(&path.display().to_string()), "{args:?}: {err}");
        assert!(err.contains(why), "{args:?}: {err}");
        assert!(!stdout(&out).contains("no runs recorded"), "{args:?}");
    }
}

/// Regression: a gantry.db that is a folder, a link to a device, empty or
/// foreign read as "no runs recorded yet" (exit 0) or failed deep inside
/// SQLite; a home that is a file likewise.
#[test]
fn an_unusable_database_is_an_exit_2_error_naming_it() {
    type Case = (&'static str, &'static str, fn(&Path));
    let make: [Case; 6] = [
        ("folder", "is a folder", |db| {
            std::fs::create_dir(db).unwrap()
        }),
        ("dev-null", "not a regular file", |db| {
            std::os::unix::fs::symlink("/dev/null", db).unwrap();
        }),
        ("dev-zero", "not a regular file", |db| {
            std::os::unix::fs::symlink("/dev/zero", db).unwrap();
        }),
        ("empty", "empty file", |db| std::fs::write(db, b"").unwrap()),
        ("foreign", "not an SQLite database", |db| {
            std::fs::write(db, b"hello, not sqlite\n".repeat(100)).unwrap();
        }),
        ("other-program", "another program", |db| {
            let conn = rusqlite::Connection::open(db).unwrap();
            conn.execute_batch("CREATE TABLE notes (text TEXT)")
                .unwrap();
        }),
    ];
    for (case, why, make) in make {
        let home = tempfile::tempdir().unwrap();
        let db = home.path().join("gantry.db");
        make(&db);
        refused_by_reading_commands(home.path(), &db, why);
        // Pruning (which creates a store when there is none) refuses too.
        let out = gantry(home.path(), &["cache", "prune"]);
        assert_eq!(out.status.code(), Some(2), "{case}: {}", stderr(&out));
    }

    // A truncated database.
    let home = tempfile::tempdir().unwrap();
    record(home.path());
    let db = home.path().join("gantry.db");
    let len = std::fs::metadata(&db).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
    file.set_len(len / 3).unwrap();
    drop(file);
    for args in [&["runs"][..], &["cache", "list"]] {
        let out = gantry(home.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&db.display().to_string()),
            "{}",
            stderr(&out)
        );
    }

    // GANTRY_HOME a file.
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::write(&home, b"").unwrap();
    refused_by_reading_commands(&home, &home, "is not a folder");
}

/// Regression: with `GANTRY_HOME` a file, the vulnerability database and
/// the ledger reported a missing database or a failed create under it
/// instead of the home; commands that keep no state still work.
#[test]
fn a_home_that_is_a_file_stops_every_stateful_command_and_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::write(&home, b"").unwrap();
    for args in [
        &["db", "status"][..],
        &["ledger", "checkpoint"],
        &["scan", "."],
        &["cache", "prune"],
    ] {
        let out = gantry(&home, args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("is not a folder"), "{args:?}: {err}");
        assert!(err.contains(&home.display().to_string()), "{args:?}: {err}");
    }
    let workflows = dir.path().join(".github").join("workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    std::fs::write(
        workflows.join("ci.yml"),
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n",
    )
    .unwrap();
    let root = dir.path().display().to_string();
    for args in [&["-C", &root, "validate"][..], &["-C", &root, "plan"]] {
        let out = gantry(&home, args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(std::fs::read(&home).unwrap(), b"");
}

fn tamper(home: &Path, statement: &str) {
    let conn = rusqlite::Connection::open(home.join("gantry.db")).unwrap();
    conn.execute_batch(statement).unwrap();
}

/// Regression: a log path in the database was joined to the home and
/// opened as it was: an absolute path or `..` printed any file.
#[test]
fn a_log_path_in_the_database_that_leaves_the_home_is_not_opened() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.txt");
    std::fs::write(&secret, b"TOP SECRET").unwrap();
    for stored in [
        secret.display().to_string(),
        format!("logs/../../../../../../../..{}", secret.display()),
    ] {
        let home = tempfile::tempdir().unwrap();
        record(home.path());
        tamper(
            home.path(),
            &format!("UPDATE steps SET log_path = '{stored}' WHERE idx = 0"),
        );
        for args in [&["logs", "1"][..], &["runs", "show", "1"]] {
            let out = gantry(home.path(), args);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
            assert!(
                stderr(&out).contains("refusing the path"),
                "{}",
                stderr(&out)
            );
            assert!(!stdout(&out).contains("TOP SECRET"));
        }
    }

    // A log file replaced by a link out of the home.
    let home = tempfile::tempdir().unwrap();
    record(home.path());
    let log = home.path().join("logs/1/1/0.log");
    std::fs::remove_file(&log).unwrap();
    std::os::unix::fs::symlink(&secret, &log).unwrap();
    let out = gantry(home.path(), &["logs", "1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("outside the gantry home"),
        "{}",
        stderr(&out)
    );
    assert!(!stdout(&out).contains("TOP SECRET"));
}

/// Regression: `runs download` joined artifact names read from the
/// database to DIR, and followed a link in DIR.
#[test]
fn runs_download_never_writes_outside_its_folder() {
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("dir");
    std::fs::create_dir(&dir).unwrap();
    for name in ["../escaped", "..", "/tmp/gantry-escaped"] {
        let home = tempfile::tempdir().unwrap();
        record(home.path());
        tamper(
            home.path(),
            &format!("UPDATE artifacts SET name = '{name}'"),
        );
        let out = gantry(
            home.path(),
            &["runs", "download", "1", "-D", dir.to_str().unwrap()],
        );
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        assert!(stderr(&out).contains("artifact name"), "{}", stderr(&out));
        let entries: Vec<_> = std::fs::read_dir(base.path()).unwrap().collect();
        assert_eq!(entries.len(), 1, "{name}: something was written beside DIR");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    }

    // A link in the artifact's place inside DIR is not followed.
    let home = tempfile::tempdir().unwrap();
    record(home.path());
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.join("app")).unwrap();
    let out = gantry(
        home.path(),
        &["runs", "download", "1", "-D", dir.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("it is a link"), "{}", stderr(&out));
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);

    // And a plain download lands in DIR/<name>.
    std::fs::remove_file(dir.join("app")).unwrap();
    let out = gantry(
        home.path(),
        &["runs", "download", "1", "-D", dir.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(dir.join("app/target/app")).unwrap(),
        b"binary"
    );
}
