//! Why an action could not be added, fetched, listed or resolved.

use std::path::PathBuf;

use crate::uses::UsesError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ActionsError {
    #[error(transparent)]
    Uses(#[from] UsesError),
    #[error("failed to run git: {source}")]
    Git { source: std::io::Error },
    #[error("git {args} failed: {stderr}")]
    GitFailed { args: String, stderr: String },
    #[error("failed to fetch {repo} from {url}: {message}")]
    Fetch {
        repo: String,
        url: String,
        message: String,
    },
    #[error("{source_name} has no tag or branch `{reference}`")]
    UnknownRef {
        source_name: String,
        reference: String,
    },
    #[error("commit {reference} is not in {source_name}")]
    NoSuchCommit {
        source_name: String,
        reference: String,
    },
    #[error("{} does not exist", path.display())]
    NoSource { path: PathBuf },
    #[error("failed to read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to read {}: {source}", path.display())]
    ReadFile {
        path: PathBuf,
        source: gantry_fs::ReadError,
    },
    #[error("failed to write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is a symbolic link to {}, outside the action's folder", link.display(), target.display())]
    LinkOutside { link: PathBuf, target: PathBuf },
    #[error("{} is not a regular file, folder or link", path.display())]
    NotAFile { path: PathBuf },
    #[error("{} holds more than {limit} bytes; is it the action's folder?", path.display())]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{}: {message}", path.display())]
    Index { path: PathBuf, message: String },
    #[error("`{uses}` leaves the action's folder")]
    PathEscapes { uses: String },
}

impl ActionsError {
    /// How to fix it, when that is known.
    pub fn hint(&self) -> Option<String> {
        match self {
            ActionsError::Git { .. } => Some("install git (Debian: apt-get install git)".into()),
            ActionsError::Fetch { repo, .. } => Some(format!(
                "without the network, add it from a copy: gantry actions add {repo}@REF --from PATH (a git repository or a folder), or set GANTRY_ACTIONS_MIRROR to a folder or URL holding OWNER/REPO.git"
            )),
            ActionsError::UnknownRef { .. } => {
                Some("give a tag, a branch or a full 40-digit commit SHA of that repository".into())
            }
            ActionsError::Index { .. } => {
                Some("remove the file; `gantry actions add` writes it again".into())
            }
            _ => None,
        }
    }
}
