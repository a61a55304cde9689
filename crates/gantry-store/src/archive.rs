//! Tar archives of collected paths, and their safe extraction.
//!
//! [`pack`] writes regular files, directories and symbolic links relative
//! to the root (never absolute, never `..`), with their permission bits and
//! modification times, owner 0, in the order given. [`unpack`] refuses any
//! entry that would land outside the destination: absolute paths, `..`
//! components, and paths that lead through a symbolic link pointing
//! outside (whether the link came from the archive or was already there).
//! A link in the archive is created as a link and never written through;
//! hard links, devices and pipes are refused.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use tar::{EntryType, Header};

use crate::error::StoreError;
use crate::paths::{EntryKind, PathEntry};

/// What an archive holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ArchiveStats {
    pub files: u64,
    pub dirs: u64,
    pub symlinks: u64,
    /// Bytes of file content.
    pub bytes: u64,
}

impl ArchiveStats {
    /// Files and links: what a user counts as "files".
    pub fn entries(&self) -> u64 {
        self.files + self.symlinks
    }
}

/// Writes `entries` (relative to `root`) as a tar stream into `out`.
pub fn pack<W: Write>(
    root: &Path,
    entries: &[PathEntry],
    out: W,
) -> Result<(W, ArchiveStats), StoreError> {
    let mut builder = tar::Builder::new(out);
    let mut stats = ArchiveStats::default();
    let write_error = |e: io::Error| StoreError::io("write the archive of", root, e);
    for entry in entries {
        let abs = root.join(&entry.rel);
        let mut header = Header::new_gnu();
        header.set_mode(entry.mode);
        header.set_mtime(u64::try_from(entry.mtime).unwrap_or(0));
        header.set_uid(0);
        header.set_gid(0);
        match &entry.kind {
            EntryKind::Dir => {
                header.set_entry_type(EntryType::Directory);
                header.set_size(0);
                builder
                    .append_data(&mut header, &entry.rel, io::empty())
                    .map_err(write_error)?;
                stats.dirs += 1;
            }
            EntryKind::Symlink { target } => {
                header.set_entry_type(EntryType::Symlink);
                header.set_size(0);
                builder
                    .append_link(&mut header, &entry.rel, target)
                    .map_err(write_error)?;
                stats.symlinks += 1;
            }
            EntryKind::File { len } => {
                let file = File::open(&abs).map_err(|e| StoreError::io("open", &abs, e))?;
                header.set_entry_type(EntryType::Regular);
                header.set_size(*len);
                let reader = ExactReader {
                    inner: file.take(*len),
                    remaining: *len,
                    path: &abs,
                };
                // Read in large pieces: `io::copy` fills the buffer directly.
                let capacity = usize::try_from(*len)
                    .unwrap_or(usize::MAX)
                    .clamp(512, 128 << 10);
                let reader = io::BufReader::with_capacity(capacity, reader);
                builder
                    .append_data(&mut header, &entry.rel, reader)
                    .map_err(|e| {
                        if e.kind() == io::ErrorKind::UnexpectedEof {
                            StoreError::io("archive", &abs, e)
                        } else {
                            write_error(e)
                        }
                    })?;
                stats.files += 1;
                stats.bytes += len;
            }
        }
    }
    let out = builder.into_inner().map_err(write_error)?;
    Ok((out, stats))
}

/// Reads exactly the length the header announced, or fails: a file that
/// shrank while being archived must not leave a malformed archive.
struct ExactReader<'a> {
    inner: io::Take<File>,
    remaining: u64,
    path: &'a Path,
}

impl Read for ExactReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && self.remaining > 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{} shrank while it was archived", self.path.display()),
            ));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// Extracts a tar stream into `dest` (created if missing), overwriting
