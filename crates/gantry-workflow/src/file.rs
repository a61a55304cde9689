//! Reading a workflow or action file from disk, bounded and as UTF-8.
//!
//! `validate`, `plan` and `audit` read files through [`read_source`], so an
//! unreadable file is reported the same way by all three: not a regular
//! file (a FIFO, a device), larger than the limit, or not UTF-8 (with the
//! byte offset of the first invalid byte).

use std::path::Path;
use std::sync::Arc;

use crate::diagnostic::{Diagnostic, FileDiagnostics};
use crate::source::SourceFile;

/// Why a file could not be read as text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    #[error("failed to read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("the file is not a regular file")]
    NotAFile,
    #[error("The maximum file size of {limit} characters has been exceeded")]
    TooLarge { limit: usize },
    #[error("the file is not UTF-8 text (invalid byte at offset {offset})")]
    NotUtf8 { offset: usize },
}

impl FileError {
    /// The error as a diagnostic of the whole file.
    pub fn to_diagnostic(&self) -> Diagnostic {
        match self {
            FileError::TooLarge { .. } => {
                Diagnostic::error("file-too-large", None, self.to_string())
                    .with_hint("split the workflow into reusable workflows or composite actions")
            }
            _ => Diagnostic::error("unreadable", None, self.to_string()),
        }
    }

    /// The error as the diagnostics of a file named `name`.
    pub fn to_file_diagnostics(&self, name: impl Into<String>) -> FileDiagnostics {
        FileDiagnostics {
            source: SourceFile::new(name, ""),
            diagnostics: vec![self.to_diagnostic()],
        }
    }
}

/// Reads `path` (at most `max_size` bytes) as the source file `name`.
/// Anything but a regular file is refused (see [`gantry_fs::read_bounded`]),
/// so a FIFO cannot block the reader and a device cannot feed it forever.
pub fn read_source(
    path: &Path,
    name: impl Into<String>,
    max_size: usize,
) -> Result<Arc<SourceFile>, FileError> {
    let limit = u64::try_from(max_size).unwrap_or(u64::MAX);
    let bytes = gantry_fs::read_bounded(path, limit).map_err(|e| match e {
        gantry_fs::ReadError::Io { source, .. } => FileError::Io(source),
        gantry_fs::ReadError::TooLarge { .. } => FileError::TooLarge { limit: max_size },
        _ => FileError::NotAFile,
    })?;
    let text = String::from_utf8(bytes).map_err(|err| FileError::NotUtf8 {
        offset: err.utf8_error().valid_up_to(),
    })?;
    Ok(SourceFile::new(name, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_reports_its_byte_offset() {
        let dir = std::env::temp_dir().join(format!("gantry-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let path = dir.join("bad.yml");
        std::fs::write(&path, b"on: push\n\xff\n").ok();
        let err = read_source(&path, "bad.yml", 1024).err();
        assert_eq!(
            err.map(|e| e.to_string()),
            Some("the file is not UTF-8 text (invalid byte at offset 9)".to_string())
        );
        let err = read_source(&path, "bad.yml", 4).err();
        assert!(matches!(err, Some(FileError::TooLarge { limit: 4 })));
        assert!(matches!(
            read_source(&dir, "dir", 1024).err(),
            Some(FileError::NotAFile)
        ));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn proc_files_are_not_read_as_workflows() {
        let err = read_source(Path::new("/proc/self/status"), "status", 1 << 20).err();
        assert!(matches!(err, Some(FileError::NotAFile)), "{err:?}");
    }
}
