//! The vulnerability database: one file, `osv.db`, in a folder (the
//! binary uses `$GANTRY_HOME/vuln/`), replaced atomically.
//!
//! Layout (integers little-endian):
//!
//! ```text
//! "GANTRYDB"  magic, 8 bytes
//! u32         format version (1)
//! u64 ×3      lengths of the records, index and meta sections
//! records     compact OSV JSON records, back to back
//! index       u32 key count; per key: u16+bytes ecosystem, u16+bytes
//!             normalised name, u32 count, count × (u32 offset, u32 length)
//!             into the records section; keys sorted
//! meta        JSON: sources, counts per ecosystem, newest `modified`
//! u64         FNV-1a of everything before it
//! ```
//!
//! Opening reads the index and meta only; a lookup decodes the records
//! of one package. A short or altered file is an error naming it.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use gantry_sbom::Ecosystem;
use serde::{Deserialize, Serialize};

use crate::osv::Record;

const MAGIC: &[u8; 8] = b"GANTRYDB";
const FORMAT: u32 = 1;
const HEADER: usize = 8 + 4 + 8 * 3;
/// The database file's name inside its folder.
pub const FILE_NAME: &str = "osv.db";

/// A failure to open, read or write the database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    #[error("no vulnerability database at {}", path.display())]
    Missing { path: PathBuf },
    #[error("failed to read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is damaged: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
}

/// Where an import came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The path as given, made absolute.
    pub path: String,
    /// `folder`, `zip`, `ndjson` or `file`.
    pub kind: String,
    pub records: usize,
    /// Seconds since the epoch.
    pub imported_at: i64,
}

/// What the meta section records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub sources: Vec<Source>,
    pub records: usize,
    pub withdrawn: usize,
    /// Records affecting each ecosystem (a record may count in several).
    pub per_ecosystem: BTreeMap<String, usize>,
    /// Newest `modified` date per ecosystem (`published` where a
    /// database leaves `modified` at the zero date).
    pub newest_per_ecosystem: BTreeMap<String, String>,
    /// Newest `modified` date of all records.
    pub newest_modified: Option<String>,
    pub imported_at: i64,
}

/// `gantry db status`: what the database holds.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub path: String,
    pub bytes: u64,
    #[serde(flatten)]
    pub meta: Meta,
}

/// A database file larger than this is refused (all of osv.dev's data
/// compacts to well under a gigabyte).
pub const MAX_DB_BYTES: u64 = 8 * 1024 * 1024 * 1024;

/// The version of the `db status --format json` and `db import --format
/// json` layouts.
pub const DB_SCHEMA_VERSION: u32 = 1;

/// `gantry db status --format json`: the status with its layout version.
#[derive(Debug, Clone, Serialize)]
pub struct StatusDocument<'a> {
    pub version: u32,
    #[serde(flatten)]
    pub status: &'a Status,
}

impl Status {
    pub fn document(&self) -> StatusDocument<'_> {
        StatusDocument {
            version: DB_SCHEMA_VERSION,
            status: self,
        }
    }
}

/// An opened database: the index in memory, records decoded on lookup.
#[derive(Debug, Clone, Default)]
pub struct Database {
    path: PathBuf,
    records: Vec<u8>,
    index: HashMap<(String, String), Vec<(u32, u32)>>,
    meta: Meta,
}

/// The index key of a package: the ecosystem's name as OSV writes it and
/// the package name normalised as that ecosystem compares names.
pub fn key(ecosystem: &str, name: &str) -> (String, String) {
    let normalized = match Ecosystem::from_osv(ecosystem) {
        Some(e) => e.normalize_name(name),
        None => name.to_string(),
    };
    (ecosystem.to_string(), normalized)
}

/// FNV-1a, 64 bits: a cheap check that the file is whole.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(s)
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn text(&mut self) -> Option<String> {
        let n = usize::from(self.u16()?);
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
}

impl Database {
    /// The database file in a folder.
    pub fn file_in(dir: &Path) -> PathBuf {
        dir.join(FILE_NAME)
    }

    /// Opens the database in `dir`.
    pub fn open(dir: &Path) -> Result<Database, DbError> {
        let path = Database::file_in(dir);
        let bytes = match gantry_fs::read_bounded(&path, MAX_DB_BYTES) {
            Ok(b) => b,
            Err(e) if e.is_not_found() => return Err(DbError::Missing { path }),
            Err(gantry_fs::ReadError::Io { source, .. }) => {
                return Err(DbError::Read { path, source });
            }
            Err(refused) => {
                return Err(DbError::Corrupt {
                    reason: refused.to_string(),
                    path,
                });
            }
        };
        Database::from_bytes(path, bytes)
    }

