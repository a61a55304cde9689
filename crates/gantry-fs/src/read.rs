//! Reading untrusted files safely: only regular files, never a device,
//! FIFO, socket or `/proc`/`/sys` file, never more than a limit, and (for
//! includes and neighbours a lockfile names) never outside the scanned root.
//!
//! Every reader of user-supplied files goes through [`read_bounded`] (or
//! [`open_regular`] for a streaming reader): the file type is checked before opening,
//! the open does not block (a FIFO swapped in after the check cannot hang
//! it), the opened descriptor is checked again, and reading stops one byte
//! past the limit.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::confine::{confine, lexically_inside};

/// Folders whose files are never read: their "regular files" are kernel
/// interfaces with no real size (`/proc/self/...`). Devices are refused by
/// their type wherever they are, so the regular files of `/dev/shm` (a
/// tmpfs) are read like any other.
const SYSTEM_DIRS: &[&str] = &["/proc", "/sys"];

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    #[error("failed to read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a regular file (it is a {kind})", path.display())]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error("{} is a system file (under /proc or /sys)", path.display())]
    SystemFile { path: PathBuf },
    #[error("{} is larger than {limit} bytes", path.display())]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{} is not UTF-8 text", path.display())]
    NotUtf8 { path: PathBuf },
    #[error("`{target}` is outside the scanned folder {}", root.display())]
    Outside { target: String, root: PathBuf },
}

impl ReadError {
    /// Whether the file does not exist (as opposed to being refused).
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

/// The kind of a non-regular file, for messages.
fn kind_of(t: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "FIFO";
        }
        if t.is_socket() {
            return "socket";
        }
        if t.is_char_device() {
            return "character device";
        }
        if t.is_block_device() {
            return "block device";
        }
    }
    if t.is_dir() {
        return "folder";
    }
    if t.is_symlink() {
        return "symbolic link";
    }
    "special file"
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReadError + '_ {
    move |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Checks that `path` (after following links) is a regular file outside
/// `/proc` and `/sys`, without opening it.
pub fn check_regular(path: &Path) -> Result<std::fs::Metadata, ReadError> {
    let meta = std::fs::metadata(path).map_err(io(path))?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular {
            path: path.to_path_buf(),
            kind: kind_of(meta.file_type()),
        });
    }
    let real = std::fs::canonicalize(path).map_err(io(path))?;
    if SYSTEM_DIRS.iter().any(|d| real.starts_with(d)) {
        return Err(ReadError::SystemFile {
            path: path.to_path_buf(),
        });
    }
    Ok(meta)
}

/// Opens a regular file for reading (see [`check_regular`]); the open
/// never blocks, and the opened file is checked to be regular again.
pub fn open_regular(path: &Path) -> Result<std::fs::File, ReadError> {
    check_regular(path)?;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits());
    }
    let file = options.open(path).map_err(io(path))?;
    let meta = file.metadata().map_err(io(path))?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular {
            path: path.to_path_buf(),
            kind: kind_of(meta.file_type()),
        });
    }
    Ok(file)
}

/// The bytes of a regular file of at most `limit` bytes.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = open_regular(path)?;
    let too_large = || ReadError::TooLarge {
        path: path.to_path_buf(),
        limit,
    };
    let len = file.metadata().map_err(io(path))?.len();
    if len > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io(path))?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// The UTF-8 text of a regular file of at most `limit` bytes, without a
/// leading byte-order mark.
pub fn read_text_bounded(path: &Path, limit: u64) -> Result<String, ReadError> {
    let bytes = read_bounded(path, limit)?;
    let mut text = String::from_utf8(bytes).map_err(|_| ReadError::NotUtf8 {
        path: path.to_path_buf(),
    })?;
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

/// `target` (as a file names it: relative to `base`, a folder under
/// `root`) as a path that, with every link followed, lies inside `root`
/// (see [`confine`]). Absolute targets, `..` that climbs out and links
/// that lead out are refused.
pub fn resolve_inside(root: &Path, base: &Path, target: &str) -> Result<PathBuf, ReadError> {
    let outside = || ReadError::Outside {
        target: target.to_string(),
        root: root.to_path_buf(),
    };
    let relative = Path::new(target);
    if relative.is_absolute() || relative.has_root() || target.starts_with(['/', '\\']) {
        return Err(outside());
    }
    let joined = base.join(relative);
    // Lexically first, so that a missing target outside is "outside",
    // not "not found" with a path outside the root.
    if !lexically_inside(root, &joined) {
        return Err(outside());
    }
    let below = base.strip_prefix(root).map_err(|_| outside())?;
    confine(root, &below.join(relative)).map_err(|_| outside())?;
    Ok(joined)
}

/// [`resolve_inside`] then [`read_text_bounded`].
pub fn read_inside(
    root: &Path,
    base: &Path,
    target: &str,
    limit: u64,
) -> Result<String, ReadError> {
    let path = resolve_inside(root, base, target)?;
    read_text_bounded(&path, limit)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_file_over_the_limit_is_refused_with_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.txt");
        std::fs::write(&path, "0123456789").unwrap();
        assert_eq!(read_bounded(&path, 10).unwrap().len(), 10);
        let e = read_bounded(&path, 9).unwrap_err();
        assert!(matches!(e, ReadError::TooLarge { limit: 9, .. }), "{e}");
        assert!(e.to_string().contains("larger than 9 bytes"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn dev_zero_through_a_link_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("Cargo.lock");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let e = read_bounded(&link, 1 << 20).unwrap_err();
        assert!(matches!(e, ReadError::NotRegular { .. }), "{e}");
        assert!(e.to_string().contains("character device"), "{e}");
    }

    /// Regression: a ledger or home on tmpfs (`/dev/shm`) was refused as a
    /// system file.
    #[cfg(target_os = "linux")]
    #[test]
    fn regular_files_on_dev_shm_are_read() {
        if !Path::new("/dev/shm").is_dir() {
            eprintln!("skipping: no /dev/shm on this machine");
            return;
        }
        let dir = tempfile::tempdir_in("/dev/shm").unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"x").unwrap();
        assert_eq!(read_bounded(&path, 16).unwrap(), b"x");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn proc_files_are_refused() {
        let e = read_bounded(Path::new("/proc/self/status"), 1 << 20).unwrap_err();
        assert!(matches!(e, ReadError::SystemFile { .. }), "{e}");
    }

    #[test]
    fn includes_cannot_climb_out_of_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(dir.path().join("secret.txt"), "x").unwrap();
        std::fs::write(root.join("sub/ok.txt"), "y").unwrap();
        assert!(resolve_inside(&root, &root, "sub/ok.txt").is_ok());
        assert!(resolve_inside(&root, &root.join("sub"), "../sub/ok.txt").is_ok());
        for bad in ["../secret.txt", "sub/../../secret.txt", "/etc/passwd"] {
            let e = resolve_inside(&root, &root, bad).unwrap_err();
            assert!(matches!(e, ReadError::Outside { .. }), "{bad}: {e}");
        }
    }
}
