//! Finding the workflow and action files of a repository.

use std::path::{Path, PathBuf};

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Workflow,
    Action,
}

/// What marks a repository's root: git's folder (or file, in a worktree),
/// or the workflows' and gantry's configuration folders.
pub const ROOT_MARKERS: [&str; 3] = [".git", ".github", ".gantry"];

/// The repository `start` is in: the nearest of `start` and its parents
/// that holds one of [`ROOT_MARKERS`], searching upward as git does.
/// `None` when none does.
pub fn find_root(start: &Path) -> Option<&Path> {
    start
        .ancestors()
        .find(|dir| ROOT_MARKERS.iter().any(|m| dir.join(m).exists()))
}

/// Tells a file's kind from its name: `action.yml`/`action.yaml` are
/// actions, everything else is read as a workflow.
pub fn file_kind(path: &Path) -> FileKind {
    match path.file_name().and_then(|n| n.to_str()) {
        Some("action.yml" | "action.yaml") => FileKind::Action,
        _ => FileKind::Workflow,
    }
}

fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yml" | "yaml")
    )
}

/// The workflow files (`.github/workflows/*.yml`, as GitHub reads them: not
/// in subfolders) and action files (`action.yml` anywhere not ignored by
/// `.gitignore`) under `root`, sorted.
pub fn discover(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let workflows = root.join(".github").join("workflows");
    if workflows.is_dir() {
        for entry in std::fs::read_dir(&workflows)? {
            let path = entry?.path();
            if path.is_file() && is_yaml(&path) {
                files.push(path);
            }
        }
    }
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .filter_entry(|e| {
            !matches!(
                e.file_name().to_str(),
                Some(".git" | "node_modules" | "target" | ".venv")
            )
        })
        .build();
    for entry in walker {
        let entry = entry.map_err(std::io::Error::other)?;
        let path = entry.path();
        if entry.file_type().is_some_and(|t| t.is_file()) && file_kind(path) == FileKind::Action {
            files.push(path.to_path_buf());
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

/// Why the files to check could not be listed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListError {
    #[error("failed to read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to read {}: no such file or directory", path.display())]
    NotFound { path: PathBuf },
    /// A workflow named by `plan` or `run` that is neither a path nor a
    /// file under `.github/workflows`.
    #[error("no workflow '{}'", name.display())]
    NoWorkflow { name: PathBuf, dir: PathBuf },
}

/// The files `validate` and `audit` check: those named (relative to
/// `root`), each folder named by its workflow and action files and the
/// YAML files directly in it, or, when nothing is named, the repository's
/// ([`discover`]).
pub fn files_to_check(root: &Path, paths: &[PathBuf]) -> Result<Vec<PathBuf>, ListError> {
    let read_dir = |dir: &Path| -> Result<Vec<PathBuf>, ListError> {
        let mut found = discover(dir).map_err(|source| ListError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        // A folder of workflows named directly.
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let p = entry.path();
                if p.is_file() && is_yaml(&p) && !found.contains(&p) {
                    found.push(p);
                }
            }
        }
        found.sort();
        Ok(found)
    };
    if paths.is_empty() {
        return read_dir(root);
    }
    let mut out = Vec::new();
    for path in paths {
        let path = if path.is_absolute() {
            path.clone()
        } else {
            root.join(path)
        };
        if path.is_dir() {
            out.extend(read_dir(&path)?);
        } else if path.is_file() {
            out.push(path);
        } else {
            return Err(ListError::NotFound { path });
        }
    }
    Ok(out)
}

/// The workflows `plan` and `run` use: each name as a path (relative to
/// `root`) or a file under `.github/workflows`, or, when none is named, the
/// YAML files of `.github/workflows`, sorted.
pub fn workflow_files(root: &Path, names: &[PathBuf]) -> Result<Vec<PathBuf>, ListError> {
    let dir = root.join(".github").join("workflows");
    if names.is_empty() {
        let entries = std::fs::read_dir(&dir).map_err(|source| ListError::Read {
            path: dir.clone(),
            source,
        })?;
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && is_yaml(p))
            .collect();
        files.sort();
        return Ok(files);
    }
    names
        .iter()
        .map(|name| {
            let direct = if name.is_absolute() {
                name.clone()
            } else {
                root.join(name)
            };
            if direct.is_file() {
                return Ok(direct);
            }
            let in_dir = dir.join(name);
            if in_dir.is_file() {
                return Ok(in_dir);
            }
            Err(ListError::NoWorkflow {
                name: name.clone(),
                dir: dir.clone(),
            })
        })
        .collect()
}
