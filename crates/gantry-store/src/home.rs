//! `$GANTRY_HOME`: the one folder where gantry keeps state, and where in
//! it each kind of state lives. Built once by the binary and passed down.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::error::StoreError;

/// The environment variable that names the home folder.
pub const HOME_ENV: &str = "GANTRY_HOME";

/// The database file's name inside the home folder.
pub const DATABASE_FILE: &str = "gantry.db";

/// The layout of a home folder. Nothing is created until something is
/// written: building a `Home` does no I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// The home at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Home {
        Home { root: root.into() }
    }

    /// `$GANTRY_HOME`, else the platform's data folder
    /// (`$XDG_DATA_HOME/gantry`, `~/.local/share/gantry`), else
    /// `.gantry-home` in the current folder.
    pub fn from_env() -> Home {
        Home::resolve(|name| std::env::var_os(name))
    }

    /// [`Home::from_env`] with the environment given as a lookup.
    pub fn resolve(var: impl Fn(&str) -> Option<OsString>) -> Home {
        let var = |name: &str| var(name).filter(|v| !v.is_empty());
        if let Some(dir) = var(HOME_ENV) {
            return Home::new(dir);
        }
        if let Some(dir) = var("XDG_DATA_HOME") {
            return Home::new(PathBuf::from(dir).join("gantry"));
        }
        if let Some(dir) = var("HOME") {
            return Home::new(
                PathBuf::from(dir)
                    .join(".local")
                    .join("share")
                    .join("gantry"),
            );
        }
        Home::new(".gantry-home")
    }

    /// The home folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `gantry.db`: run history, cache and artifact index.
    pub fn database(&self) -> PathBuf {
        self.root.join(DATABASE_FILE)
    }

    /// `blobs/`: content-addressed cache and artifact archives.
    pub fn blobs(&self) -> PathBuf {
        self.root.join("blobs")
    }

    /// `logs/`: the executor's log files, `logs/<run>/<job>/<step>.log`.
    pub fn logs(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// `locks/`: lock files of the processes that record runs.
    pub fn locks(&self) -> PathBuf {
        self.root.join("locks")
    }

    /// `work/`: job workspaces of the runs in progress (and those kept
    /// with `--keep-workspaces`).
    pub fn work(&self) -> PathBuf {
        self.root.join("work")
    }

    /// `vuln/`: the vulnerability database.
    pub fn vuln(&self) -> PathBuf {
        self.root.join("vuln")
    }

    /// `ledger/`: the evidence ledger.
    pub fn ledger(&self) -> PathBuf {
        self.root.join("ledger")
    }

    /// `packages/`: promotion packages, each `<id>.json`, never rewritten.
    pub fn packages(&self) -> PathBuf {
        self.root.join("packages")
    }

    /// `actions/`: the store of marketplace actions (gantry-actions),
    /// `<owner>/<repo>/<commit>/` trees and `refs.json` per repository.
    pub fn actions(&self) -> PathBuf {
        self.root.join("actions")
    }

    /// `attestations/`: envelopes written by `run --attest`.
    pub fn attestations(&self) -> PathBuf {
        self.root.join("attestations")
    }

    /// Whether the home folder exists; an error when something that is
    /// not a folder is in its place.
    pub fn exists(&self) -> Result<bool, StoreError> {
        match fs::metadata(&self.root) {
            Ok(m) if m.is_dir() => Ok(true),
            Ok(_) => Err(StoreError::HomeNotAFolder {
                path: self.root.clone(),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(StoreError::io("inspect", &self.root, e)),
        }
    }

    /// Creates the home folder if it is missing.
    pub(crate) fn create(&self) -> Result<(), StoreError> {
        if self.exists()? {
            return Ok(());
        }
        fs::create_dir_all(&self.root).map_err(|e| StoreError::io("create", &self.root, e))
    }

    /// Resolves `relative` (a path read from the database) under the home,
    /// refusing one that is absolute or climbs out with `..`.
    pub fn join_stored(&self, relative: &str) -> Result<PathBuf, StoreError> {
        let refuse = |reason: &str| StoreError::UnsafeStoredPath {
            path: relative.to_string(),
            home: self.root.clone(),
            reason: reason.to_string(),
        };
        if relative.is_empty() {
            return Err(refuse("the path is empty"));
        }
        if relative.contains('\0') {
            return Err(refuse("the path contains a NUL byte"));
        }
        let mut out = self.root.clone();
        for c in Path::new(relative).components() {
            match c {
                Component::Normal(s) => out.push(s),
                Component::CurDir => {}
                Component::ParentDir => return Err(refuse("the path contains `..`")),
                Component::RootDir | Component::Prefix(_) => {
                    return Err(refuse("the path is absolute"));
                }
            }
        }
        Ok(out)
    }

    /// Opens a regular file that must lie under the home once every link
    /// is resolved; `None` when it does not exist. A link out of the home,
    /// or a device, FIFO or folder in its place, is an error and is never
    /// opened.
    pub fn open_file_inside(&self, path: &Path) -> Result<Option<fs::File>, StoreError> {
        let resolved = match fs::canonicalize(path) {
            Ok(p) => p,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::io("resolve", path, e)),
        };
        let root =
            fs::canonicalize(&self.root).map_err(|e| StoreError::io("resolve", &self.root, e))?;
        if !resolved.starts_with(&root) {
            return Err(StoreError::OutsideHome {
                path: path.to_path_buf(),
                resolved,
                home: self.root.clone(),
            });
        }
        let meta =
            fs::symlink_metadata(&resolved).map_err(|e| StoreError::io("inspect", path, e))?;
        if !meta.is_file() {
            return Err(StoreError::NotARegularFile {
                path: path.to_path_buf(),
            });
        }
        let file = fs::File::open(&resolved).map_err(|e| StoreError::io("open", path, e))?;
        Ok(Some(file))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn gantry_home_wins_then_xdg_then_home() {
        let all = [
            ("GANTRY_HOME", "/g"),
            ("XDG_DATA_HOME", "/x"),
            ("HOME", "/h"),
        ];
        assert_eq!(Home::resolve(env(&all)).root(), Path::new("/g"));
        assert_eq!(Home::resolve(env(&all[1..])).root(), Path::new("/x/gantry"));
        assert_eq!(
            Home::resolve(env(&all[2..])).root(),
            Path::new("/h/.local/share/gantry")
        );
        assert_eq!(
            Home::resolve(env(&[("GANTRY_HOME", "")])).root(),
            Path::new(".gantry-home")
        );
    }

    #[test]
    fn stored_paths_stay_under_the_home() {
        let home = Home::new("/g");
        assert_eq!(
            home.join_stored("logs/1/2/0.log").unwrap(),
            Path::new("/g/logs/1/2/0.log")
        );
        for bad in ["", "/etc/passwd", "logs/../../etc/passwd", "..", "a\0b"] {
            assert!(home.join_stored(bad).is_err(), "{bad:?}");
        }
    }
}
