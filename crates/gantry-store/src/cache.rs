//! Caches with GitHub's semantics: immutable entries identified by a key
//! and a version; restore tries the primary key exactly, then the newest
//! entry whose key starts with the primary key, then with each restore key
//! in turn; least recently used entries are evicted beyond a size limit.

use std::collections::HashMap;
use std::io::BufWriter;
use std::path::Path;
use std::time::Duration;

use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::archive::{self, ArchiveStats};
use crate::artifacts::ArtifactInfo;
use crate::blobs::{BlobInfo, Digest, PendingBlob};
use crate::error::StoreError;
use crate::paths::PathPatterns;
use crate::time::Timestamp;
use crate::{Store, TxError, from_sql_int, sql_int};

/// GitHub's per-repository cache limit: 10 GiB.
pub const DEFAULT_CACHE_LIMIT: u64 = 10 * 1024 * 1024 * 1024;

/// GitHub's limits on keys.
const MAX_KEY_LENGTH: usize = 512;
const MAX_KEYS: usize = 10;

/// Temporary blob files older than this are leftovers of a crash.
const STALE_TEMP_AGE: Duration = Duration::from_secs(24 * 3600);

/// Cache entries as `gantry cache list` shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CacheList {
    pub caches: Vec<CacheEntry>,
    /// Compressed bytes of the entries listed.
    pub total_stored_bytes: u64,
    /// The store's cache limit.
    pub limit_bytes: u64,
}

impl CacheList {
    /// The list of `caches` under a limit (an empty home lists nothing
    /// under the default limit).
    pub fn new(caches: Vec<CacheEntry>, limit_bytes: u64) -> CacheList {
        CacheList {
            total_stored_bytes: caches.iter().map(|e| e.stored_size).sum(),
            caches,
            limit_bytes,
        }
    }

    /// The versioned `cache list --format json` document.
    pub fn document(&self) -> CacheListDocument<'_> {
        CacheListDocument {
            version: crate::DOCUMENT_VERSION,
            list: self,
        }
    }
}

/// `gantry cache list --format json`.
#[derive(Debug, Serialize)]
pub struct CacheListDocument<'a> {
    pub version: u32,
    #[serde(flatten)]
    pub list: &'a CacheList,
}

/// A cache entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CacheEntry {
    pub key: String,
    pub version: String,
    pub digest: Digest,
    /// Uncompressed archive bytes.
    pub size: u64,
    /// Compressed bytes: what counts against the limit.
    pub stored_size: u64,
    /// Files and links in it.
    pub files: u64,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
}

/// The result of [`Store::save_cache`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SavedCache {
    /// `false`: an entry with this key and version already existed and was
    /// left alone (caches are immutable).
    pub saved: bool,
    pub key: String,
    pub digest: Option<Digest>,
    pub size: u64,
    pub stored_size: u64,
    pub files: u64,
    /// Entries evicted to stay under the limit.
    pub evicted: Vec<String>,
}

/// The result of a successful [`Store::restore_cache`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoredCache {
    /// The key of the entry restored.
    pub matched_key: String,
    /// Whether it is the primary key itself: `cache-hit` is `true` only
    /// then.
    pub exact: bool,
    pub digest: Digest,
    pub files: u64,
    pub size: u64,
}

/// Which cache entries [`Store::prune_caches`] removes. An entry is removed
/// when it matches `key_prefix` (if given) and was last used before
/// `older_than` ago (if given); then, while the total is over
/// `max_total_bytes`, the least recently used of the matching entries go.
/// With only a prefix, every matching entry goes; with nothing set, no
/// entry goes (expired artifacts and unreferenced blobs still do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrunePolicy {
    pub max_total_bytes: Option<u64>,
    pub older_than: Option<Duration>,
    pub key_prefix: Option<String>,
    /// Report what would go, change nothing.
    pub dry_run: bool,
}

/// What pruning removed (or, in a dry run, would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    pub dry_run: bool,
    pub removed: Vec<CacheEntry>,
    /// Expired artifacts removed.
    pub expired_artifacts: Vec<ArtifactInfo>,
    /// Blob files deleted because nothing refers to them any more.
    pub blobs_deleted: u64,
    /// Disk space those blobs took.
    pub bytes_freed: u64,
    /// Compressed size of the caches left.
    pub remaining_bytes: u64,
    pub remaining_entries: u64,
}

