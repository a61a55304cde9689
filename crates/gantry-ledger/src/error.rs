//! The errors of this crate.

use std::path::PathBuf;

/// Why a ledger operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    #[error("failed to {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("entry {index} does not exist: the log has {size} entries")]
    NoSuchEntry { index: u64, size: u64 },
    #[error("tree size {size} is beyond the log's {current} entries")]
    SizeBeyondLog { size: u64, current: u64 },
    #[error("an entry may have at most {max} bytes; this one has {len}")]
    EntryTooLarge { len: usize, max: usize },
    #[error("the log is damaged: {0}")]
    Corrupt(String),
    #[error("invalid record: {0}")]
    Record(String),
    #[error("invalid key: {0}")]
    Key(String),
    #[error("invalid note: {0}")]
    Note(String),
    #[error("invalid checkpoint: {0}")]
    Checkpoint(String),
    #[error("invalid proof: {0}")]
    Proof(String),
    #[error("failed to get randomness from the operating system: {0}")]
    Random(String),
    #[error("{} is not a ledger (it has no `lock` file)", path.display())]
    NotALedger { path: PathBuf },
    #[error(
        "the log key {} is missing, but the ledger already exists; a fresh key would disown its checkpoints",
        path.display()
    )]
    MissingKey { path: PathBuf },
    #[error("the log key {} is damaged: {reason}", path.display())]
    DamagedKey { path: PathBuf, reason: String },
    #[error("the commit record {} is missing, but the ledger holds data", path.display())]
    MissingCommitted { path: PathBuf },
    #[error("the commit record {} is damaged: {source}", path.display())]
    DamagedCommitted {
        path: PathBuf,
        source: crate::committed::CommittedError,
    },
    #[error(
        "the log has {bytes} bytes after its {size} acknowledged entries, left by an append that never finished"
    )]
    UnacknowledgedTail { size: u64, bytes: u64 },
    #[error("acknowledged data is missing: {0}")]
    Truncated(String),
    #[error("refusing to repair: entry {entry} was acknowledged and {reason}")]
    RepairRefused { entry: u64, reason: String },
    #[error("failed to read the attestation: {0}")]
    Attestation(#[from] gantry_attest::AttestError),
    #[error("the envelope is not signed by the given key {key_id}")]
    NotSignedBy { key_id: String },
    #[error("refusing to repair: the acknowledged log is damaged ({reason})")]
    RepairDamaged { reason: String },
    /// A file refused before it was read: not a regular file (a FIFO, a
    /// device), a system file, or larger than it may be.
    #[error(transparent)]
    File(gantry_fs::ReadError),
}

impl From<gantry_fs::ReadError> for LedgerError {
    fn from(e: gantry_fs::ReadError) -> Self {
        match e {
            gantry_fs::ReadError::Io { path, source } => LedgerError::Io {
                action: "read",
                path,
                source,
            },
            other => LedgerError::File(other),
        }
    }
}

impl LedgerError {
    pub(crate) fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        LedgerError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}
