//! The store: `$GANTRY_HOME/actions/<owner>/<repo>/<key>/` holds one
//! exported tree, `<key>` being the commit it came from (or
//! `sha256-<digest>` of a plain folder's content), and
//! `<owner>/<repo>/refs.json` records which key each ref was added as,
//! from where and when. Owner and repository folders are lower case
//! (GitHub's names are case-insensitive); refs are compared as written.
//!
//! A tree is written into `.tmp/` first and renamed into place, so a
//! reader never sees half of one; `refs.json` is replaced the same way.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::ActionsError;
use crate::folder;
use crate::git::{self, Repo};
use crate::uses::{RemoteUses, is_full_sha};

/// The environment variable naming a mirror of GitHub: a folder or a URL
/// under which `OWNER/REPO.git` (or `OWNER/REPO`) is each action's
/// repository. Used when no `--from` is given.
pub const MIRROR_ENV: &str = "GANTRY_ACTIONS_MIRROR";

/// Where actions come from when nothing else is said.
pub const GITHUB: &str = "https://github.com";

/// The version of `refs.json`.
const INDEX_VERSION: u32 = 1;

/// Where `gantry actions add` takes an action from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A folder on this machine: a git repository (work tree or bare), or
    /// a plain copy of the action.
    Path(PathBuf),
    /// A git URL (`https://`, `file://`, `ssh://`, `git@host:path`).
    Url(String),
}

impl Source {
    /// `--from`'s text: a URL when it looks like one, else a path.
    pub fn from_arg(text: &str) -> Source {
        if text.contains("://") || (text.starts_with("git@") && text.contains(':')) {
            Source::Url(text.to_string())
        } else {
            Source::Path(PathBuf::from(text))
        }
    }

    /// Where `owner/repo` is when no `--from` is given: under the mirror
    /// (`GANTRY_ACTIONS_MIRROR`) when one is set, else on GitHub.
    pub fn default_for(uses: &RemoteUses, mirror: Option<&str>) -> Source {
        let (owner, repo) = (&uses.owner, &uses.repo);
        match mirror.filter(|m| !m.is_empty()) {
            Some(base) if !base.contains("://") => {
                let base = Path::new(base);
                let git = base.join(owner).join(format!("{repo}.git"));
                let plain = base.join(owner).join(repo);
                Source::Path(if !git.exists() && plain.exists() {
                    plain
                } else {
                    git
                })
            }
            Some(base) => Source::Url(format!("{}/{owner}/{repo}.git", base.trim_end_matches('/'))),
            None => Source::Url(format!("{GITHUB}/{owner}/{repo}")),
        }
    }

    fn describe(&self) -> String {
        match self {
            Source::Path(p) => p.display().to_string(),
            Source::Url(u) => u.clone(),
        }
    }
}

/// What one ref of a repository was added as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefRecord {
    /// The folder of the tree: the commit, or `sha256-<digest>`.
    pub key: String,
    /// The commit the ref resolved to (none for a plain folder).
    pub commit: Option<String>,
    /// Where it was added from.
    pub source: String,
    /// When, in seconds since 1970.
    pub added: u64,
    /// The ref is a full commit SHA that a plain folder's copy was stored
    /// under: nothing checked the files are that commit.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unchecked_commit: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct Index {
    version: u32,
    refs: BTreeMap<String, RefRecord>,
}

/// An action added to the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Added {
    /// `owner/repo@ref`.
    pub action: String,
    pub key: String,
    pub commit: Option<String>,
    pub source: String,
    /// The tree's folder.
    pub path: PathBuf,
    /// Whether the tree was new (false: the same key was already there).
    pub new_tree: bool,
    /// The ref is a full commit SHA, but the copy came from a folder that
    /// is not a git repository: nothing says it is that commit.
    pub unchecked_commit: bool,
}

/// One ref in the store, as `gantry actions list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub owner: String,
    pub repo: String,
    #[serde(rename = "ref")]
    pub reference: String,
    #[serde(flatten)]
    pub record: RefRecord,
}

/// Where a `uses:` resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The action's folder (the tree, or its `PATH` inside it).
    pub dir: PathBuf,
    pub key: String,
    pub commit: Option<String>,
}

/// The store of actions at a folder (`$GANTRY_HOME/actions`). Building
/// one does no I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionStore {
    root: PathBuf,
}

