//! Finding lockfiles under a folder.

use std::path::{Path, PathBuf};

use crate::Error;
use crate::formats::format_for;

/// Folders skipped unless [`DiscoverOptions::include_vendored`] is set:
/// installed or vendored copies of packages, not the project's lockfiles.
pub const SKIPPED_DIRS: &[&str] = &[
    "node_modules",
    "target",
    ".venv",
    "venv",
    "vendor",
    "third_party",
    "bower_components",
    ".git",
];

/// How to look for lockfiles.
#[derive(Debug, Clone, Default)]
pub struct DiscoverOptions {
    /// Also look inside `node_modules`, `target`, `.venv`, `vendor` and
    /// the like.
    pub include_vendored: bool,
    /// Do not read `.gitignore` and `.ignore` files.
    pub no_ignore: bool,
}

/// What a walk found.
#[derive(Debug, Clone, Default)]
pub struct Discovered {
    /// Files a format reads, sorted by path.
    pub lockfiles: Vec<PathBuf>,
    /// `go.sum` files without a `go.mod` beside them: Go modules are read
    /// from `go.mod`, so these say nothing on their own (a warning).
    pub orphans: Vec<PathBuf>,
}

/// The lockfiles under `root`, sorted by path. Respects `.gitignore` (also
/// outside a git checkout) and skips [`SKIPPED_DIRS`] unless asked.
pub fn discover(root: &Path, options: &DiscoverOptions) -> Result<Vec<PathBuf>, Error> {
    Ok(discover_all(root, options)?.lockfiles)
}

/// The lockfiles under `root` and the files that look like lockfiles but
/// cannot be read alone. A `root` that is neither a folder nor a regular
/// file (a FIFO, a device) is an error.
pub fn discover_all(root: &Path, options: &DiscoverOptions) -> Result<Discovered, Error> {
    let meta = std::fs::metadata(root).map_err(|source| Error::Read {
        path: root.display().to_string(),
        source,
    })?;
    if meta.is_file() {
        let mut found = Discovered::default();
        if crate::formats::file_name(root) == "go.sum" {
            let go_mod = root.with_file_name("go.mod");
            if go_mod.is_file() {
                found.lockfiles.push(go_mod);
            } else {
                found.orphans.push(root.to_path_buf());
            }
        } else {
            found.lockfiles.push(root.to_path_buf());
        }
        return Ok(found);
    }
    if !meta.is_dir() {
        return Err(Error::NotRegular {
            path: root.display().to_string(),
        });
    }
    let include_vendored = options.include_vendored;
    let mut builder = ignore::WalkBuilder::new(root);
    builder
        .hidden(false)
        .git_ignore(!options.no_ignore)
        .git_exclude(!options.no_ignore)
        .git_global(false)
        .ignore(!options.no_ignore)
        .parents(!options.no_ignore)
        .require_git(false)
        .follow_links(false)
        .filter_entry(move |entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            if !is_dir || entry.depth() == 0 {
                return true;
            }
            let name = entry.file_name().to_str().unwrap_or("");
            name != ".git" && (include_vendored || !SKIPPED_DIRS.contains(&name))
        });
    let mut found = Discovered::default();
    let mut go_sums = Vec::new();
    for entry in builder.build() {
        let entry = entry.map_err(|e| Error::Walk {
            path: root.display().to_string(),
            message: e.to_string(),
        })?;
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        if format_for(entry.path()).is_some() {
            found.lockfiles.push(entry.into_path());
        } else if entry.file_name() == "go.sum" {
            go_sums.push(entry.into_path());
        }
    }
    found.lockfiles.sort();
    found.orphans = go_sums
        .into_iter()
        .filter(|sum| {
            let go_mod = sum.with_file_name("go.mod");
            found.lockfiles.binary_search(&go_mod).is_err()
        })
        .collect();
    found.orphans.sort();
    Ok(found)
}
