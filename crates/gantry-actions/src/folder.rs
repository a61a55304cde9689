//! A plain folder (a vendored copy of an action) copied into the store,
//! and the digest of its content that keys it there.
//!
//! The digest covers every entry's path, kind (folder, file, executable
//! file, link) and content or link target, in name order, so the same
//! files give the same key wherever they come from. `.git` is left out.
//! Links stay only when they point inside the folder; devices, FIFOs and
//! sockets are refused.

use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::ActionsError;

/// The largest folder copied, so a wrong `--from` (a home folder) stops
/// with a message rather than filling the disk.
pub(crate) const MAX_FOLDER_BYTES: u64 = 2 << 30;

/// Copies `from` into `to` (an empty folder) and gives the hex digest.
pub(crate) fn copy_and_hash(from: &Path, to: &Path) -> Result<String, ActionsError> {
    let mut hasher = Sha256::new();
    let mut total = 0u64;
    copy_dir(from, from, to, &mut hasher, &mut total)?;
    Ok(hex(&hasher.finalize()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn entry(hasher: &mut Sha256, rel: &Path, kind: u8, content: &[u8]) {
    let rel = rel.to_string_lossy();
    hasher.update((rel.len() as u64).to_le_bytes());
    hasher.update(rel.as_bytes());
    hasher.update([kind]);
    hasher.update((content.len() as u64).to_le_bytes());
    hasher.update(content);
}

fn copy_dir(
    root: &Path,
    dir: &Path,
    to: &Path,
    hasher: &mut Sha256,
    total: &mut u64,
) -> Result<(), ActionsError> {
    let read = |path: &Path, source| ActionsError::Read {
        path: path.to_path_buf(),
        source,
    };
    let write = |path: &Path, source| ActionsError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut names: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| read(dir, e))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(|e| read(dir, e))?;
    names.sort();
    for path in names {
        let Some(name) = path.file_name() else {
            continue;
        };
        if dir == root && name == ".git" {
            continue;
        }
        let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        let dest = to.join(name);
        let meta = fs::symlink_metadata(&path).map_err(|e| read(&path, e))?;
        let kind = meta.file_type();
        if kind.is_symlink() {
            let target = fs::read_link(&path).map_err(|e| read(&path, e))?;
            let parent = rel.parent().unwrap_or(Path::new(""));
            let inside = Path::new("/r").join(parent).join(&target);
            if target.is_absolute() || !gantry_fs::lexically_inside(Path::new("/r"), &inside) {
                return Err(ActionsError::LinkOutside { link: path, target });
            }
            entry(hasher, &rel, b'l', target.to_string_lossy().as_bytes());
            std::os::unix::fs::symlink(&target, &dest).map_err(|e| write(&dest, e))?;
        } else if kind.is_dir() {
            entry(hasher, &rel, b'd', &[]);
            fs::create_dir(&dest).map_err(|e| write(&dest, e))?;
            copy_dir(root, &path, &dest, hasher, total)?;
        } else if kind.is_file() {
            *total += meta.len();
            if *total > MAX_FOLDER_BYTES {
                return Err(ActionsError::TooLarge {
                    path: root.to_path_buf(),
                    limit: MAX_FOLDER_BYTES,
                });
            }
            let bytes = gantry_fs::read_bounded(&path, MAX_FOLDER_BYTES).map_err(|e| {
                ActionsError::ReadFile {
                    path: path.clone(),
                    source: e,
                }
            })?;
            use std::os::unix::fs::PermissionsExt;
            let exec = meta.permissions().mode() & 0o111 != 0;
            entry(hasher, &rel, if exec { b'x' } else { b'f' }, &bytes);
            fs::write(&dest, &bytes).map_err(|e| write(&dest, e))?;
            if exec {
                fs::set_permissions(&dest, fs::Permissions::from_mode(0o755))
                    .map_err(|e| write(&dest, e))?;
            }
        } else {
            return Err(ActionsError::NotAFile { path });
        }
    }
    Ok(())
}