    fn from_bytes(path: PathBuf, bytes: Vec<u8>) -> Result<Database, DbError> {
        let corrupt = |reason: &str| DbError::Corrupt {
            path: path.clone(),
            reason: reason.to_string(),
        };
        if bytes.len() < HEADER + 8 || &bytes[..8] != MAGIC {
            return Err(corrupt("not a gantry vulnerability database (bad header)"));
        }
        let body_len = bytes.len() - 8;
        let stored = u64::from_le_bytes(
            bytes[body_len..]
                .try_into()
                .map_err(|_| corrupt("short file"))?,
        );
        let mut r = Reader {
            bytes: &bytes[..body_len],
            at: 8,
        };
        let format = r.u32().ok_or_else(|| corrupt("short header"))?;
        if format != FORMAT {
            return Err(corrupt(&format!(
                "format {format} is not {FORMAT}; import the data again"
            )));
        }
        let lens: Vec<usize> = (0..3)
            .map(|_| r.u64().and_then(|n| usize::try_from(n).ok()))
            .collect::<Option<_>>()
            .ok_or_else(|| corrupt("short header"))?;
        let expected = lens
            .iter()
            .try_fold(HEADER, |acc, n| acc.checked_add(*n))
            .ok_or_else(|| corrupt("impossible section lengths"))?;
        if expected != body_len {
            return Err(corrupt(&format!(
                "truncated or extended: {} bytes where the header says {}",
                bytes.len(),
                expected + 8
            )));
        }
        if fnv1a(&bytes[..body_len]) != stored {
            return Err(corrupt("checksum mismatch"));
        }
        let records = bytes[HEADER..HEADER + lens[0]].to_vec();
        let mut ir = Reader {
            bytes: &bytes[HEADER + lens[0]..HEADER + lens[0] + lens[1]],
            at: 0,
        };
        let count = ir.u32().ok_or_else(|| corrupt("short index"))?;
        let mut index = HashMap::with_capacity(count as usize);
        for _ in 0..count {
            let eco = ir.text().ok_or_else(|| corrupt("bad index entry"))?;
            let name = ir.text().ok_or_else(|| corrupt("bad index entry"))?;
            let n = ir.u32().ok_or_else(|| corrupt("bad index entry"))?;
            let mut spans = Vec::with_capacity(n.min(1 << 16) as usize);
            for _ in 0..n {
                let off = ir.u32().ok_or_else(|| corrupt("bad index entry"))?;
                let len = ir.u32().ok_or_else(|| corrupt("bad index entry"))?;
                if (off as usize)
                    .checked_add(len as usize)
                    .is_none_or(|end| end > records.len())
                {
                    return Err(corrupt("index points outside the records"));
                }
                spans.push((off, len));
            }
            index.insert((eco, name), spans);
        }
        let meta: Meta = serde_json::from_slice(&bytes[HEADER + lens[0] + lens[1]..body_len])
            .map_err(|e| corrupt(&format!("bad meta section: {e}")))?;
        Ok(Database {
            path,
            records,
            index,
            meta,
        })
    }

    /// A database held in memory (tests, single-use scans).
    pub fn from_records(records: Vec<Record>) -> Database {
        let (bytes, _) = encode(records, Vec::new(), 0);
        Database::from_bytes(PathBuf::from("<memory>"), bytes).unwrap_or_default()
    }

    /// The records affecting a package, by the index key.
    pub fn lookup(&self, ecosystem: &str, name: &str) -> Result<Vec<Record>, DbError> {
        let Some(spans) = self.index.get(&key(ecosystem, name)) else {
            return Ok(Vec::new());
        };
        spans
            .iter()
            .map(|(off, len)| self.decode(*off, *len))
            .collect()
    }

    fn decode(&self, off: u32, len: u32) -> Result<Record, DbError> {
        let start = off as usize;
        let bytes = self
            .records
            .get(start..start + len as usize)
            .ok_or_else(|| DbError::Corrupt {
                path: self.path.clone(),
                reason: "record outside the file".into(),
            })?;
        serde_json::from_slice(bytes).map_err(|e| DbError::Corrupt {
            path: self.path.clone(),
            reason: format!("bad record at byte {off}: {e}"),
        })
    }

    /// Every record, each once.
    pub fn all_records(&self) -> Result<Vec<Record>, DbError> {
        let mut spans: Vec<(u32, u32)> = self.index.values().flatten().copied().collect();
        spans.sort_unstable();
        spans.dedup();
        spans.iter().map(|(o, l)| self.decode(*o, *l)).collect()
    }

    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// What the database holds.
    pub fn status(&self) -> Status {
        Status {
            path: self.path.display().to_string(),
            bytes: (self.records.len()) as u64,
            meta: self.meta.clone(),
        }
    }