/// files that exist. Returns the reader (positioned after the archive's
/// end marker) and what was extracted.
pub fn unpack<R: Read>(reader: R, dest: &Path) -> Result<(R, ArchiveStats), StoreError> {
    fs::create_dir_all(dest).map_err(|e| StoreError::io("create", dest, e))?;
    let dest = fs::canonicalize(dest).map_err(|e| StoreError::io("resolve", dest, e))?;
    let mut archive = tar::Archive::new(reader);
    let mut stats = ArchiveStats::default();
    let mut extractor = Extractor {
        safe_dirs: HashSet::from([dest.clone()]),
        dest,
        dir_metadata: Vec::new(),
        buffer: vec![0u8; 256 * 1024],
    };
    {
        let entries = archive
            .entries()
            .map_err(|source| StoreError::ArchiveRead { source })?;
        for entry in entries {
            let mut entry = entry.map_err(|source| StoreError::ArchiveRead { source })?;
            extractor.extract(&mut entry, &mut stats)?;
        }
    }
    extractor.finish_dirs()?;
    Ok((archive.into_inner(), stats))
}

struct Extractor {
    dest: PathBuf,
    /// Directories known to be real directories inside `dest`.
    safe_dirs: HashSet<PathBuf>,
    /// Directory permissions and times, applied last (a read-only folder
    /// must still receive its files).
    dir_metadata: Vec<(PathBuf, u32, u64)>,
    buffer: Vec<u8>,
}

fn display_entry(entry: &tar::Entry<'_, impl Read>) -> String {
    String::from_utf8_lossy(&entry.path_bytes()).into_owned()
}

/// The entry's path as components that stay inside the destination.
fn sanitized(raw: &Path, shown: &str) -> Result<PathBuf, StoreError> {
    let mut out = PathBuf::new();
    for c in raw.components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(unsafe_entry(shown, "the path contains `..`"));
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(unsafe_entry(shown, "the path is absolute"));
            }
        }
    }
    Ok(out)
}

fn unsafe_entry(entry: &str, reason: impl Into<String>) -> StoreError {
    StoreError::UnsafeEntry {
        entry: entry.to_string(),
        reason: reason.into(),
    }
}

