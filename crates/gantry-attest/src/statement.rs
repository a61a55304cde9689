//! in-toto Statement v1: what was attested (subjects with digests), what
//! kind of claim it is (`predicateType`) and the claim (`predicate`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::AttestError;
use crate::digest::{hex_len, is_hex_of, sha256_file};

/// `_type` of the statements gantry writes.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// The older `_type`, still read.
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";

/// Most files a folder subject may expand to.
pub const MAX_SUBJECT_FILES: usize = 100_000;

/// An artifact the statement is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    #[serde(default)]
    pub name: String,
    /// Algorithm (`sha256`) to lower-case hex digest.
    pub digest: BTreeMap<String, String>,
}

impl Subject {
    pub fn sha256(name: impl Into<String>, hex: impl Into<String>) -> Subject {
        Subject {
            name: name.into(),
            digest: BTreeMap::from([("sha256".to_string(), hex.into())]),
        }
    }

    /// The SHA-256 digest, if the subject has one.
    pub fn sha256_hex(&self) -> Option<&str> {
        self.digest.get("sha256").map(String::as_str)
    }
}

/// An in-toto Statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub statement_type: String,
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    #[serde(default)]
    pub predicate: serde_json::Value,
}

impl Statement {
    /// A v1 statement.
    pub fn new(subject: Vec<Subject>, predicate_type: &str, predicate: serde_json::Value) -> Self {
        Statement {
            statement_type: STATEMENT_V1.to_string(),
            subject,
            predicate_type: predicate_type.to_string(),
            predicate,
        }
    }

    /// The statement as the bytes an envelope carries (compact JSON).
    pub fn to_payload(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads and checks a statement: its `_type`, at least one subject,
    /// each subject with a digest, SHA-256 digests in lower-case hex.
    pub fn from_payload(bytes: &[u8]) -> Result<Statement, AttestError> {
        let statement: Statement = serde_json::from_slice(bytes)
            .map_err(|e| AttestError::Statement(format!("not an in-toto statement: {e}")))?;
        if statement.statement_type != STATEMENT_V1 && statement.statement_type != STATEMENT_V01 {
            return Err(AttestError::Statement(format!(
                "`_type` is `{}`, expected `{STATEMENT_V1}`",
                statement.statement_type
            )));
        }
        if statement.predicate_type.is_empty() {
            return Err(AttestError::Statement("`predicateType` is empty".into()));
        }
        if statement.subject.is_empty() {
            return Err(AttestError::Statement(
                "the statement has no subject".into(),
            ));
        }
        for (i, s) in statement.subject.iter().enumerate() {
            if s.digest.is_empty() {
                return Err(AttestError::Statement(format!(
                    "subject {i} (`{}`) has no digest",
                    s.name
                )));
            }
            for (algorithm, hex) in &s.digest {
                if let Some(len) = hex_len(algorithm)
                    && !is_hex_of(hex, len)
                {
                    return Err(AttestError::Statement(format!(
                        "subject {i} (`{}`) has a malformed {algorithm} digest `{hex}`",
                        s.name
                    )));
                }
            }
        }
        Ok(statement)
    }
}

/// The name a path gets as a subject: `/`-separated, without a leading
/// `./`.
pub fn subject_name(path: &Path) -> String {
    let text = path
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    text.replace("//", "/")
}

/// One subject per file: a file is itself, a folder is every file under it
/// (recursively, sorted, symbolic links to folders not followed). `base`
/// resolves relative paths; names are the paths as given.
pub fn subjects_from_paths(base: &Path, paths: &[PathBuf]) -> Result<Vec<Subject>, AttestError> {
    files_from_paths(base, paths)?
        .into_iter()
        .map(|(name, full)| Ok(Subject::sha256(name, sha256_file(&full)?)))
        .collect()
}

/// The files [`subjects_from_paths`] makes subjects of: each subject name
/// and the file's full path.
pub fn files_from_paths(
    base: &Path,
    paths: &[PathBuf],
) -> Result<Vec<(String, PathBuf)>, AttestError> {
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for path in paths {
        let full = if path.is_absolute() {
            path.clone()
        } else {
            base.join(path)
        };
        let meta = std::fs::metadata(&full).map_err(|e| AttestError::read(&full, e))?;
        if meta.is_dir() {
            let before = files.len();
            walk(&full, path, &mut files)?;
            if files.len() == before {
                return Err(AttestError::NoSubjects { path: path.clone() });
            }
        } else {
            files.push((subject_name(path), full));
        }
    }
    files.sort();
    files.dedup_by(|a, b| a.0 == b.0);
    Ok(files)
}

fn walk(dir: &Path, shown: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<(), AttestError> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| AttestError::read(dir, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| AttestError::read(dir, e))?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let shown = shown.join(entry.file_name());
        let kind = entry.file_type().map_err(|e| AttestError::read(&path, e))?;
        if kind.is_dir() {
            walk(&path, &shown, out)?;
        } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
            if out.len() >= MAX_SUBJECT_FILES {
                return Err(AttestError::Statement(format!(
                    "more than {MAX_SUBJECT_FILES} files under {}",
                    dir.display()
                )));
            }
            out.push((subject_name(&shown), path));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn folder_gives_one_subject_per_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("dist/sub")).unwrap();
        std::fs::write(dir.path().join("dist/b.txt"), "b").unwrap();
        std::fs::write(dir.path().join("dist/sub/a.txt"), "a").unwrap();
        std::fs::write(dir.path().join("one"), "").unwrap();
        let subjects =
            subjects_from_paths(dir.path(), &[PathBuf::from("./dist"), PathBuf::from("one")])
                .unwrap();
        let names: Vec<_> = subjects.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["dist/b.txt", "dist/sub/a.txt", "one"]);
        assert_eq!(
            subjects[2].sha256_hex(),
            Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        std::fs::create_dir(dir.path().join("empty")).unwrap();
        assert!(subjects_from_paths(dir.path(), &[PathBuf::from("empty")]).is_err());
    }

    #[test]
    fn statement_checks() {
        let s = Statement::new(
            vec![Subject::sha256("a", "00".repeat(32))],
            "https://example.com/p",
            serde_json::json!({}),
        );
        let back = Statement::from_payload(&s.to_payload()).unwrap();
        assert_eq!(back, s);
        for bad in [
            r#"{"_type":"x","subject":[{"digest":{"sha256":"00"}}],"predicateType":"p"}"#,
            r#"{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"p"}"#,
            r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{}}],"predicateType":"p"}"#,
            r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"XYZ"}}],"predicateType":"p"}"#,
        ] {
            assert!(Statement::from_payload(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
