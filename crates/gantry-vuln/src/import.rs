//! Importing OSV records: folders of `.json`/`.yaml` files (one record a
//! file), osv.dev's `all.zip` exports, newline-delimited JSON, or single
//! files. Records merge by id into the database (the newer `modified`
//! wins, so importing the same data again changes nothing); the database
//! is replaced only when the whole import succeeded.
//!
//! Untrusted archives are read, never extracted: entry names that would
//! escape a folder are refused, and entry and total sizes are capped while
//! decompressing, whatever the archive claims.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::db::{Database, DbError, Meta, Source};
use crate::osv::Record;

/// Caps on what an import reads.
#[derive(Debug, Clone)]
pub struct Limits {
    /// One file or archive entry, decompressed.
    pub max_entry_bytes: u64,
    /// Everything an archive decompresses to.
    pub max_total_bytes: u64,
    /// Entries of an archive, files of a folder.
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entry_bytes: 64 * 1024 * 1024,
            max_total_bytes: 8 * 1024 * 1024 * 1024,
            max_entries: 2_000_000,
        }
    }
}

/// A record that could not be read: the import goes on without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportWarning {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for ImportWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.file, l, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// A failure that stops an import; the database is left as it was.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    #[error("{} does not exist", path.display())]
    Missing { path: PathBuf },
    #[error("failed to read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to read the archive {}: {message}", path.display())]
    Archive { path: PathBuf, message: String },
    #[error("{}: {message}", path.display())]
    Limit { path: PathBuf, message: String },
    #[error("{} holds no OSV records", path.display())]
    Empty { path: PathBuf },
    #[error(transparent)]
    File(#[from] gantry_fs::ReadError),
    #[error(transparent)]
    Database(#[from] DbError),
}

/// The records read from one source.
#[derive(Debug, Clone)]
pub struct SourceRecords {
    pub kind: &'static str,
    pub records: Vec<Record>,
    pub warnings: Vec<ImportWarning>,
    /// `.json`/`.yaml` files that are not OSV records at all (a README's
    /// data, CI configuration): skipped without a warning.
    pub skipped: usize,
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub sources: Vec<Source>,
    /// Records new to the database.
    pub added: usize,
    /// Records replaced by a newer `modified`.
    pub updated: usize,
    /// Records already there as they are (or newer).
    pub unchanged: usize,
    /// Files skipped because they are not OSV records.
    pub skipped: usize,
    pub warnings: Vec<ImportWarning>,
    pub meta: Meta,
}

/// `gantry db import --format json`: the summary with its layout version.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryDocument<'a> {
    pub version: u32,
    #[serde(flatten)]
    pub summary: &'a Summary,
}

impl Summary {
    pub fn document(&self) -> SummaryDocument<'_> {
        SummaryDocument {
            version: crate::db::DB_SCHEMA_VERSION,
            summary: self,
        }
    }
}

/// Options of [`import`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Start from an empty database instead of merging.
    pub replace: bool,
    pub limits: Limits,
    /// The import time, seconds since the epoch.
    pub now: i64,
}

fn is_yaml(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml")
}

/// Parses one record from a file's bytes (JSON or YAML by its name).
fn parse_record(name: &str, bytes: &[u8]) -> Result<Record, ImportWarning> {
    let warn = |line: Option<usize>, message: String| ImportWarning {
        file: name.to_string(),
        line,
        message,
    };
    let record: Record = if is_yaml(name) {
        let text = std::str::from_utf8(bytes).map_err(|_| warn(None, "not UTF-8 text".into()))?;
        serde_saphyr::from_str(text).map_err(|e| {
            let line = e.location().map(|l| l.line() as usize);
            let msg = e.to_string();
            warn(
                line,
                format!(
                    "not an OSV record: {}",
                    msg.lines().next().unwrap_or("invalid YAML")
                ),
            )
        })?
    } else {
        serde_json::from_slice(bytes)
            .map_err(|e| warn(Some(e.line()), format!("not an OSV record: {e}")))?
    };
    if record.id.trim().is_empty() {
        return Err(warn(Some(1), "record without an id".into()));
    }
    check_dates(&record).map_err(|e| warn(None, e.to_string()))?;
    Ok(record.compact())
}

/// A record date that cannot be trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DateError {
    #[error("record {id} has no `modified` date: rejected")]
    MissingModified { id: String },
    #[error("record {id}: `{field}` {value:?} is not an RFC 3339 date: rejected")]
    NotRfc3339 {
        id: String,
        field: &'static str,
        value: String,
    },
}