impl PruneReport {
    /// The versioned `cache prune --format json` document.
    pub fn document(&self) -> PruneDocument<'_> {
        PruneDocument {
            version: crate::DOCUMENT_VERSION,
            report: self,
        }
    }
}

/// `gantry cache prune --format json`.
#[derive(Debug, Serialize)]
pub struct PruneDocument<'a> {
    pub version: u32,
    #[serde(flatten)]
    pub report: &'a PruneReport,
}

fn check_key(key: &str) -> Result<(), StoreError> {
    let reason = if key.is_empty() {
        "the key is empty"
    } else if key.chars().count() > MAX_KEY_LENGTH {
        "the key is longer than 512 characters"
    } else if key.contains(',') {
        "the key contains a comma"
    } else {
        return Ok(());
    };
    Err(StoreError::InvalidKey {
        key: key.to_string(),
        reason: reason.to_string(),
    })
}

const CACHE_COLUMNS: &str = "c.key, c.version, c.digest, b.size, b.stored_size, c.files, \
     c.created_at, c.last_used_at";

fn cache_entry(row: &rusqlite::Row<'_>) -> Result<CacheEntry, TxError> {
    let digest: String = row.get(2)?;
    Ok(CacheEntry {
        key: row.get(0)?,
        version: row.get(1)?,
        digest: parse_digest(&digest)?,
        size: from_sql_int(row.get(3)?, "blob size")?,
        stored_size: from_sql_int(row.get(4)?, "blob size")?,
        files: from_sql_int(row.get(5)?, "file count")?,
        created_at: Timestamp(row.get(6)?),
        last_used_at: Timestamp(row.get(7)?),
    })
}

pub(crate) fn parse_digest(text: &str) -> Result<Digest, TxError> {
    Digest::from_hex(text).ok_or_else(|| TxError::Invalid(format!("`{text}` is not a digest")))
}

