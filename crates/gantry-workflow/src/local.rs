//! Local references: `uses: ./path` and `uses: $/path`, resolved inside a
//! repository (or, when a job runs, inside its workspace).
//!
//! A reference is joined to the root after normalising `.` and `..` as
//! GitHub's runner does (lexically); one that climbs above the root, is
//! absolute, or reaches a symbolic link whose target is outside the root is
//! refused. Both `gantry validate` and the executor resolve through
//! [`resolve_local`], so what validate accepts is what a run may open.

use std::path::{Component, Path, PathBuf};

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
/// exist on the way.
pub fn resolve_local(root: &Path, uses: &str) -> Result<Option<PathBuf>, LocalRefError> {
    let Some(relative) = uses.strip_prefix("./").or_else(|| uses.strip_prefix("$/")) else {
        return Ok(None);
    };
    let escapes = || LocalRefError::Escapes {
        uses: uses.to_string(),
    };
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in Path::new(relative).components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop().ok_or_else(escapes)?;
            }
            Component::RootDir | Component::Prefix(_) => return Err(escapes()),
        }
    }
    let path: PathBuf = parts
        .iter()
        .fold(root.to_path_buf(), |p, part| p.join(part));
    check_links(root, &parts, uses)?;
    Ok(Some(path))
}

/// Follows each existing prefix of `root/parts...` that is a symbolic link
/// and refuses one whose target lies outside `root`.
fn check_links(root: &Path, parts: &[&std::ffi::OsStr], uses: &str) -> Result<(), LocalRefError> {
    let Ok(real_root) = root.canonicalize() else {
        // No root on disk: nothing below it exists to link anywhere.
        return Ok(());
    };
    let mut at = root.to_path_buf();
    for (i, part) in parts.iter().enumerate() {
        at.push(part);
        let Ok(meta) = at.symlink_metadata() else {
            return Ok(());
        };
        if !meta.file_type().is_symlink() {
            continue;
        }
        let link = || LocalRefError::LinkEscapes {
            uses: uses.to_string(),
            link: parts[..=i].iter().collect(),
        };
        match at.canonicalize() {
            Ok(real) if real.starts_with(&real_root) => {}
            Ok(_) => return Err(link()),
            // A dangling link: refuse it when its target is outside.
            Err(_) => {
                let target = std::fs::read_link(&at).map_err(|_| link())?;
                let target = at.parent().map_or(target.clone(), |dir| dir.join(&target));
                if !lexically_inside(&real_root, &target) && !lexically_inside(root, &target) {
                    return Err(link());
                }
                return Ok(());
            }
        }
    }
    Ok(())
}

fn lexically_inside(root: &Path, path: &Path) -> bool {
    let mut depth: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                if depth.pop().is_none() {
                    return false;
                }
            }
            Component::CurDir => {}
            other => depth.push(other),
        }
    }
    let normal: PathBuf = depth.iter().collect();
    normal.starts_with(root)
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
