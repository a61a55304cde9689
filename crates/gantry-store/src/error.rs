//! What can go wrong in the store, and where.

use std::path::PathBuf;

use crate::blobs::Digest;

/// An error of the store. Each variant names the file, blob, archive entry
/// or record at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("rollout `{name}` is already being run by process {pid}")]
    RolloutRunning { name: String, pid: u32 },

    #[error("rollout `{name}` is not running (it is {phase})")]
    RolloutNotRunning { name: String, phase: String },

    #[error("no rollout `{name}` has run here")]
    NoRollout { name: String },

    #[error("failed to use the run database {}: {source}", path.display())]
    Database {
        path: PathBuf,
        source: rusqlite::Error,
    },

    #[error(
        "the run database {} has schema version {found}, newer than this gantry supports ({supported})",
        path.display()
    )]
    DatabaseTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    #[error("failed to apply migration {version} ({name}) to {}: {source}", path.display())]
    Migration {
        path: PathBuf,
        version: i64,
        name: &'static str,
        source: rusqlite::Error,
    },

    #[error("the run database {} holds an invalid record: {what}", path.display())]
    InvalidRecord { path: PathBuf, what: String },

    #[error("failed to {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("blob {digest} ({}) is corrupt: {reason}", path.display())]
    CorruptBlob {
        digest: Digest,
        path: PathBuf,
        reason: String,
    },

    #[error("blob {digest} is missing: {} does not exist", path.display())]
    MissingBlob { digest: Digest, path: PathBuf },

    #[error("refusing archive entry `{entry}`: {reason}")]
    UnsafeEntry { entry: String, reason: String },

    #[error("failed to read the archive: {source}")]
    ArchiveRead { source: std::io::Error },

    #[error("invalid path pattern `{pattern}`: {reason}")]
    Pattern { pattern: String, reason: String },

    #[error("path `{pattern}` is outside {}", root.display())]
    OutsideRoot { pattern: String, root: PathBuf },

    #[error("no files matched the paths {}", patterns.join(", "))]
    NoFilesMatched { patterns: Vec<String> },

    #[error("invalid cache key `{key}`: {reason}")]
    InvalidKey { key: String, reason: String },

    #[error("cache `{key}` is {size} bytes compressed, over the limit of {limit} bytes")]
    CacheTooLarge { key: String, size: u64, limit: u64 },

    #[error("invalid artifact name `{name}`: {reason}")]
    InvalidArtifactName { name: String, reason: String },

    #[error("an artifact named `{name}` already exists in run {run}")]
    ArtifactExists { run: u64, name: String },

    #[error("artifact `{name}` not found in run {run}")]
    ArtifactNotFound { run: u64, name: String },

    #[error("the gantry home {} is not a folder", path.display())]
    HomeNotAFolder { path: PathBuf },

    #[error("the run database {} is unusable: {reason}", path.display())]
    UnusableDatabase { path: PathBuf, reason: String },

    #[error(
        "refusing the path `{path}` read from the run database: {reason} (stored paths must stay under {})",
        home.display()
    )]
    UnsafeStoredPath {
        path: String,
        home: PathBuf,
        reason: String,
    },

    #[error(
        "refusing to open {}: it resolves to {}, outside the gantry home {}",
        path.display(),
        resolved.display(),
        home.display()
    )]
    OutsideHome {
        path: PathBuf,
        resolved: PathBuf,
        home: PathBuf,
    },

    #[error("refusing to open {}: it is not a regular file", path.display())]
    NotARegularFile { path: PathBuf },

    #[error("refusing to write artifact `{name}` into {}: it is a link", path.display())]
    LinkInDestination { name: String, path: PathBuf },

    #[error("run {run} has no job `{wanted}`")]
    NoSuchJob {
        run: u64,
        wanted: String,
        known: Vec<String>,
    },

    #[error("run {run} has no step `{wanted}`")]
    NoSuchStep {
        run: u64,
        wanted: String,
        known: Vec<String>,
    },

    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: u64 },

    #[error("an incident's title must be 1 to {max} characters, not {found}")]
    IncidentTitle { max: usize, found: usize },

    #[error("incident {id} was already resolved at {at}")]
    IncidentResolved { id: u64, at: crate::Timestamp },
}

impl StoreError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        StoreError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// A hint on how to recover, where one is known.
    pub fn hint(&self) -> Option<String> {
        match self {
            StoreError::DatabaseTooNew { .. } => Some(
                "a newer gantry wrote this database; upgrade gantry, or point GANTRY_HOME elsewhere"
                    .into(),
            ),
            StoreError::Database { source, .. } if is_corruption(source) => Some(
                "the file is not a usable SQLite database; move it aside to start a new history"
                    .into(),
            ),
            StoreError::UnusableDatabase { .. } => Some(
                "move it aside (or point GANTRY_HOME elsewhere) to start a new history".into(),
            ),
            StoreError::HomeNotAFolder { .. } => Some(
                "GANTRY_HOME must name a folder (it is created when missing)".into(),
            ),
            StoreError::NoSuchJob { known, .. } => Some(format!("its jobs: {}", known.join(", "))),
            StoreError::NoSuchStep { known, .. } => {
                Some(format!("its steps: {}", known.join(", ")))
            }
            StoreError::NotFound { what: "run", .. } => {
                Some("`gantry runs` lists the recorded runs".into())
            }
            StoreError::NotFound {
                what: "deployment", ..
            } => Some("`gantry deployments` lists the recorded deployments".into()),
            StoreError::NotFound {
                what: "incident", ..
            } => Some("`gantry incident list` lists the recorded incidents".into()),
            StoreError::CorruptBlob { .. } | StoreError::MissingBlob { .. } => Some(
                "the damaged entry was removed from the index; the next save stores it again"
                    .into(),
            ),
            StoreError::ArtifactExists { .. } => {
                Some("artifact names are unique within a run; choose another name".into())
            }
            StoreError::InvalidKey { .. } => Some(
                "keys are at most 512 characters and contain no commas; at most 10 keys per restore"
                    .into(),
            ),
            _ => None,
        }
    }
}

fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    )
}