impl Extractor {
    fn extract<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        stats: &mut ArchiveStats,
    ) -> Result<(), StoreError> {
        let shown = display_entry(entry);
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() {
            return Ok(());
        }
        let raw = entry
            .path()
            .map_err(|source| StoreError::ArchiveRead { source })?;
        let rel = sanitized(&raw, &shown)?;
        if rel.as_os_str().is_empty() {
            // The root itself (`./`): nothing to create.
            return Ok(());
        }
        let target = self.dest.join(&rel);
        let parent = target.parent().unwrap_or(&self.dest).to_path_buf();
        self.ensure_dir_chain(&parent, &shown)?;
        let mode = entry.header().mode().unwrap_or(0o644) & 0o777;
        let mtime = entry.header().mtime().unwrap_or(0);
        match kind {
            EntryType::Regular | EntryType::Continuous => {
                self.clear_for_non_dir(&target, &shown)?;
                let mut file = OpenOptions::new()
                    .write(true)
                    // O_EXCL: never opens through a link planted meanwhile.
                    .create_new(true)
                    .open(&target)
                    .map_err(|e| StoreError::io("create", &target, e))?;
                let mut written = 0u64;
                loop {
                    let n = match entry.read(&mut self.buffer) {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(source) => return Err(StoreError::ArchiveRead { source }),
                    };
                    file.write_all(&self.buffer[..n])
                        .map_err(|e| StoreError::io("write", &target, e))?;
                    written += n as u64;
                }
                set_file_metadata(&file, mode, mtime)
                    .map_err(|e| StoreError::io("set permissions and times of", &target, e))?;
                stats.files += 1;
                stats.bytes += written;
            }
            EntryType::Directory => {
                match fs::symlink_metadata(&target) {
                    Ok(m) if m.is_dir() => {}
                    Ok(m) if m.file_type().is_symlink() => {
                        // Replace a link by the directory; never follow it.
                        fs::remove_file(&target)
                            .map_err(|e| StoreError::io("replace", &target, e))?;
                        self.forget_safe_under(&target);
                        create_dir(&target)?;
                    }
                    Ok(_) => {
                        return Err(unsafe_entry(
                            &shown,
                            "a file is in the way of the directory",
                        ));
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => create_dir(&target)?,
                    Err(e) => return Err(StoreError::io("read", &target, e)),
                }
                self.safe_dirs.insert(target.clone());
                self.dir_metadata.push((target, mode, mtime));
                stats.dirs += 1;
            }
            EntryType::Symlink => {
                let link = entry
                    .link_name()
                    .map_err(|source| StoreError::ArchiveRead { source })?
                    .ok_or_else(|| unsafe_entry(&shown, "the link has no target"))?;
                self.clear_for_non_dir(&target, &shown)?;
                make_symlink(&link, &target)?;
                stats.symlinks += 1;
            }
            EntryType::Link => {
                return Err(unsafe_entry(&shown, "hard links are not supported"));
            }
            other => {
                return Err(unsafe_entry(
                    &shown,
                    format!("entries of type {other:?} are not supported"),
                ));
            }
        }
        Ok(())
    }

    /// Removes a file or link at `target` so that a new one can be made;
    /// refuses to replace a directory.
    fn clear_for_non_dir(&mut self, target: &Path, shown: &str) -> Result<(), StoreError> {
        match fs::symlink_metadata(target) {
            Ok(m) if m.is_dir() => Err(unsafe_entry(shown, "a directory is in the way")),
            Ok(m) => {
                fs::remove_file(target).map_err(|e| StoreError::io("replace", target, e))?;
                if m.file_type().is_symlink() {
                    // Folders reached through the old link are no longer
                    // known to be safe.
                    self.forget_safe_under(target);
                }
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::io("read", target, e)),
        }
    }

    fn forget_safe_under(&mut self, path: &Path) {
        self.safe_dirs.retain(|d| !d.starts_with(path));
    }

    /// Makes sure every folder from the destination down to `dir` is a
    /// directory inside the destination, creating the missing ones. A link
    /// on the way is accepted only if it resolves inside the destination.
    fn ensure_dir_chain(&mut self, dir: &Path, shown: &str) -> Result<(), StoreError> {
        if self.safe_dirs.contains(dir) {
            return Ok(());
        }
        let mut pending = Vec::new();
        let mut cursor = dir;
        while !self.safe_dirs.contains(cursor) {
            pending.push(cursor.to_path_buf());
            match cursor.parent() {
                Some(p) if p.starts_with(&self.dest) => cursor = p,
                _ => return Err(unsafe_entry(shown, "the path leaves the destination")),
            }
        }
        for d in pending.into_iter().rev() {
            match fs::symlink_metadata(&d) {
                Ok(m) if m.is_dir() => {}
                Ok(m) if m.file_type().is_symlink() => {
                    let resolved = fs::canonicalize(&d).ok();
                    let inside = resolved
                        .as_ref()
                        .is_some_and(|r| r.starts_with(&self.dest) && r.is_dir());
                    if !inside {
                        let via = d
                            .strip_prefix(&self.dest)
                            .unwrap_or(&d)
                            .display()
                            .to_string();
                        return Err(unsafe_entry(
                            shown,
                            format!(
                                "`{via}` is a symbolic link that leads outside the destination"
                            ),
                        ));
                    }
                }
                Ok(_) => {
                    let via = d
                        .strip_prefix(&self.dest)
                        .unwrap_or(&d)
                        .display()
                        .to_string();
                    return Err(unsafe_entry(
                        shown,
                        format!("`{via}` is a file, not a directory"),
                    ));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => create_dir(&d)?,
                Err(e) => return Err(StoreError::io("read", &d, e)),
            }
            self.safe_dirs.insert(d);
        }
        Ok(())
    }

    fn finish_dirs(&mut self) -> Result<(), StoreError> {
        // Deepest first, so that a parent's time is set after its children
        // changed it.
        self.dir_metadata
            .sort_by_key(|d| std::cmp::Reverse(d.0.components().count()));
        for (dir, mode, mtime) in self.dir_metadata.drain(..) {
            set_dir_metadata(&dir, mode, mtime)
                .map_err(|e| StoreError::io("set permissions and times of", &dir, e))?;
        }
        Ok(())
    }
}

fn create_dir(path: &Path) -> Result<(), StoreError> {
    match fs::create_dir(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => Ok(()),
        Err(e) => Err(StoreError::io("create", path, e)),
    }
}

fn system_time(mtime: u64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(mtime)
}

#[cfg(unix)]
fn set_file_metadata(file: &File, mode: u32, mtime: u64) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    file.set_modified(system_time(mtime))
}

