//! What the tests of this binary share: reading a workflow from text, its
//! errors as `(line, column, message)`, and the shared test data.

use std::path::{Path, PathBuf};

use gantry_workflow::{Parsed, ReadOptions, SourceFile, Workflow, read_workflow};

/// Reads `text` as the workflow `w.yml`.
pub(crate) fn read(text: &str) -> Parsed<Workflow> {
    read_workflow(SourceFile::new("w.yml", text), &ReadOptions::default())
}

/// `(line, column, message)` of every error.
pub(crate) fn errors(text: &str) -> Vec<(usize, usize, String)> {
    let parsed = read(text);
    parsed
        .diagnostics
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let p = parsed
                .diagnostics
                .position(d)
                .map_or((0, 0), |p| (p.line, p.column));
            (p.0, p.1, d.message.clone())
        })
        .collect()
}

/// A folder of `../shared/testdata` (beside the workspace), or `None` when
/// it is missing: the caller skips, except under `CI=true`, where a missing
/// folder fails.
pub(crate) fn testdata(relative: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata")
        .join(relative);
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "test data missing at {}",
        dir.display()
    );
    eprintln!("skipping: {} not found", dir.display());
    None
}