    /// Writes records and sources as the database in `dir`, replacing any
    /// previous one only once the new file is complete and synced.
    pub fn write(
        dir: &Path,
        records: Vec<Record>,
        sources: Vec<Source>,
        now: i64,
    ) -> Result<Meta, DbError> {
        std::fs::create_dir_all(dir).map_err(|source| DbError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
        let (bytes, meta) = encode(records, sources, now);
        let path = Database::file_in(dir);
        let tmp = dir.join(format!(".{FILE_NAME}.{}.tmp", std::process::id()));
        let werr = |source| DbError::Write {
            path: tmp.clone(),
            source,
        };
        let result = (|| {
            let mut f = std::fs::File::create(&tmp).map_err(werr)?;
            f.write_all(&bytes).map_err(werr)?;
            f.sync_all().map_err(werr)?;
            drop(f);
            std::fs::rename(&tmp, &path).map_err(|source| DbError::Write {
                path: path.clone(),
                source,
            })?;
            // Make the rename itself durable.
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(meta)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

/// Serialises records (sorted by id) with their index and meta.
/// An RFC 3339 time as seconds for ordering; what does not parse sorts
/// first.
fn secs(time: &str) -> Option<i64> {
    gantry_sbom::time::parse_rfc3339(time)
}

fn encode(mut records: Vec<Record>, sources: Vec<Source>, now: i64) -> (Vec<u8>, Meta) {
    records.sort_by(|a, b| a.id.cmp(&b.id));
    records.dedup_by(|a, b| a.id == b.id);
    let mut blob = Vec::new();
    let mut index: BTreeMap<(String, String), Vec<(u32, u32)>> = BTreeMap::new();
    let mut meta = Meta {
        sources,
        imported_at: now,
        ..Meta::default()
    };
    for r in &records {
        let Ok(json) = serde_json::to_vec(r) else {
            continue;
        };
        let (Ok(off), Ok(len)) = (u32::try_from(blob.len()), u32::try_from(json.len())) else {
            break;
        };
        blob.extend_from_slice(&json);
        meta.records += 1;
        if r.withdrawn.is_some() {
            meta.withdrawn += 1;
        }
        let fresh = r.freshness();
        let later = |than: &str| secs(than) < secs(fresh);
        if meta.newest_modified.as_deref().is_none_or(later) {
            meta.newest_modified = Some(fresh.to_string());
        }
        let mut ecosystems: Vec<&str> = Vec::new();
        let mut keys: Vec<(String, String)> = Vec::new();
        for a in &r.affected {
            if let Some(p) = &a.package {
                keys.push(key(&p.ecosystem, &p.name));
                ecosystems.push(&p.ecosystem);
            }
        }
        keys.sort();
        keys.dedup();
        for k in keys {
            index.entry(k).or_default().push((off, len));
        }
        ecosystems.sort_unstable();
        ecosystems.dedup();
        for e in ecosystems {
            *meta.per_ecosystem.entry(e.to_string()).or_default() += 1;
            let newest = meta.newest_per_ecosystem.entry(e.to_string()).or_default();
            if newest.is_empty() || later(newest) {
                *newest = fresh.to_string();
            }
        }
    }
    let mut idx = Vec::new();
    idx.extend_from_slice(&(index.len() as u32).to_le_bytes());
    for ((eco, name), spans) in &index {
        for text in [eco, name] {
            let b = text.as_bytes();
            let n = b.len().min(usize::from(u16::MAX));
            idx.extend_from_slice(&(n as u16).to_le_bytes());
            idx.extend_from_slice(&b[..n]);
        }
        idx.extend_from_slice(&(spans.len() as u32).to_le_bytes());
        for (o, l) in spans {
            idx.extend_from_slice(&o.to_le_bytes());
            idx.extend_from_slice(&l.to_le_bytes());
        }
    }
    let meta_json = serde_json::to_vec(&meta).unwrap_or_else(|_| b"{}".to_vec());
    let mut out = Vec::with_capacity(HEADER + blob.len() + idx.len() + meta_json.len() + 8);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    for n in [blob.len(), idx.len(), meta_json.len()] {
        out.extend_from_slice(&(n as u64).to_le_bytes());
    }
    out.extend_from_slice(&blob);
    out.extend_from_slice(&idx);
    out.extend_from_slice(&meta_json);
    let sum = fnv1a(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    (out, meta)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn record(id: &str, name: &str) -> Record {
        serde_json::from_value(serde_json::json!({
            "id": id, "modified": "2024-01-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "PyPI", "name": name}}]
        }))
        .unwrap()
    }

    #[test]
    fn writes_reads_and_rejects_damage() {
        let dir = tempfile::tempdir().unwrap();
        Database::write(
            dir.path(),
            vec![record("PYSEC-1", "Foo_Bar"), record("PYSEC-2", "x")],
            vec![],
            5,
        )
        .unwrap();
        let db = Database::open(dir.path()).unwrap();
        assert_eq!(db.lookup("PyPI", "foo.bar").unwrap()[0].id, "PYSEC-1");
        assert_eq!(db.meta().records, 2);
        assert_eq!(db.meta().per_ecosystem["PyPI"], 2);
        let path = Database::file_in(dir.path());
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 20]).unwrap();
        let err = Database::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("osv.db is damaged: truncated"), "{err}");
        let mut flipped = bytes.clone();
        flipped[HEADER + 3] ^= 1;
        std::fs::write(&path, &flipped).unwrap();
        let err = Database::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("checksum"), "{err}");
        std::fs::write(&path, b"nonsense").unwrap();
        assert!(Database::open(dir.path()).is_err());
        let missing = Database::open(&dir.path().join("nope")).unwrap_err();
        assert!(matches!(missing, DbError::Missing { .. }));
    }
}