/// Whether a record's dates are RFC 3339 times: `modified` must be (it
/// decides which copy of a record wins a merge and how old the data is),
/// and so must `published` and `withdrawn` where given. A date that does
/// not parse rejects the record rather than being trusted as text.
pub fn check_dates(record: &Record) -> Result<(), DateError> {
    let id = &record.id;
    if record.modified.trim().is_empty() {
        return Err(DateError::MissingModified { id: id.clone() });
    }
    let fields = [
        ("modified", Some(&record.modified)),
        ("published", record.published.as_ref()),
        ("withdrawn", record.withdrawn.as_ref()),
    ];
    for (field, value) in fields {
        if let Some(value) = value
            && gantry_sbom::time::parse_rfc3339(value).is_none()
        {
            return Err(DateError::NotRfc3339 {
                id: id.clone(),
                field,
                value: value.clone(),
            });
        }
    }
    Ok(())
}

/// A record's `modified` time in seconds; `None` (older than any) when it
/// does not parse, as in a database written before dates were checked.
fn modified_secs(record: &Record) -> Option<i64> {
    gantry_sbom::time::parse_rfc3339(&record.modified)
}

/// One record of a list or NDJSON line, checked like a file's record.
fn checked(record: Record) -> Result<Record, String> {
    if record.id.is_empty() {
        return Err("record without an id".into());
    }
    check_dates(&record).map_err(|e| e.to_string())?;
    Ok(record.compact())
}

/// Reads every record of a source. Only folders and regular files are
/// read (never a FIFO, device or `/proc` file), each file at most
/// [`Limits::max_entry_bytes`].
pub fn read_source(path: &Path, limits: &Limits) -> Result<SourceRecords, ImportError> {
    let meta = std::fs::metadata(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            ImportError::Missing {
                path: path.to_path_buf(),
            }
        } else {
            ImportError::Read {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    if meta.is_dir() {
        return read_folder(path, limits);
    }
    let name = path.to_string_lossy().to_string();
    let mut head = [0u8; 4];
    let is_zip =
        gantry_fs::open_regular(path)?.read_exact(&mut head).is_ok() && &head == b"PK\x03\x04";
    if is_zip || name.ends_with(".zip") {
        return read_zip(path, limits);
    }
    let bytes = read_limited(path, limits.max_entry_bytes)?;
    if is_yaml(&name) {
        return Ok(match parse_record(&name, &bytes) {
            Ok(r) => SourceRecords {
                kind: "file",
                records: vec![r],
                warnings: Vec::new(),
                skipped: 0,
            },
            Err(w) => SourceRecords {
                kind: "file",
                records: Vec::new(),
                warnings: vec![w],
                skipped: 0,
            },
        });
    }
    // JSON: one record, an array of records, or one record a line.
    let trimmed = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| bytes[i]);
    if trimmed == Some(b'[') {
        let values: Vec<serde_json::Value> =
            serde_json::from_slice(&bytes).map_err(|e| ImportError::Limit {
                path: path.to_path_buf(),
                message: format!("not a JSON array of records: {e}"),
            })?;
        let mut out = SourceRecords {
            kind: "file",
            records: Vec::new(),
            warnings: Vec::new(),
            skipped: 0,
        };
        for (i, v) in values.into_iter().enumerate() {
            match serde_json::from_value::<Record>(v).map(checked) {
                Ok(Ok(r)) => out.records.push(r),
                Ok(Err(message)) => out.warnings.push(ImportWarning {
                    file: name.clone(),
                    line: None,
                    message: format!("element {i}: {message}"),
                }),
                Err(e) => out.warnings.push(ImportWarning {
                    file: name.clone(),
                    line: None,
                    message: format!("element {i}: not an OSV record: {e}"),
                }),
            }
        }
        return Ok(out);
    }
    let ndjson = name.ends_with(".ndjson") || name.ends_with(".jsonl");
    if !ndjson && let Ok(r) = parse_record(&name, &bytes) {
        return Ok(SourceRecords {
            kind: "file",
            records: vec![r],
            warnings: Vec::new(),
            skipped: 0,
        });
    }
    read_ndjson(&name, &bytes)
}

/// A regular file's bytes, at most `limit`; over it is a limit error.
fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, ImportError> {
    gantry_fs::read_bounded(path, limit).map_err(|e| match e {
        gantry_fs::ReadError::TooLarge { limit, .. } => ImportError::Limit {
            path: path.to_path_buf(),
            message: format!("the file is larger than the {limit}-byte limit"),
        },
        other => other.into(),
    })
}

fn read_ndjson(name: &str, bytes: &[u8]) -> Result<SourceRecords, ImportError> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = SourceRecords {
        kind: "ndjson",
        records: Vec::new(),
        warnings: Vec::new(),
        skipped: 0,
    };
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(line).map(checked) {
            Ok(Ok(r)) => out.records.push(r),
            Ok(Err(message)) => out.warnings.push(ImportWarning {
                file: name.to_string(),
                line: Some(i + 1),
                message,
            }),
            Err(e) => out.warnings.push(ImportWarning {
                file: name.to_string(),
                line: Some(i + 1),
                message: format!("not an OSV record: {e}"),
            }),
        }
    }
    Ok(out)
}

