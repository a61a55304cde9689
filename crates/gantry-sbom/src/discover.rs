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
    /// Folders not searched, and why: their `.gitignore` or `.ignore` is
    /// not a regular file (a FIFO would block the walk, a device would
    /// never end).
    pub skipped: Vec<(PathBuf, String)>,
}

/// The ignore files the walker reads in each folder.
const IGNORE_FILES: &[&str] = &[".gitignore", ".ignore", ".git/info/exclude"];

/// Why a folder's ignore files cannot be read safely, if they cannot.
fn unsafe_ignore_file(dir: &Path) -> Option<String> {
    // `.git` is a folder, or a file naming one (worktrees) that the
    // walker reads.
    let git = dir.join(".git");
    if std::fs::metadata(&git).is_ok_and(|m| !m.is_dir())
        && let Err(e) = gantry_fs::check_regular(&git)
    {
        return Some(e.to_string());
    }
    IGNORE_FILES.iter().find_map(|name| {
        let path = dir.join(name);
        // Absent is fine; anything present must be a regular file.
        std::fs::symlink_metadata(&path).ok()?;
        gantry_fs::check_regular(&path).err().map(|e| e.to_string())
    })
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
    if !options.no_ignore
        && let Some(reason) = unsafe_ignore_file(root)
    {
        return Err(Error::Walk {
            path: root.display().to_string(),
            message: format!("{reason} (use --no-ignore to search without ignore files)"),
        });
    }
    let skipped = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let skipped_in_filter = std::sync::Arc::clone(&skipped);
    let check_ignore_files = !options.no_ignore;
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
            let wanted = name != ".git" && (include_vendored || !SKIPPED_DIRS.contains(&name));
            if wanted
                && check_ignore_files
                && let Some(reason) = unsafe_ignore_file(entry.path())
            {
                if let Ok(mut list) = skipped_in_filter.lock() {
                    list.push((entry.path().to_path_buf(), reason));
                }
                return false;
            }
            wanted
        });
    // The parallel walker never reads the ignore files of a folder the
    // filter refused (the sequential one does), which is what keeps a
    // FIFO `.gitignore` from blocking the walk.
    let lockfiles = std::sync::Mutex::new(Vec::new());
    let go_sums = std::sync::Mutex::new(Vec::new());
    let first_error = std::sync::Mutex::new(None);
    builder.threads(2).build_parallel().run(|| {
        Box::new(|entry| {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    if let Ok(mut slot) = first_error.lock() {
                        slot.get_or_insert(e.to_string());
                    }
                    return ignore::WalkState::Quit;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return ignore::WalkState::Continue;
            }
            let list = if format_for(entry.path()).is_some() {
                &lockfiles
            } else if entry.file_name() == "go.sum" {
                &go_sums
            } else {
                return ignore::WalkState::Continue;
            };
            if let Ok(mut list) = list.lock() {
                list.push(entry.into_path());
            }
            ignore::WalkState::Continue
        })
    });
    if let Some(message) = first_error.into_inner().ok().flatten() {
        return Err(Error::Walk {
            path: root.display().to_string(),
            message,
        });
    }
    let mut found = Discovered {
        lockfiles: lockfiles.into_inner().unwrap_or_default(),
        ..Discovered::default()
    };
    let go_sums: Vec<PathBuf> = go_sums.into_inner().unwrap_or_default();
    found.lockfiles.sort();
    found.orphans = go_sums
        .into_iter()
        .filter(|sum| {
            let go_mod = sum.with_file_name("go.mod");
            found.lockfiles.binary_search(&go_mod).is_err()
        })
        .collect();
    found.orphans.sort();
    if let Ok(mut list) = skipped.lock() {
        found.skipped = std::mem::take(&mut *list);
    }
    found.skipped.sort();
    Ok(found)
}
