//! Artifacts as `actions/upload-artifact@v4` and `download-artifact@v4`
//! keep them: scoped to a run, a name unique within it, kept for a number
//! of days.

use std::path::Path;
use std::time::Duration;

use globset::GlobBuilder;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::blobs::Digest;
use crate::cache::{commit_blob, parse_digest};
use crate::error::StoreError;
use crate::history::RunId;
use crate::paths::PathPatterns;
use crate::time::Timestamp;
use crate::{Store, TxError, from_sql_int, sql_int};

/// GitHub's default retention.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;

const DAY: Duration = Duration::from_secs(24 * 3600);

/// An artifact of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArtifactInfo {
    pub run: RunId,
    pub name: String,
    /// `None` for an upload that matched no files (nothing was stored).
    pub digest: Option<Digest>,
    /// Files and links in it.
    pub files: u64,
    /// Uncompressed archive bytes.
    pub size: u64,
    pub stored_size: u64,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// Past its retention: no longer downloadable, removed by pruning.
    pub expired: bool,
}

/// Characters GitHub refuses in artifact names.
const INVALID_NAME_CHARS: &[char] = &[
    '"', ':', '<', '>', '|', '*', '?', '\r', '\n', '\\', '/', '\0',
];

/// An artifact name is also a folder name under a download's destination:
/// besides GitHub's rules, `.`, `..` and NUL are refused, so a name can
/// never lead out of the folder it is downloaded into.
fn check_name(name: &str) -> Result<(), StoreError> {
    let reason = if name.trim().is_empty() {
        "the name is empty".to_string()
    } else if name == "." || name == ".." {
        "the name is `.` or `..`".to_string()
    } else if let Some(c) = name.chars().find(|c| INVALID_NAME_CHARS.contains(c)) {
        format!("the name contains {c:?}, which artifact names may not")
    } else {
        return Ok(());
    };
    Err(StoreError::InvalidArtifactName {
        name: name.to_string(),
        reason,
    })
}

const ARTIFACT_COLUMNS: &str = "a.run_id, a.name, a.digest, a.files, b.size, b.stored_size, \
     a.created_at, a.expires_at";

fn artifact(row: &rusqlite::Row<'_>, now: Timestamp) -> Result<ArtifactInfo, TxError> {
    let digest: String = row.get(2)?;
    let expires_at = Timestamp(row.get(7)?);
    Ok(ArtifactInfo {
        run: RunId(from_sql_int(row.get(0)?, "run id")?),
        name: row.get(1)?,
        digest: Some(parse_digest(&digest)?),
        files: from_sql_int(row.get(3)?, "file count")?,
        size: from_sql_int(row.get(4)?, "blob size")?,
        stored_size: from_sql_int(row.get(5)?, "blob size")?,
        created_at: Timestamp(row.get(6)?),
        expires_at,
        expired: expires_at <= now,
    })
}

/// The artifacts of a run, expired ones included, by name.
pub(crate) fn artifacts_of(
    tx: &Transaction<'_>,
    run: RunId,
    now: Timestamp,
) -> Result<Vec<ArtifactInfo>, TxError> {
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {ARTIFACT_COLUMNS} FROM artifacts a JOIN blobs b ON b.digest = a.digest
         WHERE a.run_id = ?1 ORDER BY a.name"
    ))?;
    let mut rows = stmt.query([sql_int(run.0)])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(artifact(row, now)?);
    }
    Ok(out)
}

/// Every expired artifact.
pub(crate) fn expired(tx: &Transaction<'_>, now: Timestamp) -> Result<Vec<ArtifactInfo>, TxError> {
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {ARTIFACT_COLUMNS} FROM artifacts a JOIN blobs b ON b.digest = a.digest
         WHERE a.expires_at <= ?1 ORDER BY a.run_id, a.name"
    ))?;
    let mut rows = stmt.query([now.millis()])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(artifact(row, now)?);
    }
    Ok(out)
}

