//! What the tests of this binary share: the location of the shared test
//! data.

use std::path::{Path, PathBuf};

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
