//! Keeping a path inside its root: `..` and `.` are resolved as text (an
//! absolute path or a `..` that climbs above the root is refused), then
//! every part of the path that exists is checked, and a symbolic link on
//! the way whose target (followed to its end, or as written when it
//! dangles) lies outside the root is refused.

use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};

/// How a path leaves its root.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Escape {
    /// The path is absolute, or `..` climbs above the root.
    #[error("the path leaves its folder")]
    Leaves,
    /// A symbolic link on the way points outside the root.
    #[error("{} is a symbolic link to {}, outside its folder", link.display(), target.display())]
    Link {
        /// The link, relative to the root.
        link: PathBuf,
        /// Where it leads (followed to its end when it exists).
        target: PathBuf,
    },
}

/// The parts of `relative` with `.` and `..` resolved as text, or `None`
/// when it is absolute or climbs above its start.
fn normal_parts(relative: &Path) -> Option<Vec<&OsStr>> {
    let mut parts = Vec::new();
    for component in relative.components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts)
}

/// `relative` with `.` and `..` resolved as text (`tests/../a.py` is
/// `a.py`), or `None` when it is absolute or climbs above its start.
pub fn normalize(relative: &Path) -> Option<PathBuf> {
    normal_parts(relative).map(|parts| parts.iter().collect())
}

/// Whether `path` stays under `root` with `.` and `..` resolved as text
/// (both taken as written, from their first component).
pub fn lexically_inside(root: &Path, path: &Path) -> bool {
    fn normal(p: &Path) -> Option<Vec<&OsStr>> {
        let mut parts = Vec::new();
        for c in p.components() {
            match c {
                Component::ParentDir => {
                    parts.pop()?;
                }
                Component::CurDir => {}
                other => parts.push(other.as_os_str()),
            }
        }
        Some(parts)
    }
    match (normal(root), normal(path)) {
        (Some(root), Some(path)) => path.starts_with(&root),
        _ => false,
    }
}

/// `relative` as a path under `root`, if it stays there: normalised as
/// text (an absolute path or a `..` above `root` is [`Escape::Leaves`]),
/// and with each existing part that is a symbolic link followed (a link
/// out of `root`, dangling or not, is [`Escape::Link`]). Parts that do not
/// exist yet are fine: the result may name a file still to be created.
pub fn confine(root: &Path, relative: &Path) -> Result<PathBuf, Escape> {
    let parts = normal_parts(relative).ok_or(Escape::Leaves)?;
    let path = parts
        .iter()
        .fold(root.to_path_buf(), |p, part| p.join(part));
    let Ok(real_root) = root.canonicalize() else {
        // No root on disk: nothing below it exists to link anywhere.
        return Ok(path);
    };
    let mut at = root.to_path_buf();
    for (i, part) in parts.iter().enumerate() {
        at.push(part);
        let Ok(meta) = at.symlink_metadata() else {
            return Ok(path);
        };
        if !meta.file_type().is_symlink() {
            continue;
        }
        let link = || parts[..=i].iter().collect::<PathBuf>();
        match at.canonicalize() {
            Ok(real) if real.starts_with(&real_root) => {}
            Ok(real) => {
                return Err(Escape::Link {
                    link: link(),
                    target: real,
                });
            }
            // A dangling link: refused when its target is outside.
            Err(_) => {
                let written = std::fs::read_link(&at).unwrap_or_default();
                let target = at
                    .parent()
                    .map_or(written.clone(), |dir| dir.join(&written));
                if !lexically_inside(&real_root, &target) && !lexically_inside(root, &target) {
                    return Err(Escape::Link {
                        link: link(),
                        target,
                    });
                }
                return Ok(path);
            }
        }
    }
    Ok(path)
}

/// The first symbolic link under `dir` (not followed) whose target is
/// outside `root`, with its target. Links inside `root` are fine.
pub fn link_out_of(root: &Path, dir: &Path) -> Option<(PathBuf, PathBuf)> {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn dot_dot_above_the_root_and_absolute_paths_leave() {
        let root = Path::new("/nowhere/root");
        assert_eq!(
            confine(root, Path::new("a/./b/../c")).unwrap(),
            root.join("a/c")
        );
        for bad in ["../x", "a/../../x", "/etc/passwd"] {
            assert_eq!(confine(root, Path::new(bad)), Err(Escape::Leaves), "{bad}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn links_out_of_the_root_are_refused_dangling_or_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("etc-link")).unwrap();
        std::os::unix::fs::symlink(root.join("a"), root.join("a-link")).unwrap();
        std::os::unix::fs::symlink("../../gone", root.join("a/dangling-out")).unwrap();
        std::os::unix::fs::symlink("b/gone", root.join("a/dangling-in")).unwrap();
        let e = confine(&root, Path::new("etc-link/passwd")).unwrap_err();
        assert_eq!(
            e,
            Escape::Link {
                link: PathBuf::from("etc-link"),
                target: PathBuf::from("/etc").canonicalize().unwrap(),
            }
        );
        assert!(confine(&root, Path::new("etc-link/not-there/x")).is_err());
        assert!(matches!(
            confine(&root, Path::new("a/dangling-out")),
            Err(Escape::Link { .. })
        ));
        assert_eq!(
            confine(&root, Path::new("a-link/b")).unwrap(),
            root.join("a-link/b")
        );
        assert!(confine(&root, Path::new("a/dangling-in")).is_ok());
        assert!(confine(&root, Path::new("new/file")).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn link_out_of_finds_the_link_that_leaves() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("etc-link")).unwrap();
        assert_eq!(
            link_out_of(&root, &root),
            Some((root.join("etc-link"), PathBuf::from("/etc")))
        );
        assert_eq!(link_out_of(&root, &root.join("a")), None);
    }
}