fn read_folder(root: &Path, limits: &Limits) -> Result<SourceRecords, ImportError> {
    let mut files = Vec::new();
    let mut stack = vec![(root.to_path_buf(), 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| ImportError::Read {
            path: dir.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| ImportError::Read {
                path: dir.clone(),
                source,
            })?;
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() && depth < 32 {
                stack.push((path, depth + 1));
            } else if kind.is_file() {
                let name = path.to_string_lossy();
                if name.ends_with(".json") || is_yaml(&name) {
                    files.push(path);
                }
            }
            if files.len() > limits.max_entries {
                return Err(ImportError::Limit {
                    path: root.to_path_buf(),
                    message: format!("more than {} files", limits.max_entries),
                });
            }
        }
    }
    files.sort();
    let read_one = |path: &PathBuf| -> Result<Record, ImportWarning> {
        let name = path.to_string_lossy().to_string();
        let warn = |message: String| ImportWarning {
            file: name.clone(),
            line: None,
            message,
        };
        let bytes = gantry_fs::read_bounded(path, limits.max_entry_bytes)
            .map_err(|e| warn(format!("not read: {e}")))?;
        parse_record(&name, &bytes)
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let chunk = files.len().div_ceil(threads).max(1);
    let results: Vec<Result<Record, ImportWarning>> = std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(read_one).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join().unwrap_or_else(|_| {
                    vec![Err(ImportWarning {
                        file: root.display().to_string(),
                        line: None,
                        message: "a reader thread stopped unexpectedly".into(),
                    })]
                })
            })
            .collect()
    });
    let mut out = SourceRecords {
        kind: "folder",
        records: Vec::new(),
        warnings: Vec::new(),
        skipped: 0,
    };
    for (r, path) in results.into_iter().zip(&files) {
        match r {
            Ok(r) => out.records.push(r),
            Err(_) if !looks_like_record(path) => out.skipped += 1,
            Err(w) => out.warnings.push(w),
        }
    }
    Ok(out)
}

/// Whether a file that did not read as a record was meant to be one: a
/// mapping with an `id` and one of `modified`, `affected` or
/// `schema_version`. Other JSON and YAML files of a folder (workflow
/// files, package manifests) are not advisories and are skipped quietly.
fn looks_like_record(path: &Path) -> bool {
    let Ok(bytes) = gantry_fs::read_bounded(path, 64 * 1024 * 1024) else {
        return true;
    };
    looks_like_record_bytes(&path.to_string_lossy(), &bytes)
}

fn looks_like_record_bytes(name: &str, bytes: &[u8]) -> bool {
    let value: Option<serde_json::Value> = if is_yaml(name) {
        std::str::from_utf8(bytes)
            .ok()
            .and_then(|t| serde_saphyr::from_str(t).ok())
    } else {
        serde_json::from_slice(bytes).ok()
    };
    match value {
        Some(serde_json::Value::Object(map)) => {
            map.contains_key("id")
                && ["modified", "affected", "schema_version"]
                    .iter()
                    .any(|k| map.contains_key(*k))
        }
        // Text that does not parse: a broken record if it reads like one.
        None => {
            let text = String::from_utf8_lossy(bytes);
            text.contains("\"id\"") || (is_yaml(name) && text.contains("id:"))
        }
        Some(_) => false,
    }
}

