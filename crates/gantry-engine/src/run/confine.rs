//! Keeping paths where they belong: a path a workflow names (an artifact's
//! `path:`, a local action, a reusable workflow) is used only if it stays
//! inside its folder (the workspace, the repository), both as written
//! (`..`, absolute paths) and once symbolic links are followed.

use std::path::{Component, Path, PathBuf};

/// A path that leads out of its folder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Outside {
    #[error("`{path}` is outside the {place}")]
    Leaves { path: String, place: &'static str },
    #[error("`{path}` is a symbolic link to {target}, outside the {place}")]
    Link {
        path: String,
        target: String,
        place: &'static str,
    },
}

/// `path` (relative to `root`, or absolute inside it) as a path under
/// `root`, if it stays there. `place` names `root` in errors ("workspace").
pub(crate) fn inside(root: &Path, path: &str, place: &'static str) -> Result<PathBuf, Outside> {
    let leaves = || Outside::Leaves {
        path: path.to_string(),
        place,
    };
    let given = Path::new(path);
    let relative = if given.is_absolute() {
        given.strip_prefix(root).map_err(|_| leaves())?
    } else {
        given
    };
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for c in relative.components() {
        match c {
            Component::Normal(p) => parts.push(p),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop().ok_or_else(leaves)?;
            }
            Component::RootDir | Component::Prefix(_) => return Err(leaves()),
        }
    }
    let joined: PathBuf = parts.iter().fold(root.to_path_buf(), |p, c| p.join(c));
    // Links: the deepest part that exists must resolve inside the root.
    let Ok(real_root) = root.canonicalize() else {
        return Ok(joined);
    };
    let mut existing = joined.as_path();
    loop {
        if let Ok(real) = existing.canonicalize() {
            if !real.starts_with(&real_root) {
                return Err(Outside::Link {
                    path: path.to_string(),
                    target: real.display().to_string(),
                    place,
                });
            }
            return Ok(joined);
        }
        match existing.parent() {
            Some(parent) if parent.starts_with(root) => existing = parent,
            _ => return Ok(joined),
        }
    }
}

/// The first symbolic link under `dir` (not followed) whose target is
/// outside `root`, with its target. Links inside `root` are fine.
pub(crate) fn link_out_of(root: &Path, dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let real_root = root.canonicalize().ok()?;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            // A dangling link leads nowhere; a link to a link is resolved
            // to its end.
            let target = path
                .canonicalize()
                .or_else(|_| std::fs::read_link(&path))
                .unwrap_or_default();
            let target = if target.is_relative() {
                path.parent().map_or(target.clone(), |p| p.join(&target))
            } else {
                target
            };
            if !target.starts_with(&real_root) {
                return Some((path, target));
            }
        } else if meta.is_dir()
            && let Ok(entries) = std::fs::read_dir(&path)
        {
            pending.extend(entries.flatten().map(|e| e.path()));
        }
    }
    None
}

/// Whether an artifact name is one name, not a path: no separators, not
/// `.` or `..`, not empty.
pub(crate) fn artifact_name_ok(name: &str) -> bool {
    !(name.is_empty()
        || name == "."
        || name == ".."
        || name.contains(['/', '\\', '\0'])
        || name.trim() != name)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn paths_stay_inside_their_folder() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("etc-link")).unwrap();
        std::os::unix::fs::symlink(root.join("a"), root.join("a-link")).unwrap();
        assert_eq!(
            inside(&root, "a/./b", "workspace").unwrap(),
            root.join("a/b")
        );
        assert_eq!(
            inside(&root, "a/../new", "workspace").unwrap(),
            root.join("new")
        );
        let abs = root.join("a").display().to_string();
        assert_eq!(inside(&root, &abs, "workspace").unwrap(), root.join("a"));
        assert_eq!(
            inside(&root, "../x", "workspace").unwrap_err().to_string(),
            "`../x` is outside the workspace"
        );
        assert!(inside(&root, "a/../../x", "workspace").is_err());
        assert!(inside(&root, "/etc/passwd", "workspace").is_err());
        let through = inside(&root, "etc-link/passwd", "workspace").unwrap_err();
        assert!(matches!(through, Outside::Link { .. }), "{through}");
        assert!(inside(&root, "etc-link/not-there/x", "workspace").is_err());
        assert!(inside(&root, "a-link/b", "workspace").is_ok());

        assert_eq!(
            link_out_of(&root, &root),
            Some((root.join("etc-link"), PathBuf::from("/etc")))
        );
        assert_eq!(link_out_of(&root, &root.join("a")), None);
    }

    #[test]
    fn artifact_names_are_names() {
        assert!(artifact_name_ok("dist-linux"));
        for bad in ["", ".", "..", "../x", "a/b", "a\\b", " x"] {
            assert!(!artifact_name_ok(bad), "{bad}");
        }
    }
}
