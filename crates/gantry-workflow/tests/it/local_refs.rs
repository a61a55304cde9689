//! Regression tests: local references (`uses: ./...`) never resolve outside
//! the repository, and they resolve from the repository that holds the
//! file, wherever the check was started.

use std::path::Path;

use gantry_workflow::ReadOptions;
use gantry_workflow::check::{FileToCheck, check_file, read_workflow_file};
use gantry_workflow::local::{LocalRefError, repository_root, resolve_local};

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A repository with a workflow calling a reusable one and a local action.
fn repository(dir: &Path, ci: &str) -> std::path::PathBuf {
    let repo = dir.join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    write(&repo.join(".github/workflows/ci.yml"), ci);
    write(
        &repo.join(".github/workflows/called.yml"),
        "on: workflow_call\njobs:\n  b:\n    runs-on: x\n    steps:\n      - run: echo\n",
    );
    write(
        &repo.join(".github/actions/build/action.yml"),
        "name: build\nruns:\n  using: composite\n  steps:\n    - run: echo\n      shell: bash\n",
    );
    repo.join(".github/workflows/ci.yml")
}

fn codes(file: &Path, fallback: &Path) -> Vec<(&'static str, usize)> {
    let checked = check_file(
        &FileToCheck {
            path: file.to_path_buf(),
            name: "ci.yml".into(),
        },
        fallback,
        &ReadOptions::default(),
        &gantry_workflow::lint::LintSettings::default(),
    );
    checked
        .diagnostics
        .diagnostics
        .iter()
        .map(|d| {
            (
                d.code,
                checked.diagnostics.position(d).map_or(0, |p| p.line),
            )
        })
        .collect()
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_out_of_the_repository_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(repo.join(".github/actions")).unwrap();
    write(
        &outside.join("action.yml"),
        "runs: { using: node20, main: x.js }\n",
    );
    std::os::unix::fs::symlink(&outside, repo.join(".github/actions/out")).unwrap();
    std::os::unix::fs::symlink(repo.join(".github"), repo.join("in")).unwrap();
    let err = resolve_local(&repo, "./.github/actions/out/action.yml").unwrap_err();
    assert!(matches!(err, LocalRefError::LinkEscapes { .. }), "{err}");
    assert!(err.to_string().contains(".github/actions/out"), "{err}");
    // A dangling link out is refused too; a link that stays inside is fine.
    std::os::unix::fs::symlink("/nonexistent/x", repo.join("dangling")).unwrap();
    assert!(resolve_local(&repo, "./dangling").is_err());
    assert_eq!(
        resolve_local(&repo, "./in/actions").unwrap(),
        Some(repo.join("in/actions"))
    );
}

#[test]
fn step_and_call_references_above_the_root_are_errors_at_the_uses_value() {
    let dir = tempfile::tempdir().unwrap();
    let ci = repository(
        dir.path(),
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ./..\n      - uses: ./a/../../x\n      - uses: ./.github/actions/build\n  c:\n    uses: ./.github/../../called.yml\n",
    );
    assert_eq!(
        codes(&ci, dir.path()),
        [("local-ref-escapes", 6), ("local-ref-escapes", 7)]
    );
    // The call is checked once the file has no other errors.
    write(
        &ci,
        "on: push\njobs:\n  c:\n    uses: ./.github/../../called.yml\n",
    );
    assert_eq!(codes(&ci, dir.path()), [("local-ref-escapes", 4)]);
}

#[test]
fn references_resolve_from_the_repository_holding_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let ci = repository(
        dir.path(),
        "on: push\njobs:\n  c:\n    uses: ./.github/workflows/called.yml\n",
    );
    assert_eq!(repository_root(&ci), Some(dir.path().join("repo")));
    // Checked from an unrelated folder: the call is still found.
    assert_eq!(codes(&ci, elsewhere.path()), []);
    // And it really is read: a missing called file is reported.
    std::fs::remove_file(dir.path().join("repo/.github/workflows/called.yml")).unwrap();
    assert_eq!(codes(&ci, elsewhere.path()), [("call-unresolved", 4)]);
}

#[test]
fn unreadable_files_say_why_with_the_byte_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yml");
    std::fs::write(&path, b"on: push\njobs: \xc3\x28\n").unwrap();
    let parsed = read_workflow_file(&path, "bad.yml".into(), &ReadOptions::default());
    assert!(parsed.value.is_none());
    let d = &parsed.diagnostics.diagnostics[0];
    assert_eq!(d.code, "unreadable");
    assert_eq!(
        d.message,
        "the file is not UTF-8 text (invalid byte at offset 15)"
    );
    let parsed = read_workflow_file(dir.path(), "dir".into(), &ReadOptions::default());
    assert_eq!(parsed.diagnostics.diagnostics[0].code, "unreadable");
}
