//! Reading from the repository: the quarantine list and the test files a
//! split is asked for.

use std::path::{Path, PathBuf};

use crate::quarantine::{QUARANTINE_FILE, Quarantine, QuarantineError};
use crate::timing::SplitFile;

/// Largest quarantine file read.
const MAX_QUARANTINE_BYTES: u64 = 4 << 20;
/// Most files a glob may give.
const MAX_GLOB_FILES: usize = 200_000;

/// Why the repository's test files or quarantine list could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FilesError {
    #[error(transparent)]
    Read(#[from] gantry_fs::ReadError),
    #[error(transparent)]
    Quarantine(#[from] QuarantineError),
    #[error("`{path}` is not a file")]
    NotAFile { path: String },
    #[error("--glob `{glob}` is not a glob: {source}")]
    Glob {
        glob: String,
        source: globset::Error,
    },
    #[error("--glob `{glob}` matches more than {MAX_GLOB_FILES} files")]
    TooManyFiles { glob: String },
    #[error("failed to list {}: {source}", path.display())]
    Walk {
        path: PathBuf,
        source: ignore::Error,
    },
}

/// `.gantry/quarantine.yml` under `root`; an empty list when there is none.
pub fn load_quarantine(root: &Path) -> Result<Quarantine, FilesError> {
    let path = root.join(QUARANTINE_FILE);
    if !path.exists() {
        return Ok(Quarantine::default());
    }
    let text = gantry_fs::read_text_bounded(&path, MAX_QUARANTINE_BYTES)?;
    Ok(Quarantine::parse(QUARANTINE_FILE, &text)?)
}

/// Files under `root`: each of `files` as written (relative to `root`
/// when not absolute), then every file that a glob matches (relative to
/// `root`, in path order; `.gitignore` respected when `respect_ignore`),
/// without repeats.
pub fn find_files(
    root: &Path,
    files: &[String],
    globs: &[String],
    respect_ignore: bool,
) -> Result<Vec<SplitFile>, FilesError> {
    let mut out: Vec<SplitFile> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for file in files {
        let path = root.join(file);
        let meta = std::fs::metadata(&path).map_err(|source| gantry_fs::ReadError::Io {
            path: path.clone(),
            source,
        })?;
        if !meta.is_file() {
            return Err(FilesError::NotAFile { path: file.clone() });
        }
        if seen.insert(file.clone()) {
            out.push(SplitFile {
                path: file.clone(),
                size: meta.len(),
            });
        }
    }
    for glob in globs {
        let matcher = globset::GlobBuilder::new(glob)
            .literal_separator(true)
            .build()
            .map_err(|source| FilesError::Glob {
                glob: glob.clone(),
                source,
            })?
            .compile_matcher();
        let mut matched = Vec::new();
        for entry in ignore::WalkBuilder::new(root)
            .hidden(true)
            .git_ignore(respect_ignore)
            .git_exclude(respect_ignore)
            .git_global(respect_ignore)
            .ignore(respect_ignore)
            .parents(respect_ignore)
            .build()
        {
            let entry = entry.map_err(|source| FilesError::Walk {
                path: root.to_path_buf(),
                source,
            })?;
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let Ok(relative) = entry.path().strip_prefix(root) else {
                continue;
            };
            if matcher.is_match(relative) {
                let size = entry.metadata().map_or(0, |m| m.len());
                matched.push(SplitFile {
                    path: relative.to_string_lossy().into_owned(),
                    size,
                });
                if matched.len() > MAX_GLOB_FILES {
                    return Err(FilesError::TooManyFiles { glob: glob.clone() });
                }
            }
        }
        matched.sort_by(|a, b| a.path.cmp(&b.path));
        for f in matched {
            if seen.insert(f.path.clone()) {
                out.push(f);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn globs_and_named_files_are_listed_once_in_a_stable_order() {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "tests/test_b.py",
            "tests/test_a.py",
            "tests/unit/test_c.py",
            "src/app.py",
        ] {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
        let files = find_files(
            dir.path(),
            &["tests/test_b.py".to_string()],
            &["tests/**/test_*.py".to_string()],
            true,
        )
        .unwrap();
        let paths: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            ["tests/test_b.py", "tests/test_a.py", "tests/unit/test_c.py"]
        );
        assert!(matches!(
            find_files(dir.path(), &["tests".to_string()], &[], true),
            Err(FilesError::NotAFile { .. })
        ));
        assert!(find_files(dir.path(), &["missing.py".to_string()], &[], true).is_err());
        assert!(matches!(
            find_files(dir.path(), &[], &["[".to_string()], true),
            Err(FilesError::Glob { .. })
        ));
    }

    #[test]
    fn no_quarantine_file_is_an_empty_list_and_a_bad_one_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_quarantine(dir.path()).unwrap().entries.is_empty());
        std::fs::create_dir_all(dir.path().join(".gantry")).unwrap();
        std::fs::write(
            dir.path().join(QUARANTINE_FILE),
            "quarantine: [{test: a}]\n",
        )
        .unwrap();
        let err = load_quarantine(dir.path()).unwrap_err();
        assert!(
            err.to_string().starts_with(".gantry/quarantine.yml:1:"),
            "{err}"
        );
    }
}
