//! Local references: `uses: ./path` and `uses: $/path`, resolved inside a
//! repository (or, when a job runs, inside its workspace).
//!
//! A reference is joined to the root after normalising `.` and `..` as
//! GitHub's runner does (lexically); one that climbs above the root, is
//! absolute, or reaches a symbolic link whose target is outside the root is
//! refused. Both `gantry validate` and the executor resolve through
//! [`resolve_local`], so what validate accepts is what a run may open.

use std::path::{Path, PathBuf};

/// Why a local reference cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocalRefError {
    /// `..` climbs above the root, or the path is absolute.
    #[error("'{uses}' resolves outside the repository")]
    Escapes { uses: String },
    /// A symbolic link on the way points outside the root.
    #[error("'{uses}' resolves outside the repository through the symbolic link '{}'", link.display())]
    LinkEscapes { uses: String, link: PathBuf },
}

impl LocalRefError {
    /// How to fix the reference.
    pub fn hint(&self) -> &'static str {
        match self {
            LocalRefError::Escapes { .. } => {
                "a local action or reusable workflow is named by its path inside the repository, e.g. `./.github/actions/build` or `./.github/workflows/build.yml`"
            }
            LocalRefError::LinkEscapes { .. } => {
                "move the action or workflow into the repository instead of linking to it"
            }
        }
    }
}

/// Whether `uses` is a local reference (`./path` or `$/path`).
pub fn is_local(uses: &str) -> bool {
    uses.starts_with("./") || uses.starts_with("$/")
}

/// The path a local reference names under `root`, or `Ok(None)` when `uses`
/// is not local (`owner/repo@ref`, `docker://...`). The path is normalised
/// and checked to stay inside `root`, following the symbolic links that
/// exist on the way (see [`gantry_fs::confine`]).
pub fn resolve_local(root: &Path, uses: &str) -> Result<Option<PathBuf>, LocalRefError> {
    let Some(relative) = uses.strip_prefix("./").or_else(|| uses.strip_prefix("$/")) else {
        return Ok(None);
    };
    gantry_fs::confine(root, Path::new(relative))
        .map(Some)
        .map_err(|e| match e {
            gantry_fs::Escape::Link { link, .. } => LocalRefError::LinkEscapes {
                uses: uses.to_string(),
                link,
            },
            _ => LocalRefError::Escapes {
                uses: uses.to_string(),
            },
        })
}

/// The repository that holds `file`: the nearest folder above it that
/// contains `.github` or `.git`. GitHub resolves a workflow's `./`
/// references from there, wherever the command was started.
pub fn repository_root(file: &Path) -> Option<PathBuf> {
    let dir = file.parent()?;
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    dir.ancestors()
        .filter(|d| !d.as_os_str().is_empty())
        .find(|d| d.join(".github").is_dir() || d.join(".git").exists())
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(uses: &str) -> Result<Option<PathBuf>, String> {
        resolve_local(Path::new("/repo"), uses).map_err(|e| e.to_string())
    }

    #[test]
    fn references_that_climb_out_are_refused() {
        for uses in [
            "./..",
            "./../x",
            "./a/../../x",
            "./.github/workflows/../../../x.yml",
            "$/../etc/passwd",
            ".//etc/passwd",
        ] {
            assert!(resolve(uses).is_err(), "{uses}");
        }
    }

    #[test]
    fn references_inside_are_normalised() {
        assert_eq!(
            resolve("./.github/workflows/x.yml"),
            Ok(Some(PathBuf::from("/repo/.github/workflows/x.yml")))
        );
        assert_eq!(
            resolve("./a/../.github/actions/b"),
            Ok(Some(PathBuf::from("/repo/.github/actions/b")))
        );
        assert_eq!(resolve("$/x.yml"), Ok(Some(PathBuf::from("/repo/x.yml"))));
        assert_eq!(resolve("./"), Ok(Some(PathBuf::from("/repo"))));
        assert_eq!(resolve("org/repo/.github/workflows/x.yml@v1"), Ok(None));
        assert_eq!(resolve("docker://alpine"), Ok(None));
    }
}