impl ActionStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn repo_dir(&self, owner: &str, repo: &str) -> PathBuf {
        self.root
            .join(owner.to_ascii_lowercase())
            .join(repo.to_ascii_lowercase())
    }

    fn index_path(&self, owner: &str, repo: &str) -> PathBuf {
        self.repo_dir(owner, repo).join("refs.json")
    }

    fn read_index(path: &Path) -> Result<Option<Index>, ActionsError> {
        let text = match gantry_fs::read_text_bounded(path, 16 << 20) {
            Ok(text) => text,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(source) => {
                return Err(ActionsError::ReadFile {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let index: Index = serde_json::from_str(&text).map_err(|e| ActionsError::Index {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if index.version != INDEX_VERSION {
            return Err(ActionsError::Index {
                path: path.to_path_buf(),
                message: format!(
                    "version {} is not the version this gantry reads ({INDEX_VERSION})",
                    index.version
                ),
            });
        }
        Ok(Some(index))
    }

    fn write_index(&self, path: &Path, index: &Index) -> Result<(), ActionsError> {
        let write = |source| ActionsError::Write {
            path: path.to_path_buf(),
            source,
        };
        let dir = path.parent().unwrap_or(&self.root);
        let text = serde_json::to_string_pretty(index).map_err(|e| write(e.into()))?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(write)?;
        std::io::Write::write_all(&mut tmp, text.as_bytes()).map_err(write)?;
        tmp.persist(path).map_err(|e| write(e.error))?;
        Ok(())
    }

    /// Adds `owner/repo@ref` (a path in `uses` is ignored: the whole
    /// repository is stored) from `source`.
    pub fn add(&self, uses: &RemoteUses, source: &Source) -> Result<Added, ActionsError> {
        let uses = uses.without_path();
        let repo_dir = self.repo_dir(&uses.owner, &uses.repo);
        let tmp_root = self.root.join(".tmp");
        for dir in [&repo_dir, &tmp_root] {
            fs::create_dir_all(dir).map_err(|source| ActionsError::Write {
                path: dir.clone(),
                source,
            })?;
        }
        let tmp = tempfile::tempdir_in(&tmp_root).map_err(|source| ActionsError::Write {
            path: tmp_root.clone(),
            source,
        })?;
        let tree = tmp.path().join("tree");
        let described = source.describe();
        let (key, commit) = match source {
            Source::Path(path) if !path.exists() => {
                return Err(ActionsError::NoSource { path: path.clone() });
            }
            Source::Path(path) if git::is_repository(path) => {
                let repo = Repo { dir: path.clone() };
                let commit = resolve(&repo, &uses, &described)?;
                export(&repo, &commit, &tree)?;
                (commit.clone(), Some(commit))
            }
            Source::Path(path) => {
                fs::create_dir(&tree).map_err(|source| ActionsError::Write {
                    path: tree.clone(),
                    source,
                })?;
                let digest = folder::copy_and_hash(path, &tree)?;
                (format!("sha256-{digest}"), None)
            }
            Source::Url(url) => {
                let repo = Repo::clone_bare(url, &tmp.path().join("clone.git")).map_err(|e| {
                    ActionsError::Fetch {
                        repo: format!("{}/{}", uses.owner, uses.repo),
                        url: url.clone(),
                        message: match e {
                            ActionsError::GitFailed { stderr, .. } => stderr,
                            other => other.to_string(),
                        },
                    }
                })?;
                let commit = resolve(&repo, &uses, &described)?;
                export(&repo, &commit, &tree)?;
                (commit.clone(), Some(commit))
            }
        };
        let dest = repo_dir.join(&key);
        let new_tree = if dest.is_dir() {
            false
        } else {
            match fs::rename(&tree, &dest) {
                Ok(()) => true,
                // Another add of the same tree got there first.
                Err(_) if dest.is_dir() => false,
                Err(source) => return Err(ActionsError::Write { path: dest, source }),
            }
        };
        let index_path = self.index_path(&uses.owner, &uses.repo);
        let mut index = Self::read_index(&index_path)?.unwrap_or(Index {
            version: INDEX_VERSION,
            refs: BTreeMap::new(),
        });
        let added = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let unchecked_commit = commit.is_none() && uses.is_full_sha();
        index.refs.insert(
            uses.reference.clone(),
            RefRecord {
                key: key.clone(),
                commit: commit.clone(),
                source: described.clone(),
                added,
                unchecked_commit,
            },
        );
        self.write_index(&index_path, &index)?;
        Ok(Added {
            action: uses.repo_ref(),
            unchecked_commit,
            key,
            commit,
            source: described,
            path: dest,
            new_tree,
        })
    }

    /// Where `uses` is in the store, or `None` when it was not added.
    pub fn resolve(&self, uses: &RemoteUses) -> Result<Option<Resolved>, ActionsError> {
        let repo_dir = self.repo_dir(&uses.owner, &uses.repo);
        let index = Self::read_index(&self.index_path(&uses.owner, &uses.repo))?;
        let record = index.and_then(|i| i.refs.get(&uses.reference).cloned());
        let (key, commit) = match record {
            Some(r) => (r.key, r.commit),
            // A commit added under another ref is the same tree.
            None if uses.is_full_sha() => {
                let key = uses.reference.to_ascii_lowercase();
                (key.clone(), Some(key))
            }
            None => return Ok(None),
        };
        let tree = repo_dir.join(&key);
        if !tree.is_dir() {
            return Ok(None);
        }
        let dir = match &uses.path {
            Some(path) => gantry_fs::confine(&tree, Path::new(path)).map_err(|_| {
                ActionsError::PathEscapes {
                    uses: uses.to_string(),
                }
            })?,
            None => tree,
        };
        Ok(Some(Resolved { dir, key, commit }))
    }

    /// Every ref in the store, by owner, repository and ref.
    pub fn list(&self) -> Result<Vec<Entry>, ActionsError> {
        let mut out = Vec::new();
        for owner in sorted_dirs(&self.root)? {
            for repo in sorted_dirs(&self.root.join(&owner))? {
                let path = self.root.join(&owner).join(&repo).join("refs.json");
                let Some(index) = Self::read_index(&path)? else {
                    continue;
                };
                for (reference, record) in index.refs {
                    out.push(Entry {
                        owner: owner.clone(),
                        repo: repo.clone(),
                        reference,
                        record,
                    });
                }
            }
        }
        Ok(out)
    }

    /// The `action.yml` (or `action.yaml`) of a resolved action, read and
    /// checked; `None` when the store does not have it or it is invalid.
    pub fn action(&self, uses: &RemoteUses) -> Option<Arc<gantry_workflow::Action>> {
        let dir = self.resolve(uses).ok()??.dir;
        let file = ["action.yml", "action.yaml"]
            .iter()
            .map(|f| dir.join(f))
            .find(|p| p.is_file())?;
        let parsed = gantry_workflow::check::read_action_file(
            &file,
            uses.to_string(),
            &gantry_workflow::ReadOptions::default(),
        );
        if parsed.has_errors() {
            return None;
        }
        parsed.value.map(Arc::new)
    }
}

/// `validate` checks `with:` against the store's `action.yml`s.
impl gantry_workflow::lint::ActionSource for ActionStore {
    fn action(&self, uses: &str) -> Option<Arc<gantry_workflow::Action>> {
        let uses = RemoteUses::parse(uses).ok()??;
        ActionStore::action(self, &uses)
    }
}

fn resolve(repo: &Repo, uses: &RemoteUses, described: &str) -> Result<String, ActionsError> {
    match repo.resolve(&uses.reference)? {
        Some(commit) => Ok(commit),
        None if is_full_sha(&uses.reference) => Err(ActionsError::NoSuchCommit {
            source_name: described.to_string(),
            reference: uses.reference.clone(),
        }),
        None => Err(ActionsError::UnknownRef {
            source_name: described.to_string(),
            reference: uses.reference.clone(),
        }),
    }
}

fn export(repo: &Repo, commit: &str, tree: &Path) -> Result<(), ActionsError> {
    fs::create_dir(tree).map_err(|source| ActionsError::Write {
        path: tree.to_path_buf(),
        source,
    })?;
    repo.export(commit, tree)
}

/// The folders in `dir` (none when it does not exist), leaving out
/// `.tmp` and other dot-folders.
fn sorted_dirs(dir: &Path) -> Result<Vec<String>, ActionsError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(ActionsError::Read {
                path: dir.to_path_buf(),
                source,
            });
        }
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| ActionsError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && entry.file_type().is_ok_and(|t| t.is_dir()) {
            out.push(name);
        }
    }
    out.sort();
    Ok(out)
}