fn read_zip(path: &Path, limits: &Limits) -> Result<SourceRecords, ImportError> {
    let archive_err = |message: String| ImportError::Archive {
        path: path.to_path_buf(),
        message,
    };
    let file = gantry_fs::open_regular(path)?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| archive_err(e.to_string()))?;
    if zip.len() > limits.max_entries {
        return Err(ImportError::Limit {
            path: path.to_path_buf(),
            message: format!(
                "{} entries is over the limit of {}",
                zip.len(),
                limits.max_entries
            ),
        });
    }
    let shown = path.display().to_string();
    let mut out = SourceRecords {
        kind: "zip",
        records: Vec::new(),
        warnings: Vec::new(),
        skipped: 0,
    };
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| archive_err(format!("entry {i}: {e}")))?;
        let raw_name = entry.name().to_string();
        let entry_name = format!("{shown}!{raw_name}");
        if entry.is_dir() {
            continue;
        }
        let unsafe_name = raw_name.starts_with(['/', '\\'])
            || raw_name.split(['/', '\\']).any(|part| part == "..")
            || raw_name.as_bytes().get(1) == Some(&b':');
        if unsafe_name || entry.enclosed_name().is_none() {
            out.warnings.push(ImportWarning {
                file: entry_name,
                line: None,
                message: "unsafe entry name (absolute or with `..`): skipped".into(),
            });
            continue;
        }
        if !(raw_name.ends_with(".json") || is_yaml(&raw_name)) {
            continue;
        }
        if entry.size() > limits.max_entry_bytes {
            out.warnings.push(ImportWarning {
                file: entry_name,
                line: None,
                message: format!(
                    "declares {} bytes, over the {}-byte limit: skipped",
                    entry.size(),
                    limits.max_entry_bytes
                ),
            });
            continue;
        }
        let mut bytes = Vec::new();
        let read = (&mut entry)
            .take(limits.max_entry_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| archive_err(format!("{raw_name}: {e}")))?;
        if read as u64 > limits.max_entry_bytes {
            out.warnings.push(ImportWarning {
                file: entry_name,
                line: None,
                message: format!(
                    "expands beyond the {}-byte limit: skipped",
                    limits.max_entry_bytes
                ),
            });
            continue;
        }
        total += read as u64;
        if total > limits.max_total_bytes {
            return Err(ImportError::Limit {
                path: path.to_path_buf(),
                message: format!(
                    "expands beyond the {}-byte total limit",
                    limits.max_total_bytes
                ),
            });
        }
        match parse_record(&entry_name, &bytes) {
            Ok(r) => out.records.push(r),
            Err(_) if !looks_like_record_bytes(&entry_name, &bytes) => out.skipped += 1,
            Err(w) => out.warnings.push(w),
        }
    }
    Ok(out)
}

/// Imports sources into the database in `dir`: reads them all, merges
/// by id with what is there (unless `replace`), and writes the result
/// atomically. Any error leaves the previous database untouched.
pub fn import(dir: &Path, paths: &[PathBuf], options: &Options) -> Result<Summary, ImportError> {
    let existing = if options.replace {
        None
    } else {
        match Database::open(dir) {
            Ok(db) => Some(db),
            Err(DbError::Missing { .. }) => None,
            Err(e) => return Err(e.into()),
        }
    };
    let mut merged: BTreeMap<String, Record> = BTreeMap::new();
    let mut sources: BTreeMap<String, Source> = BTreeMap::new();
    if let Some(db) = &existing {
        for r in db.all_records()? {
            merged.insert(r.id.clone(), r);
        }
        for s in &db.meta().sources {
            sources.insert(s.path.clone(), s.clone());
        }
    }
    let mut summary = Summary {
        sources: Vec::new(),
        added: 0,
        updated: 0,
        unchanged: 0,
        skipped: 0,
        warnings: Vec::new(),
        meta: Meta::default(),
    };
    for path in paths {
        let read = read_source(path, &options.limits)?;
        if read.records.is_empty() && read.warnings.is_empty() {
            return Err(ImportError::Empty { path: path.clone() });
        }
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.clone());
        let source = Source {
            path: absolute.display().to_string(),
            kind: read.kind.to_string(),
            records: read.records.len(),
            imported_at: options.now,
        };
        for r in read.records {
            match merged.get(&r.id) {
                None => {
                    summary.added += 1;
                    merged.insert(r.id.clone(), r);
                }
                Some(old) if modified_secs(old) < modified_secs(&r) => {
                    summary.updated += 1;
                    merged.insert(r.id.clone(), r);
                }
                Some(old) if modified_secs(old) == modified_secs(&r) && *old != r => {
                    summary.updated += 1;
                    merged.insert(r.id.clone(), r);
                }
                Some(_) => summary.unchanged += 1,
            }
        }
        summary.skipped += read.skipped;
        summary.warnings.extend(read.warnings);
        summary.sources.push(source.clone());
        sources.insert(source.path.clone(), source);
    }
    let meta = Database::write(
        dir,
        merged.into_values().collect(),
        sources.into_values().collect(),
        options.now,
    )?;
    summary.meta = meta;
    Ok(summary)
}
