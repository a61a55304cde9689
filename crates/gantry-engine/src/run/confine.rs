//! Keeping paths where they belong: a path a workflow names (an artifact's
//! `path:`, a local action, a reusable workflow) is used only if it stays
//! inside its folder (the workspace, the repository), both as written
//! (`..`, absolute paths) and once symbolic links are followed.

use std::path::{Path, PathBuf};

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
    gantry_fs::confine(root, relative).map_err(|e| match e {
        gantry_fs::Escape::Link { target, .. } => Outside::Link {
            path: path.to_string(),
            target: target.display().to_string(),
            place,
        },
        _ => leaves(),
    })
}

/// The first symbolic link under `dir` (not followed) whose target is
/// outside `root`, with its target. Links inside `root` are fine.
pub(crate) use gantry_fs::link_out_of;

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

        std::os::unix::fs::symlink("../../gone", root.join("a/out")).unwrap();
        let dangling = inside(&root, "a/out/x", "workspace").unwrap_err();
        assert!(matches!(dangling, Outside::Link { .. }), "{dangling}");
    }

    #[test]
    fn artifact_names_are_names() {
        assert!(artifact_name_ok("dist-linux"));
        for bad in ["", ".", "..", "../x", "a/b", "a\\b", " x"] {
            assert!(!artifact_name_ok(bad), "{bad}");
        }
    }
}