#[cfg(not(unix))]
fn set_file_metadata(file: &File, _mode: u32, mtime: u64) -> io::Result<()> {
    file.set_modified(system_time(mtime))
}

#[cfg(unix)]
fn set_dir_metadata(dir: &Path, mode: u32, mtime: u64) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    File::open(dir)?.set_modified(system_time(mtime))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_dir_metadata(_dir: &Path, _mode: u32, _mtime: u64) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn make_symlink(link: &Path, target: &Path) -> Result<(), StoreError> {
    std::os::unix::fs::symlink(link, target)
        .map_err(|e| StoreError::io("create the link", target, e))
}

#[cfg(not(unix))]
fn make_symlink(_link: &Path, target: &Path) -> Result<(), StoreError> {
    Err(StoreError::io(
        "create the link",
        target,
        io::Error::new(
            io::ErrorKind::Unsupported,
            "symbolic links need a Unix system",
        ),
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::paths::PathPatterns;

    #[test]
    fn round_trip_keeps_content_modes_times_and_links() {
        let src = tempfile::tempdir().unwrap();
        let root = src.path();
        fs::create_dir_all(root.join("d/e")).unwrap();
        fs::write(root.join("d/a.txt"), b"alpha").unwrap();
        fs::write(root.join("d/e/b.bin"), vec![7u8; 100_000]).unwrap();
        let long = format!("d/{}.txt", "n".repeat(150));
        fs::write(root.join(&long), b"long name").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(root.join("d/a.txt"), fs::Permissions::from_mode(0o751)).unwrap();
            std::os::unix::fs::symlink("e/b.bin", root.join("d/link")).unwrap();
        }
        File::options()
            .write(true)
            .open(root.join("d/a.txt"))
            .unwrap()
            .set_modified(system_time(1_000_000_000))
            .unwrap();
        let entries = PathPatterns::parse(root, &["d".to_string()])
            .unwrap()
            .collect()
            .unwrap();
        let (bytes, stats) = pack(root, &entries, Vec::new()).unwrap();
        assert_eq!(stats.files, 3);
        let out = tempfile::tempdir().unwrap();
        let (_, unpacked) = unpack(&bytes[..], out.path()).unwrap();
        assert_eq!(unpacked, stats);
        let o = out.path();
        assert_eq!(fs::read(o.join("d/a.txt")).unwrap(), b"alpha");
        assert_eq!(fs::read(o.join(&long)).unwrap(), b"long name");
        assert_eq!(fs::read(o.join("d/e/b.bin")).unwrap().len(), 100_000);
        let meta = fs::metadata(o.join("d/a.txt")).unwrap();
        assert_eq!(meta.modified().unwrap(), system_time(1_000_000_000));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(meta.permissions().mode() & 0o777, 0o751);
            assert_eq!(
                fs::read_link(o.join("d/link")).unwrap(),
                Path::new("e/b.bin")
            );
        }
    }

    #[test]
    fn sanitized_refuses_parent_and_absolute_paths() {
        assert!(sanitized(Path::new("a/../../b"), "x").is_err());
        assert!(sanitized(Path::new("/etc/passwd"), "x").is_err());
        assert_eq!(
            sanitized(Path::new("./a/./b"), "x").unwrap(),
            Path::new("a/b")
        );
    }
}
