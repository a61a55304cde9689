//! The errors of this crate.

use std::path::PathBuf;

/// Why a DSSE envelope could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    #[error("not a DSSE JSON envelope: {0}")]
    NotJson(serde_json::Error),
    #[error("`payload` is not base64: {0}")]
    Payload(crate::b64::DecodeError),
    #[error("`signatures[{index}].sig` is not base64: {source}")]
    Signature {
        index: usize,
        source: crate::b64::DecodeError,
    },
}

/// What a predicate of a known type lacks, or why its file could not be
/// read as one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PredicateError {
    /// A required field is absent or of another JSON type.
    #[error("missing `{field}` {kind}")]
    Missing {
        field: &'static str,
        /// `string`, `object`, `array`.
        kind: &'static str,
    },
    /// A field holds a value the type does not allow.
    #[error("`{field}` must be {want}")]
    Invalid {
        field: &'static str,
        want: &'static str,
    },
    #[error(
        "neither `gantry audit --format json` output (`findings`, `summary`) nor a SARIF 2.1.0 log"
    )]
    NotAudit,
    #[error("not a URI nor a known alias ({})", aliases.join(", "))]
    UnknownType { aliases: Vec<&'static str> },
    #[error("{file} is not JSON: {source}")]
    NotJson {
        file: String,
        source: serde_json::Error,
    },
    #[error("{file} is not UTF-8")]
    NotUtf8 { file: String },
    #[error(transparent)]
    Junit(#[from] crate::junit::JunitError),
}

/// Why a key, an envelope or a statement could not be made or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttestError {
    #[error("failed to read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to read the key: {0}")]
    Key(String),
    #[error("the private key is encrypted; set GANTRY_KEY_PASSWORD to its passphrase")]
    PasswordNeeded,
    #[error("failed to decrypt the private key: wrong passphrase or damaged file")]
    Decrypt,
    #[error("failed to get randomness from the operating system: {0}")]
    Random(String),
    #[error("failed to sign: {0}")]
    Sign(String),
    #[error("invalid envelope: {0}")]
    Envelope(#[from] EnvelopeError),
    #[error("invalid statement: {0}")]
    Statement(String),
    #[error("invalid predicate for {predicate_type}: {source}")]
    Predicate {
        predicate_type: String,
        source: PredicateError,
    },
    #[error("failed to write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} already exists", path.display())]
    Exists { path: PathBuf },
    #[error("{} is larger than {max} bytes", path.display())]
    TooLarge { path: PathBuf, max: u64 },
    #[error("no files under {}", path.display())]
    NoSubjects { path: PathBuf },
    /// A file refused before it was read: not a regular file (a FIFO, a
    /// device) or a system file.
    #[error(transparent)]
    File(gantry_fs::ReadError),
}

impl From<gantry_fs::ReadError> for AttestError {
    fn from(e: gantry_fs::ReadError) -> Self {
        match e {
            gantry_fs::ReadError::Io { path, source } => AttestError::Read { path, source },
            gantry_fs::ReadError::TooLarge { path, limit } => {
                AttestError::TooLarge { path, max: limit }
            }
            other => AttestError::File(other),
        }
    }
}

impl AttestError {
    pub(crate) fn read(path: &std::path::Path, source: std::io::Error) -> Self {
        AttestError::Read {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn predicate(predicate_type: &str, source: PredicateError) -> Self {
        AttestError::Predicate {
            predicate_type: predicate_type.to_string(),
            source,
        }
    }
}