impl Store {
    /// Archives `paths` (patterns relative to `root`) as the artifact
    /// `name` of `run`, kept `retention_days` (default 90; 0 means the
    /// default). A name already used in the run is an error. When no file
    /// matches, nothing is stored and the result has `files == 0` and no
    /// digest: the caller applies `if-no-files-found`.
    pub fn upload_artifact(
        &self,
        run: RunId,
        name: &str,
        root: &Path,
        paths: &[String],
        retention_days: Option<u32>,
    ) -> Result<ArtifactInfo, StoreError> {
        check_name(name)?;
        let now = self.now();
        let days = match retention_days {
            None | Some(0) => self.options.default_retention_days,
            Some(d) => d,
        };
        let expires_at = now.plus(DAY * days);
        self.read(|tx| {
            if tx
                .query_row("SELECT 1 FROM runs WHERE id = ?1", [sql_int(run.0)], |_| {
                    Ok(())
                })
                .optional()?
                .is_none()
            {
                return Err(StoreError::NotFound {
                    what: "run",
                    id: run.0,
                }
                .into());
            }
            if name_taken(tx, run, name, now)? {
                return Err(StoreError::ArtifactExists {
                    run: run.0,
                    name: name.to_string(),
                }
                .into());
            }
            Ok(())
        })?;
        let patterns = PathPatterns::parse(root, paths)?;
        let (pending, stats) = match self.archive_into_blob(&patterns) {
            Ok(p) => p,
            Err(StoreError::NoFilesMatched { .. }) => {
                return Ok(ArtifactInfo {
                    run,
                    name: name.to_string(),
                    digest: None,
                    files: 0,
                    size: 0,
                    stored_size: 0,
                    created_at: now,
                    expires_at,
                    expired: false,
                });
            }
            Err(e) => return Err(e),
        };
        let info = self.write(|tx| {
            if name_taken(tx, run, name, now)? {
                return Err(StoreError::ArtifactExists {
                    run: run.0,
                    name: name.to_string(),
                }
                .into());
            }
            // An expired artifact of the same name gives way.
            tx.execute(
                "DELETE FROM artifacts WHERE run_id = ?1 AND name = ?2",
                params![sql_int(run.0), name],
            )?;
            let info = commit_blob(tx, pending, now)?;
            tx.execute(
                "INSERT INTO artifacts (run_id, name, digest, files, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    sql_int(run.0),
                    name,
                    info.digest.hex(),
                    sql_int(stats.entries()),
                    now.millis(),
                    expires_at.millis()
                ],
            )?;
            Ok(info)
        })?;
        Ok(ArtifactInfo {
            run,
            name: name.to_string(),
            digest: Some(info.digest),
            files: stats.entries(),
            size: info.size,
            stored_size: info.stored_size,
            created_at: now,
            expires_at,
            expired: false,
        })
    }

    /// Extracts the run's artifacts whose name matches `pattern` (a name,
    /// or a glob such as `logs-*`; `None` for all) into `dest`, or into
    /// `dest/<name>` each when `per_artifact_dirs`. An exact name that does
    /// not exist is an error; a glob that matches nothing returns an empty
    /// list. Expired artifacts are not downloadable.
    pub fn download_artifact(
        &self,
        run: RunId,
        pattern: Option<&str>,
        dest: &Path,
        per_artifact_dirs: bool,
    ) -> Result<Vec<ArtifactInfo>, StoreError> {
        let now = self.now();
        let all: Vec<ArtifactInfo> = self
            .read(|tx| artifacts_of(tx, run, now))?
            .into_iter()
            .filter(|a| !a.expired)
            .collect();
        let selected: Vec<ArtifactInfo> = match pattern {
            None => all,
            Some(p) if !p.contains(['*', '?', '[']) => {
                let found: Vec<ArtifactInfo> = all.into_iter().filter(|a| a.name == p).collect();
                if found.is_empty() {
                    return Err(StoreError::ArtifactNotFound {
                        run: run.0,
                        name: p.to_string(),
                    });
                }
                found
            }
            Some(p) => {
                let glob = GlobBuilder::new(p)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| StoreError::Pattern {
                        pattern: p.to_string(),
                        reason: e.kind().to_string(),
                    })?
                    .compile_matcher();
                all.into_iter().filter(|a| glob.is_match(&a.name)).collect()
            }
        };
        // Names come back from the database: check them again, and check
        // every one before extracting any.
        for a in &selected {
            check_name(&a.name).map_err(|e| match e {
                StoreError::InvalidArtifactName { name, reason } => StoreError::InvalidRecord {
                    path: self.db_path.clone(),
                    what: format!("artifact name `{name}` of run {run}: {reason}"),
                },
                other => other,
            })?;
        }
        for a in &selected {
            let Some(digest) = a.digest else { continue };
            let target = if per_artifact_dirs {
                let target = dest.join(&a.name);
                // A link in the artifact's place would lead the extraction
                // wherever it points.
                if std::fs::symlink_metadata(&target).is_ok_and(|m| m.file_type().is_symlink()) {
                    return Err(StoreError::LinkInDestination {
                        name: a.name.clone(),
                        path: target,
                    });
                }
                target
            } else {
                dest.to_path_buf()
            };
            self.extract_blob(&digest, &target)?;
        }
        Ok(selected)
    }

    /// The run's artifacts by name, expired ones included (marked).
    pub fn artifacts(&self, run: RunId) -> Result<Vec<ArtifactInfo>, StoreError> {
        let now = self.now();
        self.read(|tx| artifacts_of(tx, run, now))
    }
}

/// Whether the run has an unexpired artifact of this name.
fn name_taken(
    tx: &Transaction<'_>,
    run: RunId,
    name: &str,
    now: Timestamp,
) -> Result<bool, TxError> {
    Ok(tx
        .query_row(
            "SELECT 1 FROM artifacts WHERE run_id = ?1 AND name = ?2 AND expires_at > ?3",
            params![sql_int(run.0), name, now.millis()],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_githubs_rules() {
        assert!(check_name("dist-linux").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("a/b").is_err());
        assert!(check_name("a:b").is_err());
        assert!(check_name("what?").is_err());
        assert!(check_name(".").is_err());
        assert!(check_name("..").is_err());
        assert!(check_name("a\0b").is_err());
        assert!(check_name("/abs").is_err());
        assert!(check_name("..x").is_ok());
    }
}
