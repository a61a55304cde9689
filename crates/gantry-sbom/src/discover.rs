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

/// The lockfiles under `root`, sorted by path. Respects `.gitignore` (also
/// outside a git checkout) and skips [`SKIPPED_DIRS`] unless asked.
pub fn discover(root: &Path, options: &DiscoverOptions) -> Result<Vec<PathBuf>, Error> {
    if root.is_file() {
        return Ok(vec![root.to_path_buf()]);
    }
    if !root.is_dir() {
        return Err(Error::Read {
            path: root.display().to_string(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder"),
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
    let mut found = Vec::new();
    for entry in builder.build() {
        let entry = entry.map_err(|e| Error::Walk {
            path: root.display().to_string(),
            message: e.to_string(),
        })?;
        if entry.file_type().is_some_and(|t| t.is_file()) && format_for(entry.path()).is_some() {
            found.push(entry.into_path());
        }
    }
    found.sort();
    Ok(found)
}