impl Store {
    /// Archives `paths` (patterns relative to `root`, see [`PathPatterns`])
    /// into a cache entry under `key` and `version`. An existing entry is
    /// left alone (`saved: false`). Evicts least recently used entries
    /// when the total goes over the limit.
    pub fn save_cache(
        &self,
        key: &str,
        version: &str,
        root: &Path,
        paths: &[String],
    ) -> Result<SavedCache, StoreError> {
        check_key(key)?;
        let not_saved = || SavedCache {
            saved: false,
            key: key.to_string(),
            digest: None,
            size: 0,
            stored_size: 0,
            files: 0,
            evicted: Vec::new(),
        };
        if self.cache_exists(key, version)? {
            return Ok(not_saved());
        }
        let patterns = PathPatterns::parse(root, paths)?;
        let (pending, stats) = self.archive_into_blob(&patterns)?;
        let info = pending.info();
        if info.stored_size > self.options.cache_limit_bytes {
            return Err(StoreError::CacheTooLarge {
                key: key.to_string(),
                size: info.stored_size,
                limit: self.options.cache_limit_bytes,
            });
        }
        let now = self.now();
        let saved = self.write(|tx| {
            let exists = tx
                .query_row(
                    "SELECT 1 FROM caches WHERE version = ?1 AND key = ?2",
                    params![version, key],
                    |_| Ok(()),
                )
                .optional()?
                .is_some();
            if exists {
                // Another process saved it meanwhile.
                return Ok(false);
            }
            commit_blob(tx, pending, now)?;
            tx.execute(
                "INSERT INTO caches (key, version, digest, files, created_at, last_used_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                params![
                    key,
                    version,
                    info.digest.hex(),
                    sql_int(stats.entries()),
                    now.millis()
                ],
            )?;
            Ok(true)
        })?;
        if !saved {
            return Ok(not_saved());
        }
        let mut evicted = Vec::new();
        if self.cache_total()? > self.options.cache_limit_bytes {
            let report = self.prune_caches(&PrunePolicy {
                max_total_bytes: Some(self.options.cache_limit_bytes),
                ..PrunePolicy::default()
            })?;
            evicted = report.removed.into_iter().map(|e| e.key).collect();
        }
        Ok(SavedCache {
            saved: true,
            key: key.to_string(),
            digest: Some(info.digest),
            size: info.size,
            stored_size: info.stored_size,
            files: stats.entries(),
            evicted,
        })
    }

    /// Collects the paths and writes their archive into a new blob.
    pub(crate) fn archive_into_blob(
        &self,
        patterns: &PathPatterns,
    ) -> Result<(PendingBlob, ArchiveStats), StoreError> {
        let entries = patterns.collect()?;
        if entries.is_empty() {
            return Err(StoreError::NoFilesMatched {
                patterns: patterns.texts().to_vec(),
            });
        }
        let writer = self.blobs.writer()?;
        let buffered = BufWriter::with_capacity(1 << 20, writer);
        let (buffered, stats) = archive::pack(patterns.root(), &entries, buffered)?;
        let writer = buffered.into_inner().map_err(|e| {
            StoreError::io("write a blob into", self.blobs.temp_dir(), e.into_error())
        })?;
        Ok((writer.finish()?, stats))
    }

    fn cache_exists(&self, key: &str, version: &str) -> Result<bool, StoreError> {
        self.read(|tx| {
            Ok(tx
                .query_row(
                    "SELECT 1 FROM caches WHERE version = ?1 AND key = ?2",
                    params![version, key],
                    |_| Ok(()),
                )
                .optional()?
                .is_some())
        })
    }

    fn cache_id_exists(&self, id: i64) -> Result<bool, StoreError> {
        self.read(|tx| {
            Ok(tx
                .query_row("SELECT 1 FROM caches WHERE id = ?1", [id], |_| Ok(()))
                .optional()?
                .is_some())
        })
    }

    fn cache_total(&self) -> Result<u64, StoreError> {
        self.read(|tx| {
            let total: i64 = tx.query_row(
                "SELECT coalesce(sum(b.stored_size), 0) FROM caches c JOIN blobs b ON b.digest = c.digest",
                [],
                |r| r.get(0),
            )?;
            from_sql_int(total, "cache total")
        })
    }

    /// Finds the entry for `keys` (the primary key, then the restore keys)
    /// and extracts it into `dest_root`: the primary key exactly, else the
    /// newest entry whose key starts with the primary key, else with each
    /// restore key in order. `Ok(None)` is a miss. An entry whose blob is
    /// corrupt or missing is removed from the index and reported as an
    /// error; files already extracted from it may remain.
    pub fn restore_cache(
        &self,
        keys: &[String],
        version: &str,
        dest_root: &Path,
    ) -> Result<Option<RestoredCache>, StoreError> {
        let Some(primary) = keys.first() else {
            return Err(StoreError::InvalidKey {
                key: String::new(),
                reason: "no key was given".into(),
            });
        };
        if keys.len() > MAX_KEYS {
            return Err(StoreError::InvalidKey {
                key: primary.clone(),
                reason: format!("{} keys were given; the limit is {MAX_KEYS}", keys.len()),
            });
        }
        for k in keys {
            check_key(k)?;
        }
        let found = self.read(|tx| {
            let exact: Option<(i64, String, String)> = tx
                .query_row(
                    "SELECT id, key, digest FROM caches WHERE version = ?1 AND key = ?2",
                    params![version, primary],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            if let Some(e) = exact {
                return Ok(Some((e, true)));
            }
            let mut stmt = tx.prepare_cached(
                "SELECT id, key, digest FROM caches
                 WHERE version = ?1 AND key >= ?2 AND substr(key, 1, length(?2)) = ?2
                 ORDER BY created_at DESC, id DESC LIMIT 1",
            )?;
            for prefix in keys {
                let hit: Option<(i64, String, String)> = stmt
                    .query_row(params![version, prefix], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })
                    .optional()?;
                if let Some(h) = hit {
                    return Ok(Some((h, false)));
                }
            }
            Ok(None)
        })?;
        let Some(((id, matched_key, digest), exact)) = found else {
            return Ok(None);
        };
        let digest = Digest::from_hex(&digest).ok_or_else(|| StoreError::InvalidRecord {
            path: self.db_path.clone(),
            what: format!("cache `{matched_key}` has the malformed digest `{digest}`"),
        })?;
        let stats = match self.extract_blob(&digest, dest_root) {
            Ok(stats) => stats,
            Err(StoreError::MissingBlob { .. }) if !self.cache_id_exists(id)? => {
                // Pruned by another process between the lookup and now.
                return Ok(None);
            }
            Err(e @ (StoreError::CorruptBlob { .. } | StoreError::MissingBlob { .. })) => {
                self.forget_blob(&digest)?;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        let now = self.now();
        self.write(|tx| {
            tx.execute(
                "UPDATE caches SET last_used_at = max(last_used_at, ?1) WHERE id = ?2",
                params![now.millis(), id],
            )?;
            Ok(())
        })?;
        Ok(Some(RestoredCache {
            matched_key,
            exact,
            digest,
            files: stats.entries(),
            size: stats.bytes,
        }))
    }

    /// Extracts a blob holding a tar archive into `dest`, verifying its
    /// digest (to the end of the stream, even past the archive's end).
    pub(crate) fn extract_blob(
        &self,
        digest: &Digest,
        dest: &Path,
    ) -> Result<ArchiveStats, StoreError> {
        let reader = self.blobs.open(digest)?;
        match archive::unpack(reader, dest) {
            Ok((mut reader, stats)) => match reader.finish() {
                Ok(()) => Ok(stats),
                Err(e) => Err(reader.error(e)),
            },
            Err(e) => {
                // Archives the store wrote are well-formed and safe: an
                // unreadable or unsafe entry means the blob was damaged or
                // replaced. Re-check it to say so.
                if matches!(
                    e,
                    StoreError::ArchiveRead { .. } | StoreError::UnsafeEntry { .. }
                ) {
                    self.blobs.verify(digest)?;
                }
                Err(e)
            }
        }
    }

    /// Removes every cache entry using a damaged blob, and the blob file.
    fn forget_blob(&self, digest: &Digest) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute("DELETE FROM caches WHERE digest = ?1", [digest.hex()])?;
            let referenced = tx
                .query_row(
                    "SELECT 1 FROM artifacts WHERE digest = ?1 LIMIT 1",
                    [digest.hex()],
                    |_| Ok(()),
                )
                .optional()?
                .is_some();
            if !referenced {
                tx.execute("DELETE FROM blobs WHERE digest = ?1", [digest.hex()])?;
            }
            self.blobs.remove(digest)?;
            Ok(())
        })
    }

    /// Every cache entry, most recently used first.
    pub fn caches(&self) -> Result<Vec<CacheEntry>, StoreError> {
        self.read(|tx| {
            let mut stmt = tx.prepare(&format!(
                "SELECT {CACHE_COLUMNS} FROM caches c JOIN blobs b ON b.digest = c.digest
                 ORDER BY c.last_used_at DESC, c.id DESC"
            ))?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(cache_entry(row)?);
            }
            Ok(out)
        })
    }

    /// The cache entries whose key starts with `key_prefix` (all for
    /// `None`), most recently used first, with their total and the limit.
    pub fn cache_list(&self, key_prefix: Option<&str>) -> Result<CacheList, StoreError> {
        let mut caches = self.caches()?;
        if let Some(prefix) = key_prefix {
            caches.retain(|e| e.key.starts_with(prefix));
        }
        Ok(CacheList::new(caches, self.options.cache_limit_bytes))
    }

    /// Removes cache entries by `policy`, expired artifacts, blobs nothing
    /// refers to, and temporary files left by crashes.
    pub fn prune_caches(&self, policy: &PrunePolicy) -> Result<PruneReport, StoreError> {
        let now = self.now();
        let plan = |tx: &Transaction<'_>| -> Result<PruneReport, TxError> {
            // Least recently used first.
            let mut stmt = tx.prepare(&format!(
                "SELECT {CACHE_COLUMNS} FROM caches c JOIN blobs b ON b.digest = c.digest
                 ORDER BY c.last_used_at ASC, c.id ASC"
            ))?;
            let mut rows = stmt.query([])?;
            let mut all = Vec::new();
            while let Some(row) = rows.next()? {
                all.push(cache_entry(row)?);
            }
            let mut total: u64 = all.iter().map(|e| e.stored_size).sum();
            let matches_prefix = |e: &CacheEntry| {
                policy
                    .key_prefix
                    .as_deref()
                    .is_none_or(|p| e.key.starts_with(p))
            };
            let cutoff = policy.older_than.map(|d| now.minus(d));
            let mut remove = vec![false; all.len()];
            for (i, e) in all.iter().enumerate() {
                if !matches_prefix(e) {
                    continue;
                }
                let by_age = cutoff.is_some_and(|c| e.last_used_at < c);
                let by_prefix_only = policy.key_prefix.is_some()
                    && policy.older_than.is_none()
                    && policy.max_total_bytes.is_none();
                if by_age || by_prefix_only {
                    remove[i] = true;
                    total -= e.stored_size;
                }
            }
            if let Some(max) = policy.max_total_bytes {
                for (i, e) in all.iter().enumerate() {
                    if total <= max {
                        break;
                    }
                    if !remove[i] && matches_prefix(e) {
                        remove[i] = true;
                        total -= e.stored_size;
                    }
                }
            }
            let expired_artifacts = crate::artifacts::expired(tx, now)?;
            let mut removed = Vec::new();
            let mut remaining_entries = 0u64;
            for (e, r) in all.into_iter().zip(remove) {
                if r {
                    removed.push(e);
                } else {
                    remaining_entries += 1;
                }
            }
            Ok(PruneReport {
                dry_run: policy.dry_run,
                removed,
                expired_artifacts,
                blobs_deleted: 0,
                bytes_freed: 0,
                remaining_bytes: total,
                remaining_entries,
            })
        };
        let unreferenced = |tx: &Transaction<'_>, report: &PruneReport| {
            // Reference counts as they would be after the removals.
            let mut refs: HashMap<String, (i64, i64)> = HashMap::new();
            let mut stmt = tx.prepare(
                "SELECT b.digest, b.stored_size,
                        (SELECT count(*) FROM caches c WHERE c.digest = b.digest)
                      + (SELECT count(*) FROM artifacts a WHERE a.digest = b.digest)
                 FROM blobs b",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                refs.insert(row.get(0)?, (row.get(1)?, row.get(2)?));
            }
            let gone = report
                .removed
                .iter()
                .map(|e| e.digest)
                .chain(report.expired_artifacts.iter().filter_map(|a| a.digest));
            for d in gone {
                if let Some(r) = refs.get_mut(&d.hex()) {
                    r.1 -= 1;
                }
            }
            let mut out: Vec<(String, u64)> = refs
                .into_iter()
                .filter(|(_, (_, count))| *count <= 0)
                .map(|(d, (size, _))| (d, u64::try_from(size).unwrap_or(0)))
                .collect();
            out.sort();
            Ok::<_, TxError>(out)
        };
        if policy.dry_run {
            return self.read(|tx| {
                let mut report = plan(tx)?;
                let blobs = unreferenced(tx, &report)?;
                report.blobs_deleted = blobs.len() as u64;
                report.bytes_freed = blobs.iter().map(|b| b.1).sum();
                Ok(report)
            });
        }
        let report = self.write(|tx| {
            let mut report = plan(tx)?;
            let blobs = unreferenced(tx, &report)?;
            for e in &report.removed {
                tx.execute(
                    "DELETE FROM caches WHERE version = ?1 AND key = ?2",
                    params![e.version, e.key],
                )?;
            }
            for a in &report.expired_artifacts {
                tx.execute(
                    "DELETE FROM artifacts WHERE run_id = ?1 AND name = ?2",
                    params![sql_int(a.run.0), a.name],
                )?;
            }
            for (digest, size) in &blobs {
                tx.execute("DELETE FROM blobs WHERE digest = ?1", [digest])?;
                if let Some(d) = Digest::from_hex(digest) {
                    // Deleted under the write lock: no other process can be
                    // committing a new reference to it meanwhile.
                    self.blobs.remove(&d)?;
                }
                report.blobs_deleted += 1;
                report.bytes_freed += size;
            }
            Ok(report)
        })?;
        self.remove_stale_temp_files();
        Ok(report)
    }

    fn remove_stale_temp_files(&self) {
        let Ok(entries) = std::fs::read_dir(self.blobs.temp_dir()) else {
            return;
        };
        for entry in entries.flatten() {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE_TEMP_AGE);
            if old {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// Moves a written blob into place and records it; call inside a write
/// transaction, so that pruning (which deletes blob files under the same
/// lock) cannot delete it between the move and the reference.
pub(crate) fn commit_blob(
    tx: &Transaction<'_>,
    pending: PendingBlob,
    now: Timestamp,
) -> Result<BlobInfo, TxError> {
    let info = pending.info();
    pending.commit()?;
    tx.execute(
        "INSERT INTO blobs (digest, size, stored_size, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (digest) DO NOTHING",
        params![
            info.digest.hex(),
            sql_int(info.size),
            sql_int(info.stored_size),
            now.millis()
        ],
    )?;
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_githubs_rules() {
        assert!(check_key("npm-linux-abc").is_ok());
        assert!(check_key("").is_err());
        assert!(check_key("a,b").is_err());
        assert!(check_key(&"k".repeat(512)).is_ok());
        assert!(check_key(&"k".repeat(513)).is_err());
    }
}
