//! What the integration tests share: the image writer, the shared test
//! data locator, external tools.
#![allow(dead_code)]

pub(crate) mod build;

use std::path::{Path, PathBuf};

/// A folder of `../shared/testdata`: missing is a failure under `CI=true`
/// and a skip, with the reason printed, elsewhere.
pub(crate) fn shared(rel: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata")
        .join(rel);
    if path.exists() {
        return Some(path);
    }
    assert!(
        !ci(),
        "{} is missing (required under CI=true)",
        path.display()
    );
    eprintln!("skipped: {} is missing", path.display());
    None
}

pub(crate) fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Whether an external program runs; under `CI=true` a missing one fails.
pub(crate) fn tool(program: &str, needs: &str) -> bool {
    match std::process::Command::new(program)
        .arg("--version")
        .output()
    {
        Ok(_) => true,
        Err(e) => {
            assert!(
                !ci(),
                "cannot run {program} (required under CI=true): {e}; {needs}"
            );
            eprintln!("skipped: cannot run {program}: {e}; {needs}");
            false
        }
    }
}
